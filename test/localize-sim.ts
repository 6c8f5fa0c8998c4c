/**
 * The fault-localization scenario simulator: a real server (startServer, its store, alert
 * engine, localization module, webhook channel) fed with synthetic rounds through its ingest
 * as remote agents would send them, on a simulated clock, with scripted faults; notifications
 * are counted as real deliveries to a local webhook receiver. Shared by
 * test/localize-sim.test.ts and bench/localize-scenarios.ts.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pino from 'pino';
import { startReceiver, type Receiver } from '../src/alerts/notifiers/receiver.testkit.ts';
import type { AlertEvent } from '../src/alerts/notifiers/notifier.ts';
import { roundsAt, type Fault, type World } from '../src/localize/testkit.ts';
import { startServer, type RunningServer } from '../src/server/app.ts';
import type { LocalizeModule } from '../src/server/localize-module.ts';
import { writeSecret } from './agents-kit.ts';
import { waitFor } from './wait.ts';

/** One scripted scenario: faults relative to its start, how many steps it runs, then clean steps to recover. */
export interface Scenario {
  name: string;
  /** Faults, given the start of the scenario's first window (ms) and the step (ms). */
  faults: (start: number, stepMs: number) => Fault[];
  /** Steps from the scenario's start to its end (the fault and the recovery after it). */
  steps: number;
  /** Where the fault begins, in ms after the scenario's start (a few seconds into a window). */
  faultAt: number;
}

/** What one scenario gave. */
export interface ScenarioReport {
  name: string;
  /** Causes raised during the scenario: id, kind, confidence, steps from the fault's start (counting its window as step 0). */
  causes: { id: string; kind: string; confidence: string; afterSteps: number }[];
  /** Deliveries the webhook received, by kind: cause raised / cleared, target alerts (raised, cleared, firing). */
  sent: { causeRaised: number; causeCleared: number; targetRaised: number; targetCleared: number; targetFiring: number; total: number };
  /** Target alerts recorded as suppressed by a cause. */
  suppressed: number;
}

export interface SimOptions {
  world: World;
  scenarios: Scenario[];
  /** Clean steps before the first scenario (baselines learn). */
  warmup: number;
  /** With the localize scope (after) or without it (today's behaviour: per-series alerts only). */
  localize: boolean;
  /** Progress lines (the bench prints them). */
  progress?: (line: string) => void;
  /** More top-level config sections (YAML), e.g. `tasks:`. */
  extra?: string;
  /** More lines of the localize scope (YAML at its indentation), e.g. `routes:`. */
  scope?: string;
  /** More webhook notifiers: each name posts to the receiver at /<name>. */
  notifiers?: string[];
  /** The store section (YAML flow mapping); `{ synchronous: normal }` by default. */
  store?: string;
}

/** The config of the simulated deployment: agents with isp/province labels, VIPs with idc/vip/business. */
function configYaml(o: Pick<SimOptions, 'world' | 'localize' | 'extra' | 'scope' | 'notifiers' | 'store'>, dir: string, base: string): string {
  const hook = `${base}/hook`;
  const secret = writeSecret(dir, 'shared');
  const agents = o.world.agents.map((a) => `  - { name: ${a.name}, region: ${a.region}, secret_file: ${secret}, labels: { isp: ${a.labels.isp}, province: ${a.labels.province} } }`).join('\n');
  const idcs = [...new Set(o.world.targets.map((t) => t.labels.idc!))];
  const targets = idcs.map((idc) => `        ${idc}:\n          children:\n${o.world.targets.filter((t) => t.labels.idc === idc).map((t) => `            ${t.path.split('/').pop()}: { host: ${t.host}, labels: { idc: ${idc}, vip: "${t.labels.vip}", business: ${t.labels.business} } }`).join('\n')}`).join('\n');
  return `general:
  step: ${o.world.step}
  pings: ${o.world.pings}
  data_dir: ${join(dir, 'data')}
  agent_name: sim-server
store: ${o.store ?? '{ synchronous: normal }'}
agents:
${agents}
notifiers:
  hook: { type: webhook, url: "${hook}", retries: 5, backoff_ms: 200, timeout_ms: 20000 }
${(o.notifiers ?? []).map((n) => `  ${n}: { type: webhook, url: "${base}/${n}", retries: 5, backoff_ms: 200, timeout_ms: 20000 }\n`).join('')}alerts:
  to: hook
  lossy:
    type: loss
    pattern: ">50%,>50%,>50%"
    edgetrigger: yes
    comment: more than half of the pings lost for 3 rounds
  slow:
    type: matcher
    pattern: "Medratio(historic=>12,current=>3,comparator=>'>',percentage=>300)"
    edgetrigger: yes
    comment: the median tripled
targets:
  server_probes: false
  agents: none
  alerts: [lossy, slow]
  children:
    IDC:
      children:
${targets}
${o.localize ? `localize:
  scopes:
    - name: cdn
      title: provinces × ISPs → IDCs
      targets: { paths: [/IDC/**] }
      roles: { vantage: [isp, province], destination: [idc], item: vip }
      to: hook
${o.scope ?? ''}` : ''}${o.extra ?? ''}`;
}

/** A simulated deployment: the server, its receiver, and a function that feeds one step window. */
export interface SimServer {
  server: RunningServer;
  rx: Receiver;
  dir: string;
  /** Start of window 0 (ms). */
  start: number;
  /** Feeds window `i` (faults applied; only the rounds of agents `only` picks, when given), moves the clock to its end and runs the localization steps due. */
  step(i: number, faults: readonly Fault[], only?: (agent: string) => boolean): Promise<void>;
  rounds: number;
  /** Seconds each localization step took (the engine's step in the server, as /metrics reports it). */
  stepSeconds: number[];
  close(): Promise<void>;
}

/** Starts a server for the world on a simulated clock that begins `windows` steps before now (or at `start`, for several servers on one timeline). */
export async function startSim(o: Pick<SimOptions, 'world' | 'localize' | 'extra' | 'scope' | 'notifiers' | 'store'>, windows: number, start?: number): Promise<SimServer> {
  const dir = mkdtempSync(join(tmpdir(), 'smokemesh-localize-sim-'));
  mkdirSync(join(dir, 'data'), { recursive: true });
  const rx = await startReceiver();
  const stepMs = o.world.step * 1000;
  // The simulated timeline ends before the real now: the store takes rounds of the recent past.
  const T = start ?? (Math.floor(Date.now() / stepMs) - windows - 5) * stepMs;
  let now = T;
  const configFile = join(dir, 'smokemesh.yaml');
  writeFileSync(configFile, configYaml(o, dir, rx.base));
  let server: RunningServer;
  try {
    server = await startServer({ configFile, listen: '127.0.0.1:0', logger: pino({ level: 'error' }), clock: () => now });
  } catch (e) {
    await rx.close();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const localize = server.modules.find((m) => m.name === 'localize') as LocalizeModule;
  const sim: SimServer = {
    server, rx, dir, start: T, rounds: 0, stepSeconds: [],
    async step(i, faults, only) {
      // The noise by window number, not by time: T follows the real clock, the rounds must not.
      const batch = roundsAt(o.world, T + i * stepMs, faults, i).filter((r) => !only || only(r.agent));
      // accept commits to the store first and hands the rounds to the sinks after: await each batch.
      for (let k = 0; k < batch.length; k += 5000) await server.ingest.accept(batch.slice(k, k + 5000));
      await server.ingest.drain();
      sim.rounds += batch.length;
      now = T + (i + 1) * stepMs;
      localize.tick(now);
      const took = localize.service.list()[0]?.took;
      if (took !== undefined) sim.stepSeconds.push(took);
    },
    async close() {
      await server.close();
      await rx.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return sim;
}

/** Runs every scenario in turn on one server and one simulated timeline; returns a report per scenario. */
export async function simulate(o: SimOptions): Promise<{ reports: ScenarioReport[]; rounds: number; seconds: number; steps: number; stepSeconds: number[] }> {
  const stepMs = o.world.step * 1000;
  const total = o.warmup + o.scenarios.reduce((a, s) => a + s.steps, 0);
  const t0 = performance.now();
  const sim = await startSim(o, total);
  const { server, rx, dir } = sim;
  try {
    let i = 0;
    for (; i < o.warmup; i++) await sim.step(i, []);
    const spans: { s: Scenario; from: number; to: number; faultStart: number }[] = [];
    for (const s of o.scenarios) {
      const start = sim.start + i * stepMs;
      const faults = s.faults(start, stepMs);
      spans.push({ s, from: start, to: start + s.steps * stepMs, faultStart: start + s.faultAt });
      for (let j = 0; j < s.steps; j++, i++) await sim.step(i, faults);
      o.progress?.(`${s.name}: ${s.steps} steps done (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
    }
    // Every delivery made: nothing pending or held any more.
    // Generous: the run without localization sends hundreds of notifications, one by one, on a machine that may be loaded.
    let left = '';
    await waitFor('deliveries to settle', async () => {
      const r = (await (await fetch(`${server.url}/api/v1/alerts/deliveries?status=pending&limit=5000`)).json()) as unknown[];
      const h = (await (await fetch(`${server.url}/api/v1/alerts/deliveries?status=held&limit=5000`)).json()) as unknown[];
      left = `${r.length} pending, ${h.length} held, ${rx.requests.length} received`;
      return r.length === 0 && h.length === 0;
    }, 600_000, 500).catch((e: Error) => {
      throw new Error(`${e.message} (${left})`);
    });
    // A retried delivery may arrive twice: count each event once.
    const byId = new Map<string, AlertEvent>();
    for (const r of rx.requests) if (r.url === '/hook') byId.set((JSON.parse(r.body) as AlertEvent).id, JSON.parse(r.body) as AlertEvent);
    const events = [...byId.values()];
    const db = new Database(join(dir, 'data', 'alerts.sqlite'), { readonly: true });
    const suppressedIn = db.prepare(`SELECT COUNT(*) AS n FROM events WHERE muted_by LIKE 'cause:%' AND time >= ? AND time < ?`);
    const failed = (db.prepare(`SELECT COUNT(*) AS n FROM deliveries WHERE status = 'failed'`).get() as { n: number }).n;
    if (failed) o.progress?.(`WARNING: ${failed} deliveries failed (the counts below miss them)`);
    const reports = spans.map(({ s, from, to, faultStart }) => {
      const mine = events.filter((e) => e.time >= from && e.time < to);
      const faultWindow = Math.floor(faultStart / stepMs);
      const causes = mine.filter((e) => e.cause && e.state === 'raised').map((e) => ({
        id: e.cause!.id, kind: e.cause!.kind, confidence: e.cause!.confidence, afterSteps: Math.round(e.time / stepMs) - faultWindow,
      }));
      const count = (f: (e: AlertEvent) => boolean) => mine.filter(f).length;
      const sent = {
        causeRaised: count((e) => !!e.cause && e.state === 'raised'),
        causeCleared: count((e) => !!e.cause && e.state === 'cleared'),
        targetRaised: count((e) => !e.cause && e.state === 'raised'),
        targetCleared: count((e) => !e.cause && e.state === 'cleared'),
        targetFiring: count((e) => !e.cause && e.state === 'firing'),
        total: mine.length,
      };
      const suppressed = (suppressedIn.get(from, to) as { n: number }).n;
      return { name: s.name, causes, sent, suppressed };
    });
    db.close();
    return { reports, rounds: sim.rounds, seconds: (performance.now() - t0) / 1000, steps: i, stepSeconds: sim.stepSeconds };
  } finally {
    await sim.close();
  }
}


/** The scripted scenarios of the issue, in the order they run. `fault` steps long, `recover` clean steps after. */
export function issueScenarios(world: World, fault = 8, recover = 8): Scenario[] {
  const at = 17_000; // 17 s into the first window: some series see it one window later
  const agents = world.agents;
  const broken = agents[Math.floor(agents.length / 3)]!.name;
  const broken2 = agents[Math.floor((2 * agents.length) / 3) + 1]!.name;
  const cell = agents[7]!.labels;
  const isp = agents[0]!.labels.isp!;
  const idcs = [...new Set(world.targets.map((t) => t.labels.idc!))];
  const vip = world.targets[world.targets.length > 4 ? 3 : 0]!.labels.vip!;
  const flapVip = world.targets[world.targets.length - 2]!.labels.vip!;
  const during = (f: Omit<Fault, 'from' | 'to'>, steps = fault) => (start: number, stepMs: number): Fault[] => [{ ...f, from: start + at, to: start + at + steps * stepMs }];
  return [
    { name: 'one VIP down', faultAt: at, steps: fault + recover, faults: during({ name: 'vip', match: (_a, t) => t.labels.vip === vip, loss: 100 }) },
    { name: 'one IDC down', faultAt: at, steps: fault + recover, faults: during({ name: 'idc', match: (_a, t) => t.labels.idc === idcs[1], loss: 100 }) },
    { name: 'one ISP in one province degraded', faultAt: at, steps: fault + recover, faults: during({ name: 'cell', match: (a) => a.labels.isp === cell.isp && a.labels.province === cell.province, loss: 70 }) },
    { name: 'one ISP degraded nationwide', faultAt: at, steps: fault + recover, faults: during({ name: 'isp', match: (a) => a.labels.isp === isp, latency: 4 }) },
    { name: 'one agent broken', faultAt: at, steps: fault + recover, faults: during({ name: 'agent', match: (a) => a.name === broken, loss: 100 }) },
    {
      name: 'two unrelated faults at once', faultAt: at, steps: fault + recover,
      faults: (start, stepMs) => [
        ...during({ name: 'idc', match: (_a, t) => t.labels.idc === idcs[idcs.length - 1], loss: 100 })(start, stepMs),
        ...during({ name: 'agent', match: (a) => a.name === broken2, loss: 100 })(start, stepMs),
      ],
    },
    { name: 'a 1-minute glitch of a whole IDC', faultAt: at, steps: recover, faults: (start, stepMs) => [{ name: 'glitch', match: (_a, t) => t.labels.idc === idcs[0], loss: 100, from: start + at, to: start + at + stepMs }] },
    { name: 'a flapping VIP (4 bad, 2 good, ×5)', faultAt: at, steps: 30 + recover, faults: during({ name: 'flap', match: (_a, t) => t.labels.vip === flapVip, loss: 100, flap: { bad: 4, good: 2 } }, 30) },
    { name: 'a clean hour', faultAt: 0, steps: Math.round(3600 / world.step), faults: () => [] },
  ];
}
