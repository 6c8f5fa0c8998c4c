/**
 * What every notification channel receives, and the one interface each channel implements.
 * Channel files (slack.ts, email.ts, …) each export one `NotifierKind` registered in
 * ./index.ts. The webhook channel sends this event as its versioned JSON envelope.
 */
export interface AlertEvent {
  /** Envelope version of this shape. */
  version: 1;
  /** Unique id of this notification (for idempotent receivers). */
  id: string;
  /** raised / cleared for edge-triggered alerts; firing for every matching round otherwise. */
  state: 'raised' | 'cleared' | 'firing';
  alert: {
    name: string;
    type: string;
    pattern?: string;
    comment: string;
    priority?: number;
    edgetrigger: boolean;
    /** Mail template file (SmokePing's mailtemplate), absolute path; the email channel uses it. */
    mailtemplate?: string;
  };
  target: {
    path: string;
    /** SmokePing's dotted form, `Group.Host` (plus ` [from agent]` for remote agents). */
    dotted: string;
    host: string;
    title: string;
    labels: Record<string, string>;
  };
  agent: string;
  /** Time of the round that caused it, ms since the epoch. */
  time: number;
  /** SmokePing-style history oldest → newest, e.g. ['0%', '5%'] and ['12ms', 'U']. */
  loss: string[];
  rtt: string[];
  /** Link to the target's page in the UI, when general.public_url is set. */
  url?: string;
  /** Addresses resolved for this alert (section to + alertee + alert to). */
  recipients: string[];
  /** A path trace: the alert's (`trace: true`, mtr from the agent to the target) or a cause's evidence trace. */
  trace?: import('../cause.ts').TraceNote;
  /** Quorum alerts (agent "*"): the agents that match, of those reporting, and what was needed. */
  quorum?: { matching: string[]; total: number; regions: string[]; need: string };
  /** Localization causes (agent "*"): the cause with its evidence (docs/localize.md). */
  cause?: import('../cause.ts').Cause;
}

/** A configured channel instance, ready to send. */
export interface Notifier {
  readonly name: string;
  readonly kind: string;
  /** Delivers one event; throws on failure (the dispatcher retries with backoff). */
  send(event: AlertEvent, signal: AbortSignal): Promise<void>;
}

/** A channel type: validates its config block and builds a Notifier from it. */
export interface NotifierKind<C = unknown> {
  readonly kind: string;
  /** JSON schema (typebox) of this channel's config block. */
  readonly configSchema: import('typebox').TSchema;
  create(name: string, config: C): Notifier;
}
