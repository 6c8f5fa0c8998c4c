/**
 * The localization engine in the running server (the I/O edge around the pure step): keeps
 * the latest round of every series of its scopes (a round sink), runs one step per scope at
 * each of the scope's step boundaries, sends raised and cleared causes through the alert
 * channels with their evidence, persists the active causes and the engine's memory in the
 * alert database, and tells the alert engine which target alerts to hold and which a cause
 * explains (AlertGate). A raised cause asks for an evidence trace (mtr from one or two of its
 * affected agents toward one affected target, through the tasks module) and its notification
 * waits for it.
 */
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import type { Logger } from 'pino';
import { recipients } from '../alerts/config.ts';
import type { AlertDb } from '../alerts/db.ts';
import { ANY_AGENT, type AlertGate } from '../alerts/engine.ts';
import type { AlertEvent } from '../alerts/notifiers/notifier.ts';
import type { Config } from '../config/loader.ts';
import type { LocalizeScopeConfig } from '../config/localize-schema.ts';
import { probedTargets, type TargetNode } from '../config/tree.ts';
import { ConfigError } from '../errors.ts';
import type { RoundSink } from '../pipeline.ts';
import type { Round } from '../probes/round.ts';
import type { Store } from '../store/types.ts';
import type { TraceNote as TaskTraceNote, TraceRequest } from '../tasks/traces.ts';
import type { TraceNote } from '../alerts/cause.ts';
import { parseLocalize } from './config.ts';
import { lossOf } from './judge.ts';
import { LatestRounds, labelled } from './latest.ts';
import { memoOf } from './memory.ts';
import { coveringCause, raisedByGenerality } from './cover.ts';
import { decodeDigest, encodeDigest, mergeAgents, mergeLatest, type Digest } from './digest.ts';
import { decodeState, encodeState } from './persist.ts';
import { decodeCauses, encodeCauses, withTrace, type LocalizeShared, type SharedScopeState } from './shared.ts';
import { anyPath, destinationOf, labelsMatch, vantageOf } from './select.ts';
import { emptyState, step } from './step.ts';
import { traceChoice } from './trace.ts';
import { seriesKey, type Cause, type CauseEvent, type LocalizeAgent, type CauseMemo, type LocalizeState, type SeriesInput, type StepResult } from './types.ts';

/** An agent as the server lists it. */
export type { LocalizeAgent } from './types.ts';

export interface LocalizeDeps {
  config: Config;
  store: Store;
  db: AlertDb;
  /** The live target tree. */
  tree: () => TargetNode;
  agents: () => LocalizeAgent[];
  /** Sends a cause through the alert channels (AlertEngine.notifyExternal); `attach` holds its deliveries until it settles. */
  notify: (event: AlertEvent, to: string[], key: string, attach?: Promise<void>) => void;
  /** Runs a bounded trace as a task (TasksModule.trace: policy, limits, auto_trace); none: causes carry no trace. */
  trace?: (req: TraceRequest) => Promise<TaskTraceNote>;
  /** Called after every step (the alert engine settles its held notifications then). */
  afterStep?: (now: number) => void;
  log: Logger;
  now: () => number;
  /** A public URL of the UI, for links in notifications. */
  publicUrl?: string;
  /**
   * With several servers (`cluster:`): whether this server steps the scope now (src/localize/owner.ts).
   * A scope another server steps is not stepped here: no causes, no notifications; with
   * `shared`, its causes read from the shared database explain this server's series (the gate).
   */
  owns?: (scope: string) => boolean;
  /**
   * With several servers: the shared database (shared.ts). The owner of a scope steps it over
   * its own latest rounds and the digests the others send it, and changes the scope's causes
   * through the fence before it notifies; every other server sends the owner its digest once
   * per step.
   */
  shared?: LocalizeShared;
}

/** One scope at run time. */
interface Scope {
  config: LocalizeScopeConfig;
  /** Probed targets in the scope → their labels. */
  targets: Map<string, Record<string, string>>;
  /** Probed targets in the scope → their host (what a trace goes to). */
  hosts: Map<string, string>;
  stepMs: number;
  next: number;
  state: LocalizeState;
  last?: StepResult;
  /** Seconds the last step took. */
  took?: number;
  /** In a cluster: the version of the scope's shared state this server read or wrote last (undefined: unknown, adopt what is shared). */
  version?: number;
  /** In a cluster: when the owner's step runs (a little after the boundary, so the others' digests of that boundary are in). */
  due?: number;
  /** In a cluster: a shared step or a digest is on its way. */
  busy?: boolean;
  /** In a cluster: the others' digests the last step merged (the cell detail and the traces read them too). */
  remote?: Digest[];
  /** In a cluster: when the per-series memory was last shared. */
  memoryShared?: number;
  /** In a cluster, on a server that does not step the scope: its raised causes as last read, most general first (they explain this server's series). */
  elsewhere?: Cause[];
}

/** How often the engine's memory is written to the database (besides at close). */
const PERSIST_MS = 15 * 60 * 1000;
/** In a cluster, the owner steps this long after a boundary (at most; a quarter of a short step): the others' digests of the boundary arrive meanwhile. */
const DIGEST_WAIT_MS = 5000;
const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

export class LocalizeService implements RoundSink, AlertGate {
  readonly name = 'localize';
  private scopes = new Map<string, Scope>();
  private latest = new LatestRounds();
  private tree: TargetNode | undefined;
  private scoped = new Set<string>();
  private lastPersist = 0;
  private publicUrl: string | undefined;
  /** Evidence traces of raised causes (cause id → trace), shown with the cause until it clears. */
  private traces = new Map<string, TraceNote>();
  /** The agents as listed at the last shared read (explain() looks a series' labels up here). */
  private agentsNow = new Map<string, LocalizeAgent>();
  /** Shared steps and digests on their way (close and tests wait for them). */
  private inFlight = new Set<Promise<void>>();
  /** In a cluster: writes of a scope's causes refused by the fence (another server changed them first, or this one was not live). */
  readonly sharedStats = { written: 0, refused: 0, digests_sent: 0, digests_read: 0 };

  constructor(private deps: LocalizeDeps) {
    this.apply(deps.config);
    try {
      for (const r of deps.store.latest()) if (this.scoped.has(r.target)) this.latest.write(r);
    } catch (e) {
      deps.log.warn({ err: e }, 'latest rounds could not be read from the store; localization starts with the next rounds');
    }
  }

  /** Applies a config; scopes that stay keep their memory and causes. Throws ConfigError when the section is broken. */
  apply(config: Config): void {
    const { scopes, issues } = parseLocalize(config);
    if (issues.length) throw new ConfigError(issues);
    this.publicUrl = config.general.public_url;
    const next = new Map<string, Scope>();
    for (const c of scopes) {
      const old = this.scopes.get(c.name);
      const sameRoles = old && JSON.stringify(old.config.roles) === JSON.stringify(c.roles);
      next.set(c.name, { config: c, targets: new Map(), hosts: new Map(), stepMs: 60_000, next: old?.next ?? 0, state: sameRoles ? old.state : this.restore(c.name), ...(sameRoles && old.last ? { last: old.last } : {}) });
    }
    this.scopes = next;
    this.tree = undefined;
    this.index();
  }

  /** The evidence trace of a cause: what it found, or that it is still running. */
  traceOf(causeId: string): TraceNote | undefined {
    return this.traces.get(causeId);
  }

  /** Scopes as they run now (API, metrics). */
  list(): { config: LocalizeScopeConfig; stepMs: number; last?: StepResult; took?: number; targets: number }[] {
    this.index();
    return [...this.scopes.values()].map((s) => ({ config: s.config, stepMs: s.stepMs, targets: s.targets.size, ...(s.last ? { last: s.last } : {}), ...(s.took !== undefined ? { took: s.took } : {}) }));
  }

  /** The series of one matrix cell of a scope with their latest round and verdict (the API's cell detail). */
  cellSeries(scopeName: string, row: string, column: string): { target: string; agent: string; time: number; loss_pct: number; median: number | null; bad: boolean }[] {
    const s = this.scopes.get(scopeName);
    if (!s) return [];
    const roles = s.config.roles;
    const out = [];
    for (const x of this.inputs(s)) {
      if (vantageOf(roles, x).join(' / ') !== row || destinationOf(roles, x).join(' / ') !== column) continue;
      const memo = memoOf(s.state.series, x.key!);
      out.push({ target: x.target, agent: x.agent, time: x.time, loss_pct: lossOf(x), median: x.median, bad: !!memo && memo.bad !== false });
    }
    return out.sort((a, b) => a.target.localeCompare(b.target) || a.agent.localeCompare(b.agent));
  }

  write(rounds: readonly Round[]): void {
    this.index();
    for (const r of rounds) if (this.scoped.has(r.target)) this.latest.write(r);
  }

  /** Runs the steps that are due at `now` (a timer calls it every second; tests with their own clock). */
  tick(now = this.deps.now()): void {
    this.index();
    let stepped = false;
    const shared = this.deps.shared;
    for (const s of this.scopes.values()) {
      if (s.targets.size === 0) continue;
      if (shared && s.due !== undefined && now >= s.due && !s.busy) {
        s.due = undefined;
        if (!this.deps.owns || this.deps.owns(s.config.name)) this.track(s, this.stepShared(shared, s, now));
      }
      if (s.next === 0) s.next = (Math.floor(now / s.stepMs) + 1) * s.stepMs;
      if (now < s.next) continue;
      s.next = (Math.floor(now / s.stepMs) + 1) * s.stepMs;
      if (this.deps.owns && !this.deps.owns(s.config.name)) {
        // Another server steps it: what this one found last no longer holds or explains anything.
        delete s.last;
        delete s.remote;
        s.due = undefined;
        // Its causes may change there: read them again before stepping it here.
        delete s.version;
        if (shared && !s.busy) this.track(s, this.follow(shared, s, now));
        continue;
      }
      if (shared) {
        s.due = now + Math.min(DIGEST_WAIT_MS, s.stepMs / 4);
        continue;
      }
      try {
        this.run(s, now);
        stepped = true;
      } catch (e) {
        this.deps.log.error({ err: e, scope: s.config.name }, 'localization step failed; the next step tries again');
      }
    }
    if (stepped) {
      if (now - this.lastPersist >= PERSIST_MS) this.persist(now);
      this.deps.afterStep?.(now);
    }
  }

  holdMs(target: string, agent: string): number {
    for (const s of this.scopes.values()) {
      if (!s.config.hold_target_alerts || !s.targets.has(target) || !this.agentIn(s.config, agent)) continue;
      // A scope another server steps explains nothing here unless its causes are shared (then they do): holding would only delay the alert.
      if (!this.deps.shared && this.deps.owns && !this.deps.owns(s.config.name)) continue;
      return Math.round((s.config.raise_after + 1.5) * s.stepMs);
    }
    return 0;
  }

  explain(target: string, agent: string): { id: string } | undefined {
    const k = seriesKey(target, agent);
    for (const s of this.scopes.values()) {
      const id = s.last?.explain.get(k);
      if (id) return { id };
      if (!s.elsewhere?.length) continue;
      // Stepped by another server: the shared causes, by their keys.
      const labels = s.targets.get(target);
      const a = this.agentsNow.get(agent);
      if (!labels || !a || !this.agentIn(s.config, agent, a)) continue;
      const covering = coveringCause(s.elsewhere, s.config.roles, { target, agent, targetLabels: labels, agentLabels: a.labels, agentRegion: a.region });
      if (covering) return { id: covering };
    }
    return undefined;
  }

  /** Writes the engines' memory and causes to the database. */
  persist(now = this.deps.now()): void {
    this.lastPersist = now;
    for (const s of this.scopes.values()) {
      try {
        this.deps.db.saveLocalizeState(s.config.name, s.state.time, encodeState(s.state));
      } catch (e) {
        this.deps.log.warn({ err: e, scope: s.config.name }, 'localization memory could not be saved');
      }
    }
  }

  close(): void {
    this.persist();
  }

  /**
   * Before a clean stop, in a cluster: the per-series memory of the scopes this server steps
   * goes to the shared database (through the fence), so the next owner continues it as it is
   * now rather than as it was at the last periodic share.
   */
  async handOver(): Promise<void> {
    await this.settled();
    const shared = this.deps.shared;
    if (!shared) return;
    for (const s of this.scopes.values()) {
      if (s.version === undefined || !s.last || (this.deps.owns && !this.deps.owns(s.config.name))) continue;
      try {
        const w = await shared.write(s.config.name, s.version, s.state.time, encodeCauses(s.state.causes.values(), (id) => this.traces.get(id)), encodeState(s.state));
        if (w.ok) s.version = w.version;
      } catch (e) {
        this.deps.log.warn({ err: e, scope: s.config.name }, 'localization memory could not be shared before stopping; the next owner continues from the last periodic share');
      }
    }
  }

  /** Waits for the shared steps and digests on their way (close, tests). */
  async settled(): Promise<void> {
    while (this.inFlight.size) await Promise.all([...this.inFlight]);
  }

  /** Runs `work` for a scope, one at a time per scope; its failure is logged (the next step tries again). */
  private track(s: Scope, work: Promise<void>): void {
    s.busy = true;
    const p = work
      .catch((e: unknown) => this.deps.log.error({ err: e, scope: s.config.name }, 'localization: the shared database did not answer; the next step tries again'))
      .finally(() => {
        s.busy = false;
        this.inFlight.delete(p);
      });
    this.inFlight.add(p);
  }

  /**
   * On a server that does not step the scope: sends its owner this server's digest, then reads
   * the scope's raised causes, which explain the series whose target alerts this server
   * evaluates (held notifications are judged again at once).
   */
  private async follow(shared: LocalizeShared, s: Scope, now: number): Promise<void> {
    await this.publish(shared, s, now);
    const state = await shared.causes(s.config.name);
    if (this.scopes.get(s.config.name) !== s || !this.deps.owns || this.deps.owns(s.config.name)) return;
    try {
      s.elsewhere = raisedByGenerality(state ? [...decodeCauses(state.causes).causes.values()].map((m) => m.cause) : []);
    } catch (e) {
      this.deps.log.warn({ err: e, scope: s.config.name }, 'shared localization causes could not be read; they explain nothing here until the next step');
      delete s.elsewhere;
    }
    this.agentsNow = new Map(this.deps.agents().map((a) => [a.name, a]));
    this.deps.afterStep?.(now);
  }

  /** Sends the owner of a scope the latest rounds this server received for it (those not stale yet). */
  private async publish(shared: LocalizeShared, s: Scope, now: number): Promise<void> {
    const records = [];
    for (const x of this.latest.values()) {
      if (s.targets.has(x.target) && now - x.time <= (s.config.stale_steps + 1) * x.step * 1000) records.push(x);
    }
    const body = await gzipAsync(encodeDigest(records, this.deps.agents()));
    await shared.publish(s.config.name, now, body);
    this.sharedStats.digests_sent++;
  }

  /**
   * One step of a scope this server owns in a cluster: reads the others' digests and the
   * scope's shared state (adopting its causes when another server changed them), steps over
   * every server's latest rounds, and writes the new causes through the fence; only a write
   * that stands sends its events. A refused write drops them: the causes are read again at
   * the next step.
   */
  private async stepShared(shared: LocalizeShared, s: Scope, now: number): Promise<void> {
    const name = s.config.name;
    const adopt = s.version === undefined;
    const read = await shared.read(name, now - (s.config.stale_steps + 1) * s.stepMs, adopt);
    const remote: Digest[] = [];
    for (const d of read.digests) {
      if (d.sender === shared.server) continue;
      try {
        remote.push(decodeDigest(await gunzipAsync(d.body)));
      } catch (e) {
        this.deps.log.warn({ err: e, scope: name, sender: d.sender }, 'localization digest could not be read; its series are left out of this step');
      }
    }
    this.sharedStats.digests_read += remote.length;
    // A reload replaced the scope meanwhile, or it moved: the next step decides.
    if (this.scopes.get(name) !== s || (this.deps.owns && !this.deps.owns(name))) return;
    const readVersion = read.state?.version ?? 0;
    if (adopt || readVersion !== s.version) this.adoptShared(s, read.state);
    s.remote = remote;
    delete s.elsewhere;
    const before = s.state.causes.size;
    const { result, inputs } = this.stepOnce(s, now);
    const memory = now - (s.memoryShared ?? 0) >= PERSIST_MS ? encodeState(result.state) : undefined;
    if (result.events.length || before !== 0 || result.state.causes.size !== 0 || memory) {
      const w = await shared.write(name, readVersion, now, encodeCauses(result.state.causes.values(), (id) => this.traces.get(id)), memory);
      if (!w.ok) {
        this.sharedStats.refused++;
        delete s.version;
        this.deps.log.warn({ scope: name, why: w.why, owner: w.owner, dropped: result.events.map((e) => `${e.state} ${e.cause.id}`) },
          'localization: another server changed this scope\'s causes first (or this one is not live); its events are dropped and the causes read again');
        return;
      }
      this.sharedStats.written++;
      s.version = w.version;
      if (memory) s.memoryShared = now;
      this.saveCauses(s, result);
    } else {
      s.version = readVersion;
    }
    for (const e of result.events) this.send(s, e, inputs);
    if (result.events.length) this.deps.log.info({ scope: name, events: result.events.map((e) => `${e.state} ${e.cause.id}`), took_s: s.took, servers: remote.length + 1 }, 'localization step');
    if (now - this.lastPersist >= PERSIST_MS) this.persist(now);
    this.deps.afterStep?.(now);
  }

  /** Takes the scope's shared causes (and the shared per-series memory when newer than this server's) in place of what it held. */
  private adoptShared(s: Scope, shared: SharedScopeState | undefined): void {
    const prefix = `${s.config.name}/`;
    for (const id of [...this.traces.keys()]) if (id.startsWith(prefix)) this.traces.delete(id);
    let causes = new Map<string, CauseMemo>();
    if (shared) {
      try {
        const got = decodeCauses(shared.causes);
        causes = got.causes;
        for (const [id, t] of got.traces) this.traces.set(id, t);
      } catch (e) {
        this.deps.log.warn({ err: e, scope: s.config.name }, 'shared localization causes could not be read; the scope continues without them');
      }
    }
    let series = s.state.series;
    if (shared?.memory && shared.memory.time > s.state.time) {
      try {
        series = decodeState(shared.memory.state, shared.memory.time).series;
      } catch (e) {
        this.deps.log.warn({ err: e, scope: s.config.name }, 'shared localization memory could not be read; keeping this server\'s');
      }
    }
    s.state = { series, causes, time: Math.max(s.state.time, shared?.time ?? 0) };
    s.version = shared?.version ?? 0;
  }

  /** Steps the scope's engine once over its inputs now: its state, last result and time taken are kept. */
  private stepOnce(s: Scope, now: number): { result: ReturnType<typeof step>; inputs: SeriesInput[] } {
    const t0 = performance.now();
    const inputs = this.inputs(s);
    const result = step(s.config, inputs, s.state, now);
    s.state = result.state;
    s.last = result;
    s.took = (performance.now() - t0) / 1000;
    return { result, inputs };
  }

  /** One step of one scope: engine, causes saved, events sent. */
  private run(s: Scope, now: number): void {
    const { result, inputs } = this.stepOnce(s, now);
    if (result.events.length || result.causes.length || s.state.causes.size !== 0) this.saveCauses(s, result);
    for (const e of result.events) this.send(s, e, inputs);
    if (result.events.length) this.deps.log.info({ scope: s.config.name, events: result.events.map((e) => `${e.state} ${e.cause.id}`), took_s: s.took }, 'localization step');
  }

  /** Saves a scope's causes (with their traces) in this server's alert database. */
  private saveCauses(s: Scope, result: StepResult): void {
    this.deps.db.saveCauses(s.config.name, [...result.state.causes.values()].map((m) => ({ id: m.cause.id, body: JSON.stringify(withTrace(m, (id) => this.traces.get(id))) })));
  }

  /**
   * The engine's input: the latest round of each series of the scope (targets in it × agents
   * it selects) — the kept records themselves, labelled for this scope; valid until the next
   * round arrives (the step reads them at once). In a cluster, merged with the other servers'
   * digests (newest round per series; their agents' labels as the servers they push to know them).
   */
  private inputs(s: Scope): SeriesInput[] {
    const remote = s.remote ?? [];
    const agents = remote.length ? mergeAgents(this.deps.agents(), remote) : new Map(this.deps.agents().map((a) => [a.name, a]));
    const out: SeriesInput[] = [];
    for (const x of remote.length ? mergeLatest(this.latest.values(), remote) : this.latest.values()) {
      const labels = s.targets.get(x.target);
      if (!labels) continue;
      const a = agents.get(x.agent);
      if (!a || !this.agentIn(s.config, a.name, a)) continue;
      out.push(labelled(x, labels, a.labels, a.region));
    }
    return out;
  }

  private agentIn(c: LocalizeScopeConfig, name: string, known?: LocalizeAgent): boolean {
    const sel = c.agents;
    if (sel.names && !sel.names.includes(name)) return false;
    if (!sel.regions && !sel.labels) return true;
    const a = known ?? this.deps.agents().find((x) => x.name === name);
    if (!a) return false;
    if (sel.regions && !sel.regions.includes(a.region)) return false;
    return labelsMatch(sel.labels, { region: a.region, ...a.labels });
  }

  /** Rebuilds the scopes' target sets when the live tree changed. */
  private index(): void {
    const tree = this.deps.tree();
    if (tree === this.tree) return;
    this.tree = tree;
    this.scoped.clear();
    const probed = probedTargets(tree);
    for (const s of this.scopes.values()) {
      s.targets.clear();
      s.hosts.clear();
      let step = Infinity;
      const sel = s.config.targets;
      for (const n of probed) {
        if (sel.paths && !anyPath(sel.paths, n.path)) continue;
        if (sel.probes && !sel.probes.includes(n.probe.type)) continue;
        if (!labelsMatch(sel.labels, n.labels)) continue;
        s.targets.set(n.path, n.labels);
        s.hosts.set(n.path, n.probe.host);
        this.scoped.add(n.path);
        step = Math.min(step, n.probe.params.step);
      }
      s.stepMs = (Number.isFinite(step) ? step : 60) * 1000;
    }
    this.latest.retain((target) => this.scoped.has(target));
  }

  /** A scope's memory and causes as saved before a restart. */
  private restore(scope: string): LocalizeState {
    try {
      const saved = this.deps.db.loadLocalizeState(scope);
      const state = saved ? decodeState(saved.state, saved.time) : emptyState();
      for (const body of this.deps.db.loadCauses(scope)) {
        const { trace, ...m } = JSON.parse(body) as CauseMemo & { trace?: TraceNote };
        state.causes.set(m.cause.id, m);
        if (trace) this.traces.set(m.cause.id, trace);
      }
      return state;
    } catch (e) {
      this.deps.log.warn({ err: e, scope }, 'localization memory could not be read back; starting fresh');
      return emptyState();
    }
  }

  /** Sends a raised or cleared cause to the scope's recipients and the routes its affected labels match. */
  private send(s: Scope, e: CauseEvent, inputs: readonly SeriesInput[]): void {
    const c = s.config;
    if (e.state === 'cleared') this.traces.delete(e.cause.id);
    if (!notifies(c, e)) return;
    const to = recipients(c.to);
    for (const r of c.routes) {
      const matches = Object.entries(r.labels).every(([k, want]) => Object.keys(e.cause.affected[k] ?? {}).some((v) => (Array.isArray(want) ? want.includes(v) : want === v)));
      if (matches) to.push(...recipients(r.to));
    }
    const event = causeEvent(c, e, this.publicUrl);
    const attach = e.state === 'raised' ? this.evidenceTrace(s, e, event, inputs) : undefined;
    this.deps.notify(event, [...new Set(to)], `cause\u0000${e.cause.id}`, attach);
  }

  /**
   * Starts the evidence trace of a raised cause: mtr from up to `trace_agents` of its affected
   * agents toward the target most of its bad series go to, as a task (so the task policy, the
   * per-agent limits and tasks.auto_trace bound it). Resolves once the trace is attached to the
   * event and to the cause; never rejects.
   */
  private evidenceTrace(s: Scope, e: CauseEvent, event: AlertEvent, inputs: readonly SeriesInput[]): Promise<void> | undefined {
    const run = this.deps.trace;
    const explain = s.last?.explain;
    if (!run || !explain) return undefined;
    const choice = traceChoice(e.cause.id, explain, inputs, s.config.roles, s.config.trace_agents);
    const host = choice && s.hosts.get(choice.target);
    if (!choice || !host) return undefined;
    const id = e.cause.id;
    const pending: TraceNote = { summary: 'trace running', changes: [], target: choice.target, agents: choice.agents };
    this.traces.set(id, pending);
    return run({
      key: `cause\u0000${id}`, target: choice.target, host, agents: choice.agents,
      reason: `cause ${e.cause.title} raised in scope ${s.config.name}`,
    }).then((note) => {
      const trace: TraceNote = { summary: note.summary, changes: note.changes, target: choice.target, agents: choice.agents };
      if (note.task) {
        trace.task = note.task;
        if (this.publicUrl) trace.url = `${this.publicUrl.replace(/\/$/, '')}/#/tasks?id=${note.task}`;
      }
      event.trace = trace;
      event.cause = { ...event.cause!, trace };
      if (this.traces.get(id) === pending) this.traces.set(id, trace);
    }, (err: unknown) => {
      this.deps.log.warn({ err, cause: id }, 'evidence trace failed; the cause is sent without it');
      if (this.traces.get(id) === pending) this.traces.delete(id);
    });
  }
}

/**
 * Whether a cause event is sent: a raise, an escalation (suspected → confirmed, degraded →
 * down: one update, not a second raise), a clear when notify_clear. A de-escalation only
 * changes the cause (API, page, log); the clear that follows is what the receiver needs.
 */
export function notifies(c: LocalizeScopeConfig, e: CauseEvent): boolean {
  if (e.state === 'cleared') return c.notify_clear;
  if (e.state === 'updated') return e.cause.confidence === 'confirmed';
  return true;
}

/** The alert event of a cause: agent "*", the cause's id as its path, its key as labels, the evidence attached. */
export function causeEvent(c: LocalizeScopeConfig, e: CauseEvent, publicUrl?: string): AlertEvent {
  const cause: Cause = e.cause;
  const event: AlertEvent = {
    version: 1,
    id: randomUUID(),
    state: e.state,
    alert: { name: `${c.name}.${cause.kind}`, type: 'localize', comment: c.comment || c.title || `fault localization scope ${c.name}`, edgetrigger: true },
    target: {
      path: cause.id,
      dotted: `${c.name}: ${cause.title} (${cause.confidence}${e.from ? `, was ${e.from}` : ''})`,
      host: '',
      title: cause.title,
      // Not the confidence: it changes while the cause stays one alert (escalation), and labels name an alert.
      labels: { scope: c.name, kind: cause.kind, ...cause.key },
    },
    agent: ANY_AGENT,
    time: e.time,
    loss: [cause.loss_pct === null ? 'U' : `${Math.round(cause.loss_pct)}%`],
    rtt: [cause.median === null ? 'U' : `${Math.round(cause.median)}ms`],
    recipients: [],
    cause,
  };
  if (publicUrl) event.url = `${publicUrl.replace(/\/$/, '')}/#/localize/${encodeURIComponent(c.name)}?cause=${encodeURIComponent(cause.id)}`;
  return event;
}
