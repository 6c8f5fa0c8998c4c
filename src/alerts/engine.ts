/**
 * The alert engine: a RoundSink that evaluates each series (target × agent) right after its
 * round is stored, turns outcomes into AlertEvents, applies silences and hands deliveries
 * to the dispatcher. History lives in memory, seeded from the store the first time a series
 * is seen; match counters are persisted so that a restart neither repeats a raise nor loses
 * a clear.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { RoundSink } from '../pipeline.ts';
import { lossPct, type Round } from '../probes/round.ts';
import type { Config } from '../config/loader.ts';
import { walk, type TargetNode } from '../config/tree.ts';
import type { Store } from '../store/types.ts';
import { recipients, type AlertRule, type AlertsSetup } from './config.ts';
import type { ActiveRow, AlertDb, DeliveryStatus, Silence } from './db.ts';
import type { Channel, Dispatcher } from './dispatcher.ts';
import { evaluateRules, formatHistory, newHistory, orderRules, pushRound, trimHistory, type Outcome, type SeriesState } from './evaluate.ts';
import type { HistoryValue } from './pattern.ts';
import { NOTIFIER_KINDS } from './notifiers/index.ts';
import type { AlertEvent } from './notifiers/notifier.ts';
import { silenceMatches } from './silences.ts';

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
}

interface Prepared {
  rule: AlertRule;
  event: AlertEvent;
  channels: { name: string; kind: string }[];
  mutedBy: string | null;
  status: DeliveryStatus;
}

const key = (target: string, agent: string) => `${target}\u0000${agent}`;

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

  /** `tree` is the live target tree (the config's own plus mesh targets); default the config's. */
  constructor(private opts: EngineOptions, config: Config, setup: AlertsSetup, tree: TargetNode = config.targets) {
    for (const row of opts.db.loadCounters()) {
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
    if (changes.length) this.opts.db.saveCounters(changes);
    this.opts.dispatcher.setChannels(this.buildChannels(tree));
  }

  write(rounds: readonly Round[]): void {
    const changes: ActiveRow[] = [];
    const fired: { round: Round; t: TargetAlerts; outcome: Outcome; state: SeriesState }[] = [];
    for (const round of rounds) {
      const t = this.targets.get(round.target);
      if (!t) continue;
      try {
        const k = key(round.target, round.agent);
        const state = this.series.get(k) ?? this.seed(round.target, round.agent, round.step, round.time, t);
        if (round.time <= state.last) continue;
        state.last = round.time;
        pushRound(state.history, t.cap, lossPct(round), round.median);
        const { outcomes, changed } = evaluateRules(state, t.rules);
        for (const alert of changed) {
          const prevmatch = state.counters.get(alert) ?? 0;
          const sk = `${k}\u0000${alert}`;
          if (prevmatch === 0) this.since.delete(sk);
          else if (!this.since.has(sk)) this.since.set(sk, round.time);
          changes.push({ target: round.target, agent: round.agent, alert, prevmatch, since: this.since.get(sk) ?? round.time });
        }
        for (const outcome of outcomes) fired.push({ round, t, outcome, state });
      } catch (e) {
        this.opts.log.error({ err: e, target: round.target, agent: round.agent }, 'alert evaluation failed for this round');
      }
    }
    try {
      if (changes.length) this.opts.db.saveCounters(changes);
      if (fired.length) this.notify(fired.map((f) => this.prepare(f.round, f.t, f.outcome, f.state)));
    } catch (e) {
      this.opts.log.error({ err: e }, 'alert state could not be saved');
    }
  }

  /** Active alerts: every series × alert whose counter is non-zero. */
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
      for (const s of list) {
        if (this.stopped) break;
        const t = this.targets.get(s.target);
        if (!t || !t.node.probe || this.series.has(key(s.target, s.agent))) continue;
        this.seed(s.target, s.agent, t.node.probe.params.step, s.last + 1, t);
        if (++n % 200 === 0) await new Promise((r) => setImmediate(r));
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

  /** Creates a series' state: saved counters, and its history read back from rounds stored before `before`. */
  private seed(target: string, agent: string, stepS: number, before: number, t: TargetAlerts): SeriesState {
    const k = key(target, agent);
    const counters = new Map<string, number>();
    for (const [alert, v] of this.saved.get(k) ?? []) {
      if (t.rules.some((r) => r.name === alert)) {
        counters.set(alert, v.prevmatch);
        this.since.set(`${k}\u0000${alert}`, v.since);
      }
    }
    this.saved.delete(k);
    const state: SeriesState = { history: newHistory(), counters, last: -Infinity };
    try {
      const step = stepS * 1000;
      const from = before - (t.cap + 1) * step - step / 2;
      const res = this.opts.store.series({ target, agent, from, to: before - 1 });
      const points = res.tier === 'raw' ? res.points.filter((p) => p.time < before) : [];
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
    const channels = new Set<string>();
    const addresses: string[] = [];
    for (const r of [...this.setup.to, ...recipients(t.node.alertee), ...rule.to]) {
      if (r.startsWith('|')) channels.add(r);
      else if (this.setup.channels.has(r)) channels.add(r);
      else if (r.includes('@')) {
        addresses.push(r.replace(/^mailto:/, ''));
        if (this.setup.mailChannel) channels.add(this.setup.mailChannel);
      }
    }
    return { channels: [...channels], addresses: [...new Set(addresses)] };
  }

  /** Builds the event of an outcome, its channels and whether a silence or priority mutes it. */
  private prepare(round: Round, t: TargetAlerts, outcome: Outcome, state: SeriesState): Prepared {
    const { rule } = outcome;
    const { channels, addresses } = this.route(t, rule);
    const { loss, rtt } = formatHistory(state.history);
    const builtin = round.agent === this.opts.builtinAgent;
    const dotted = round.target.replace(/^\//, '').replace(/\//g, '.') + (builtin ? '' : ` [from ${round.agent}]`);
    const event: AlertEvent = {
      version: 1,
      id: randomUUID(),
      state: outcome.state,
      alert: { name: rule.name, type: rule.type, pattern: rule.pattern, comment: rule.comment, edgetrigger: rule.edgetrigger },
      target: { path: round.target, dotted, host: t.node.probe?.host ?? '', title: t.node.title, labels: t.node.labels },
      agent: round.agent,
      time: round.time,
      loss,
      rtt,
      recipients: addresses,
    };
    if (rule.priority !== undefined) event.alert.priority = rule.priority;
    if (rule.mailtemplate) event.alert.mailtemplate = rule.mailtemplate;
    if (this.publicUrl) event.url = `${this.publicUrl.replace(/\/$/, '')}/?target=${encodeURIComponent(round.target)}`;
    const silence = outcome.suppressed ? undefined : this.silenceCache.find((s) => silenceMatches(s, {
      target: round.target, agent: round.agent, alert: rule.name, labels: t.node.labels, time: Date.now(),
    }));
    return {
      rule,
      event,
      channels: channels.map((name) => ({ name, kind: this.opts.dispatcher.channel(name)?.notifier.kind ?? 'unknown' })),
      mutedBy: outcome.suppressed ? 'priority' : silence ? silence.id : null,
      status: outcome.suppressed ? 'suppressed' : silence ? 'silenced' : 'pending',
    };
  }

  /** Records the events of one batch in one transaction, then queues the deliveries that are not muted. */
  private notify(batch: Prepared[]): void {
    const ids = this.opts.db.recordEvents(batch);
    batch.forEach((p, i) => {
      const e = p.event;
      this.opts.log.info({ alert: e.alert.name, target: e.target.path, agent: e.agent, state: e.state, muted_by: p.mutedBy, channels: p.channels.map((c) => c.name) }, `alert ${e.alert.name} ${e.state}`);
      const deliver = () => {
        if (p.status === 'pending') this.opts.dispatcher.enqueue(e, ids[i]!.map((id, j) => ({ id, channel: p.channels[j]!.name })));
      };
      let held: Promise<void> | undefined;
      try {
        held = this.opts.onEvent?.(e, p.rule);
      } catch (err) {
        this.opts.log.error({ err, alert: e.alert.name, target: e.target.path }, 'alert event hook failed; delivering without it');
      }
      if (!held) return deliver();
      void held.then(() => this.opts.db.updateEvent(e))
        .catch((err: unknown) => this.opts.log.error({ err, alert: e.alert.name, target: e.target.path }, 'alert event hook failed; delivering without it'))
        .finally(deliver);
      return undefined;
    });
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
