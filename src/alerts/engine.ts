/**
 * The alert engine: a RoundSink that evaluates each series (target × agent) right after its
 * round is stored, turns outcomes into AlertEvents, applies silences and hands deliveries
 * to the outbox (recorded, then sent, muted or held for a verdict). History lives in memory,
 * seeded from the store the first time a series is seen; match counters are persisted so that
 * a restart neither repeats a raise nor loses a clear. Alerts with a quorum (and certificate
 * alerts) notify per target once enough agents match; alerts of series that a localization
 * scope judges, or of targets that depend on another, wait for the verdict (src/alerts/held.ts).
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { RoundSink } from '../pipeline.ts';
import { lossPct, type Round } from '../probes/round.ts';
import type { Config } from '../config/loader.ts';
import { walk, type TargetNode } from '../config/tree.ts';
import { seriesKey, type SeriesPoint, type Store } from '../store/types.ts';
import { recipients, type AlertRule, type AlertsSetup } from './config.ts';
import type { ActiveRow, AlertDb, Silence } from './db.ts';
import type { Channel, Dispatcher } from './dispatcher.ts';
import { evaluateRules, formatHistory, newHistory, orderRules, pushRound, trimHistory, type Outcome, type SeriesState } from './evaluate.ts';
import type { HeldItem, MutedBy } from './held.ts';
import type { HistoryValue } from './pattern.ts';
import { NOTIFIER_KINDS } from './notifiers/index.ts';
import type { AlertEvent } from './notifiers/notifier.ts';
import { Outbox, type Prepared } from './outbox.ts';
import { quorum, type QuorumVerdict } from './quorum.ts';
import { silenceMatches } from './silences.ts';

/**
 * A localization engine's say on a series (src/localize/): how long a notification of it should
 * wait for a verdict, and which active cause explains it. Set by the server; none by default.
 */
export interface AlertGate {
  holdMs(target: string, agent: string): number;
  explain(target: string, agent: string): { id: string } | undefined;
}

interface TargetAlerts {
  node: TargetNode;
  rules: AlertRule[];
  /** History length the target keeps: the longest of its alerts. */
  cap: number;
}

export interface EngineOptions {
  store: Store;
  db: AlertDb;
  dispatcher: Dispatcher;
  log: Logger;
  builtinAgent: string;
  /**
   * Told of every event before it is delivered. A returned promise holds the deliveries until it
   * settles (bounded by the hook), so the hook can add to the event: a path trace.
   */
  onEvent?: (event: AlertEvent, rule: AlertRule) => Promise<void> | undefined;
  /** The server's clock (ms); Date.now by default. */
  now?: () => number;
  /** An agent's region (quorum regions); unknown agents count as region "default". */
  regionOf?: (agent: string) => string | undefined;
  /**
   * A cluster's per-series fence (src/cluster/fence.ts): given each batch's counter changes (saved
   * locally already) and the notifications they caused, it writes the changes to the shared
   * database and calls `accept`, maybe later, with the notifications that stand; only those are
   * recorded and sent. Without it, every notification stands at once.
   */
  fence?: (changes: readonly ActiveRow[], fired: readonly Prepared[], accept: (fired: Prepared[]) => void) => void;
}

const key = seriesKey;

/** Series read back by warm-up chunk (one Store.rawRounds call each). */
const WARM_CHUNK = 500;

/** A series the engine has no state for yet, and the time its history ends (exclusive). */
interface Unseen {
  target: string;
  agent: string;
  stepS: number;
  before: number;
  t: TargetAlerts;
}

/** Where a series' read-back history starts: the rule window's rounds and one more, half a step early. */
function historyFrom(before: number, stepS: number, cap: number): number {
  const step = stepS * 1000;
  return before - (cap + 1) * step - step / 2;
}
/** The agent of target-level notifications (quorum, certificates, causes). */
export const ANY_AGENT = '*';
/** A series is counted in a quorum while its latest round is at most this many steps old. */
const QUORUM_FRESH_STEPS = 3;

export class AlertEngine implements RoundSink {
  readonly name = 'alerts';
  private series = new Map<string, SeriesState>();
  private targets = new Map<string, TargetAlerts>();
  private setup!: AlertsSetup;
  private publicUrl: string | undefined;
  /** Counters loaded at start, handed to a series when it is first seen. */
  private saved = new Map<string, Map<string, { prevmatch: number; since: number }>>();
  private since = new Map<string, number>();
  private firstSeen: Map<string, number> | undefined;
  private silenceCache: Silence[];
  private stopped = false;
  private outbox: Outbox;
  private gate: AlertGate | undefined;
  private readonly now: () => number;
  /** Agents reporting on each target (quorum voters, parents of dependent targets). */
  private agentsOf = new Map<string, Set<string>>();
  /** Target-level raised state of quorum alerts: target\0alert → since. */
  private quorumRaised = new Map<string, number>();

  /** `tree` is the live target tree (the config's own plus mesh targets); default the config's. */
  constructor(private opts: EngineOptions, config: Config, setup: AlertsSetup, tree: TargetNode = config.targets) {
    this.now = opts.now ?? Date.now;
    this.outbox = new Outbox(opts.db, opts.dispatcher, opts.log);
    for (const row of opts.db.loadCounters()) {
      if (row.agent === ANY_AGENT) {
        this.quorumRaised.set(`${row.target}\u0000${row.alert}`, row.since);
        continue;
      }
      const k = key(row.target, row.agent);
      if (!this.saved.has(k)) this.saved.set(k, new Map());
      this.saved.get(k)!.set(row.alert, { prevmatch: row.prevmatch, since: row.since });
    }
    this.silenceCache = opts.db.silences();
    this.apply(config, setup, tree);
  }

  /**
   * Applies a new config or live tree: rules, targets and channels; keeps histories and
   * counters of alerts that remain.
   */
  apply(config: Config, setup: AlertsSetup, tree: TargetNode = config.targets): void {
    this.setup = setup;
    this.publicUrl = config.general.public_url;
    this.targets.clear();
    for (const node of walk(tree)) {
      if (!node.probe || node.alerts.length === 0) continue;
      const rules = orderRules(node.alerts.map((a) => setup.rules.get(a)).filter((r): r is AlertRule => r !== undefined));
      if (rules.length) this.targets.set(node.path, { node, rules, cap: Math.max(...rules.map((r) => r.length)) });
    }
    const changes: ActiveRow[] = [];
    for (const [k, s] of this.series) {
      const [target, agent] = k.split('\u0000') as [string, string];
      const t = this.targets.get(target);
      if (!t) {
        for (const alert of s.counters.keys()) changes.push({ target, agent, alert, prevmatch: 0, since: 0 });
        this.series.delete(k);
        continue;
      }
      trimHistory(s.history, t.cap);
      for (const alert of [...s.counters.keys()]) {
        if (!t.rules.some((r) => r.name === alert)) {
          s.counters.delete(alert);
          changes.push({ target, agent, alert, prevmatch: 0, since: 0 });
        }
      }
    }
    for (const qk of [...this.quorumRaised.keys()]) {
      const [target, alert] = qk.split('\u0000') as [string, string];
      if (this.targets.get(target)?.rules.some((r) => r.name === alert && r.quorum)) continue;
      this.quorumRaised.delete(qk);
      changes.push({ target, agent: ANY_AGENT, alert, prevmatch: 0, since: 0 });
    }
    if (changes.length) this.saveCounters(changes);
    this.opts.dispatcher.setChannels(this.buildChannels(tree));
  }

  private saveCounters(changes: ActiveRow[]): void {
    this.opts.db.saveCounters(changes);
    this.opts.fence?.(changes, [], () => {});
  }

  /** Records and sends a batch's notifications: at once, or those the cluster's fence lets stand. */
  private notify(changes: ActiveRow[], fired: Prepared[]): void {
    if (!this.opts.fence) {
      if (fired.length) this.outbox.submit(fired);
      return;
    }
    this.opts.fence(changes, fired, (standing) => {
      try {
        if (standing.length) this.outbox.submit(standing);
        this.release();
      } catch (e) {
        this.opts.log.error({ err: e }, 'alert notifications could not be recorded');
      }
    });
  }

  /**
   * The key a cluster assigns a round's series by (src/cluster/hrw.ts): the series
   * (target × agent), or the target alone when one of its alerts has a quorum (its agents' series
   * must then be evaluated together). Undefined: the target has no alert (nothing to evaluate).
   */
  ownershipKey(target: string, agent: string): string | undefined {
    const t = this.targets.get(target);
    if (!t) return undefined;
    return t.rules.some((r) => r.quorum) ? key(target, ANY_AGENT) : key(target, agent);
  }

  /** Ownership keys whose state this engine holds: series in memory and counters loaded but not yet used. */
  heldKeys(): string[] {
    const out = new Set<string>();
    for (const k of [...this.series.keys(), ...this.saved.keys()]) {
      const [target, agent] = k.split('\u0000') as [string, string];
      out.add(this.ownershipKey(target, agent) ?? k);
    }
    for (const qk of this.quorumRaised.keys()) out.add(key(qk.split('\u0000')[0]!, ANY_AGENT));
    return [...out];
  }

  /**
   * Forgets the state of the series under these ownership keys (another server evaluates them
   * now and continues from the shared state); nothing is saved or notified.
   */
  forget(keys: Iterable<string>): void {
    const gone = new Set(keys);
    const owned = (k: string) => {
      const [target, agent] = k.split('\u0000') as [string, string];
      return !gone.has(this.ownershipKey(target, agent) ?? k);
    };
    for (const k of [...this.series.keys()]) if (!owned(k)) this.series.delete(k);
    for (const k of [...this.saved.keys()]) if (!owned(k)) this.saved.delete(k);
    for (const sk of [...this.since.keys()]) {
      const [target, agent] = sk.split('\u0000') as [string, string];
      if (!owned(key(target, agent))) this.since.delete(sk);
    }
    for (const qk of [...this.quorumRaised.keys()]) if (gone.has(key(qk.split('\u0000')[0]!, ANY_AGENT))) this.quorumRaised.delete(qk);
  }

  /**
   * Takes over series from the shared state: their counters as saved by the previous owner,
   * used when their next round arrives (the history is read back from the store then). Series
   * already in memory keep their own state.
   */
  adopt(rows: readonly ActiveRow[]): void {
    for (const row of rows) {
      if (row.agent === ANY_AGENT) {
        this.quorumRaised.set(`${row.target}\u0000${row.alert}`, row.since);
        continue;
      }
      const k = key(row.target, row.agent);
      if (this.series.has(k)) continue;
      if (!this.saved.has(k)) this.saved.set(k, new Map());
      this.saved.get(k)!.set(row.alert, { prevmatch: row.prevmatch, since: row.since });
    }
  }

  /** Connects a localization engine (or disconnects it with undefined). */
  setGate(gate: AlertGate | undefined): void {
    this.gate = gate;
  }

  /** Notifications waiting for a verdict. */
  heldCount(): number {
    return this.outbox.heldCount;
  }

  /** Settles the held notifications that can be settled at `now` (the server calls it every second and after each localization step). */
  release(now = this.now()): void {
    try {
      this.outbox.release(now, (item) => this.why(item));
    } catch (e) {
      this.opts.log.error({ err: e }, 'held alerts could not be settled');
    }
  }

  /**
   * Records and sends a notification built elsewhere (a localization cause), routed to the
   * given recipients like a target's alert and subject to silences.
   */
  notifyExternal(event: AlertEvent, to: readonly string[], key: string, attach?: Promise<void>): void {
    const { channels, addresses } = this.routeList(to);
    event.recipients = addresses;
    const silence = this.silenceCache.find((s) => silenceMatches(s, { target: event.target.path, agent: event.agent, alert: event.alert.name, labels: event.target.labels, time: this.now() }));
    this.outbox.submit([{
      event, key, agents: [], holdMs: 0, dependsWaitMs: 0,
      channels: channels.map((name) => ({ name, kind: this.opts.dispatcher.channel(name)?.notifier.kind ?? 'unknown' })),
      mutedBy: silence ? silence.id : null, status: silence ? 'silenced' : 'pending',
      ...(attach ? { attach } : {}),
    }]);
  }

  /** Why a held notification must not be sent: a cause explaining its series, or its parent's active alert. */
  private why(item: HeldItem): MutedBy | undefined {
    if (this.gate && item.agents.length) {
      let cause: string | undefined;
      for (const agent of item.agents) {
        const c = this.gate.explain(item.target, agent);
        if (!c) {
          cause = undefined;
          break;
        }
        cause ??= c.id;
      }
      if (cause) return `cause:${cause}`;
    }
    if (item.dependsOn && this.targetActive(item.dependsOn)) return `depends_on:${item.dependsOn}`;
    return undefined;
  }

  /** Whether any alert of the target is raised (on any series, or at the target level). */
  private targetActive(target: string): boolean {
    for (const agent of this.agentsOf.get(target) ?? []) {
      const s = this.series.get(key(target, agent));
      if (s && (s.counters.size > 0 || s.holds.size > 0)) return true;
    }
    for (const qk of this.quorumRaised.keys()) if (qk.startsWith(`${target}\u0000`)) return true;
    return false;
  }

  write(rounds: readonly Round[]): void {
    const changes: ActiveRow[] = [];
    const fired: Prepared[] = [];
    const quorumTouched = new Map<string, { round: Round; t: TargetAlerts; rule: AlertRule; state: SeriesState }>();
    // Series new to the engine (after a start or a handover): their histories in one read, each
    // from before its first round in this batch.
    const unseen = new Map<string, Unseen>();
    for (const round of rounds) {
      const t = this.targets.get(round.target);
      if (!t) continue;
      const k = key(round.target, round.agent);
      if (!this.series.has(k) && !unseen.has(k)) unseen.set(k, { target: round.target, agent: round.agent, stepS: round.step, before: round.time, t });
    }
    if (unseen.size > 1) this.seedMany([...unseen.values()]);
    for (const round of rounds) {
      const t = this.targets.get(round.target);
      if (!t) continue;
      try {
        const k = key(round.target, round.agent);
        const state = this.series.get(k) ?? this.seed(round.target, round.agent, round.step, round.time, t);
        if (round.time <= state.last) continue;
        state.last = round.time;
        let agents = this.agentsOf.get(round.target);
        if (!agents) this.agentsOf.set(round.target, (agents = new Set()));
        agents.add(round.agent);
        if (round.cert_expiry !== undefined) state.certDays = (round.cert_expiry * 1000 - round.time) / 86_400_000;
        pushRound(state.history, t.cap, lossPct(round), round.median);
        if (state.resumed) {
          if (state.history.loss.length < t.cap) continue;
          state.resumed = false;
        }
        const { outcomes, changed } = evaluateRules(state, t.rules);
        for (const alert of new Set(changed)) {
          const counter = state.counters.get(alert) ?? 0;
          // Held raised by hold_down: kept as a negative count of the clean rounds seen.
          const prevmatch = counter > 0 ? counter : state.holds.has(alert) ? -state.holds.get(alert)! : 0;
          const sk = `${k}\u0000${alert}`;
          if (prevmatch === 0) this.since.delete(sk);
          else if (!this.since.has(sk)) this.since.set(sk, round.time);
          changes.push({ target: round.target, agent: round.agent, alert, prevmatch, since: this.since.get(sk) ?? round.time });
        }
        for (const rule of t.rules) if (rule.quorum) quorumTouched.set(`${round.target}\u0000${rule.name}`, { round, t, rule, state });
        for (const outcome of outcomes) {
          if (outcome.rule.quorum) continue; // notified per target below
          fired.push(this.hook(this.prepare(round.target, round.agent, round.time, t, outcome.rule, outcome.state, state, outcome.suppressed ? 'priority' : null), outcome.rule));
        }
      } catch (e) {
        this.opts.log.error({ err: e, target: round.target, agent: round.agent }, 'alert evaluation failed for this round');
      }
    }
    for (const [qk, q] of quorumTouched) {
      try {
        const verdict = this.verdict(q.round.target, q.rule.name, q.t, q.round.time);
        const was = this.quorumRaised.has(qk);
        if (verdict.met === was) continue;
        if (verdict.met) this.quorumRaised.set(qk, q.round.time);
        else this.quorumRaised.delete(qk);
        changes.push({ target: q.round.target, agent: ANY_AGENT, alert: q.rule.name, prevmatch: verdict.met ? 1 : 0, since: q.round.time });
        const p = this.prepare(q.round.target, ANY_AGENT, q.round.time, q.t, q.rule, verdict.met ? 'raised' : 'cleared', q.state, null);
        p.event.quorum = { matching: verdict.matching, total: verdict.total, regions: verdict.regions, need: verdict.need };
        p.agents = verdict.met ? verdict.matching : [];
        // In a localization scope the target's notification waits for the verdict like a series' would.
        p.holdMs = Math.max(0, ...p.agents.map((a) => this.gate?.holdMs(q.round.target, a) ?? 0));
        fired.push(this.hook(p, q.rule));
      } catch (e) {
        this.opts.log.error({ err: e, target: q.round.target, alert: q.rule.name }, 'quorum evaluation failed');
      }
    }
    try {
      if (changes.length) this.opts.db.saveCounters(changes);
      if (changes.length || fired.length) this.notify(changes, fired);
    } catch (e) {
      this.opts.log.error({ err: e }, 'alert state could not be saved');
    }
    this.release();
  }

  /**
   * Tells the event hook of a notification (complete: quorum agents included); what it returns
   * holds the deliveries until it settles. A hook that throws does not stop the notification.
   */
  private hook(p: Prepared, rule: AlertRule): Prepared {
    try {
      const attach = this.opts.onEvent?.(p.event, rule);
      if (attach) p.attach = attach;
    } catch (err) {
      this.opts.log.error({ err, alert: rule.name, target: p.event.target.path }, 'alert event hook failed; delivering without it');
    }
    return p;
  }

  /** The quorum of one target's alert now: its agents' series with a fresh round vote. */
  private verdict(target: string, alert: string, t: TargetAlerts, time: number): QuorumVerdict {
    const rule = this.setup.rules.get(alert)!;
    const stepMs = (t.node.probe?.params.step ?? 60) * 1000;
    const voters = [];
    for (const agent of this.agentsOf.get(target) ?? []) {
      const s = this.series.get(key(target, agent));
      if (!s || time - s.last > QUORUM_FRESH_STEPS * stepMs) continue;
      voters.push({ agent, region: this.opts.regionOf?.(agent) ?? 'default', matching: (s.counters.get(alert) ?? 0) > 0 || s.holds.has(alert) });
    }
    return quorum(rule.quorum!, voters);
  }

  /** Active alerts: every series × alert whose counter is non-zero (negative: held raised by hold_down), and quorum alerts raised per target (agent "*"). */
  active(): { target: string; agent: string; alert: string; prevmatch: number; since: number; edgetrigger: boolean }[] {
    return this.opts.db.loadCounters().map((r) => ({
      ...r,
      edgetrigger: this.setup.rules.get(r.alert)?.edgetrigger ?? false,
    }));
  }

  rules(): AlertRule[] {
    return [...this.setup.rules.values()];
  }

  /** Re-reads the silences after the API changed them. */
  refreshSilences(): void {
    this.silenceCache = this.opts.db.silences();
  }

  /** The history of a series (for the API and tests). */
  history(target: string, agent: string): { loss: HistoryValue[]; rtt: HistoryValue[] } | undefined {
    return this.series.get(key(target, agent))?.history;
  }

  /**
   * Reads back the history of every stored series that has alerts, a few hundred per event
   * loop turn, so that the first round after a start finds it ready. Series whose round
   * arrives first are seeded on the spot instead.
   */
  async warm(): Promise<number> {
    let n = 0;
    try {
      const list = this.opts.store.list();
      this.firstSeen = new Map(list.map((s) => [key(s.target, s.agent), s.first]));
      const wanted: Unseen[] = [];
      for (const s of list) {
        const t = this.targets.get(s.target);
        if (t?.node.probe) wanted.push({ target: s.target, agent: s.agent, stepS: t.node.probe.params.step, before: s.last + 1, t });
      }
      for (let i = 0; i < wanted.length && !this.stopped; i += WARM_CHUNK) {
        // Series whose round arrived meanwhile were seeded by write().
        const chunk = wanted.slice(i, i + WARM_CHUNK).filter((u) => !this.series.has(key(u.target, u.agent)));
        this.seedMany(chunk);
        n += chunk.length;
        await new Promise((r) => setImmediate(r));
      }
    } catch (e) {
      this.opts.log.warn({ err: e }, 'alert histories could not be read from the store; they start with the next rounds');
    }
    return n;
  }

  /** Stops the warm-up. */
  stop(): void {
    this.stopped = true;
  }

  /**
   * Creates the states of several series at once, their histories read back in one
   * Store.rawRounds call (one round trip on a remote store instead of one per series).
   */
  private seedMany(list: readonly Unseen[]): void {
    if (!list.length) return;
    const reads = list.map((u) => ({ target: u.target, agent: u.agent, from: historyFrom(u.before, u.stepS, u.t.cap), to: u.before - 1 }));
    let read: Map<string, SeriesPoint[]> | undefined;
    try {
      read = this.opts.store.rawRounds(reads);
    } catch (e) {
      this.opts.log.warn({ err: e, series: list.length }, 'alert histories could not be read from the store; these series start fresh');
    }
    list.forEach((u) => this.seed(u.target, u.agent, u.stepS, u.before, u.t, read?.get(seriesKey(u.target, u.agent)) ?? []));
  }

  /**
   * Creates a series' state: saved counters, and its history read back from rounds stored
   * before `before` (or from `known`, those rounds already read by seedMany).
   */
  private seed(target: string, agent: string, stepS: number, before: number, t: TargetAlerts, known?: readonly SeriesPoint[]): SeriesState {
    const k = key(target, agent);
    const counters = new Map<string, number>();
    for (const [alert, v] of this.saved.get(k) ?? []) {
      if (t.rules.some((r) => r.name === alert)) {
        counters.set(alert, v.prevmatch);
        this.since.set(`${k}\u0000${alert}`, v.since);
      }
    }
    this.saved.delete(k);
    const holds = new Map<string, number>();
    for (const [alert, n] of [...counters]) {
      if (n >= 0) continue;
      counters.delete(alert);
      holds.set(alert, -n);
    }
    const state: SeriesState = { history: newHistory(), counters, holds, last: -Infinity };
    if (counters.size || holds.size) state.resumed = true;
    try {
      const from = historyFrom(before, stepS, t.cap);
      let points = known;
      if (!points) {
        const res = this.opts.store.series({ target, agent, from, to: before - 1 });
        points = res.tier === 'raw' ? res.points.filter((p) => p.time < before) : [];
      }
      if (points.length) {
        const first = this.first(k);
        const startedInWindow = first !== undefined && first >= from;
        const history = state.history;
        history.loss = startedInWindow ? ['S'] : [];
        history.rtt = startedInWindow ? ['S'] : [];
        for (const p of points) {
          history.loss.push(p.loss_pct ?? 100);
          history.rtt.push(p.median);
        }
        trimHistory(history, t.cap);
        state.last = points[points.length - 1]!.time;
      }
    } catch (e) {
      this.opts.log.warn({ err: e, target, agent }, 'alert history could not be read from the store; starting fresh');
    }
    this.series.set(k, state);
    return state;
  }

  private first(k: string): number | undefined {
    if (!this.firstSeen) {
      this.firstSeen = new Map();
      for (const s of this.opts.store.list()) this.firstSeen.set(key(s.target, s.agent), s.first);
    }
    return this.firstSeen.get(k);
  }

  /** Channel names an alert of a target goes to, and the mail addresses among its recipients. */
  private route(t: TargetAlerts, rule: AlertRule): { channels: string[]; addresses: string[] } {
    return this.routeList([...this.setup.to, ...recipients(t.node.alertee), ...rule.to]);
  }

  /** Channels and mail addresses of a recipient list. */
  private routeList(list: readonly string[]): { channels: string[]; addresses: string[] } {
    const channels = new Set<string>();
    const addresses: string[] = [];
    for (const r of list) {
      if (r.startsWith('|')) channels.add(r);
      else if (this.setup.channels.has(r)) channels.add(r);
      else if (r.includes('@')) {
        addresses.push(r.replace(/^mailto:/, ''));
        if (this.setup.mailChannel) channels.add(this.setup.mailChannel);
      }
    }
    return { channels: [...channels], addresses: [...new Set(addresses)] };
  }

  /** Builds the notification of an outcome: its event, channels, and whether a silence or priority mutes it. */
  private prepare(target: string, agent: string, time: number, t: TargetAlerts, rule: AlertRule, what: Outcome['state'], state: SeriesState, muted: 'priority' | null): Prepared {
    const { channels, addresses } = this.route(t, rule);
    const { loss, rtt } = formatHistory(state.history);
    const from = agent === this.opts.builtinAgent || agent === ANY_AGENT ? '' : ` [from ${agent}]`;
    const event: AlertEvent = {
      version: 1,
      id: randomUUID(),
      state: what,
      alert: { name: rule.name, type: rule.type, pattern: rule.pattern, comment: rule.comment, edgetrigger: rule.edgetrigger || !!rule.quorum },
      target: { path: target, dotted: target.replace(/^\//, '').replace(/\//g, '.') + from, host: t.node.probe?.host ?? '', title: t.node.title, labels: t.node.labels },
      agent,
      time,
      loss,
      rtt,
      recipients: addresses,
    };
    if (rule.priority !== undefined) event.alert.priority = rule.priority;
    if (rule.mailtemplate) event.alert.mailtemplate = rule.mailtemplate;
    if (this.publicUrl) event.url = `${this.publicUrl.replace(/\/$/, '')}/?target=${encodeURIComponent(target)}`;
    const silence = muted ? undefined : this.silenceCache.find((s) => silenceMatches(s, {
      target, agent, alert: rule.name, labels: t.node.labels, time: this.now(),
    }));
    const stepMs = (t.node.probe?.params.step ?? 60) * 1000;
    const p: Prepared = {
      event,
      channels: channels.map((name) => ({ name, kind: this.opts.dispatcher.channel(name)?.notifier.kind ?? 'unknown' })),
      mutedBy: muted ?? (silence ? silence.id : null),
      status: muted ? 'suppressed' : silence ? 'silenced' : 'pending',
      key: `${key(target, agent)}\u0000${rule.name}`,
      agents: agent === ANY_AGENT ? [] : [agent],
      holdMs: agent === ANY_AGENT ? 0 : this.gate?.holdMs(target, agent) ?? 0,
      dependsWaitMs: Math.round(stepMs * 1.5),
    };
    const parent = rule.depends_on ?? t.node.depends_on;
    if (parent && parent !== target) p.dependsOn = parent;
    if (rule.renotify_min) p.renotifyMin = rule.renotify_min;
    return p;
  }

  /** Named notifiers of the config, plus one exec channel per `|/program` recipient anywhere. */
  private buildChannels(tree: TargetNode): Map<string, Channel> {
    const out = new Map<string, Channel>();
    for (const c of this.setup.channels.values()) {
      const kind = NOTIFIER_KINDS[c.kind];
      if (!kind) continue;
      const cfg = c.kind === 'email' && c.config.from === undefined && this.setup.from ? { ...c.config, from: this.setup.from } : c.config;
      try {
        out.set(c.name, { notifier: kind.create(c.name, cfg), delivery: c.delivery });
      } catch (e) {
        this.opts.log.error({ err: e, notifier: c.name }, 'notifier could not be created');
      }
    }
    const programs = new Set<string>(this.setup.to.filter((r) => r.startsWith('|')));
    for (const r of this.setup.rules.values()) for (const x of r.to) if (x.startsWith('|')) programs.add(x);
    for (const n of walk(tree)) for (const x of recipients(n.alertee)) if (x.startsWith('|')) programs.add(x);
    for (const p of programs) {
      out.set(p, {
        notifier: NOTIFIER_KINDS.exec!.create(p, { command: p.slice(1) }),
        delivery: { retries: 0, backoff_ms: 1000, max_backoff_ms: 300000, timeout_ms: 60000 },
      });
    }
    return out;
  }
}
