import Type, { type Static } from 'typebox';

/**
 * Schemas of the `alerts:` and `notifiers:` sections.
 *
 * `alerts:` follows SmokePing's `*** Alerts ***`: section variables (`to`, `from`,
 * `edgetrigger`, `mailtemplate`) next to the named alerts, each a mapping with `type`,
 * `pattern`, `comment`… Recipients are an email address, `|/path/to/program`, or the name of
 * a notifier; a comma-separated string (SmokePing style) or a list.
 */

export const RecipientsSchema = Type.Union([Type.String(), Type.Array(Type.String({ minLength: 1 }))], {
  description: 'email address, |/path/to/program, or notifier name; a list or a comma-separated string',
});

/** SmokePing writes `yes`/`no`; YAML 1.2 reads those as strings. */
export const EdgeTriggerSchema = Type.Union([Type.Boolean(), Type.Enum(['yes', 'no'])]);

/** Keys of the section itself; every other key of `alerts:` names an alert. */
export const AlertsSectionSchema = Type.Object({
  to: Type.Optional(RecipientsSchema),
  from: Type.Optional(Type.String({ minLength: 1, description: 'sender address of alert mails' })),
  edgetrigger: Type.Optional(EdgeTriggerSchema),
  mailtemplate: Type.Optional(Type.String({ minLength: 1, description: 'file starting with a Subject: line' })),
  history_days: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 36_500, description: 'days alert events and their deliveries are kept (this server\'s alerts.sqlite, and in a cluster the shared history); default 365' })),
}, { additionalProperties: true });
export const ALERT_SECTION_KEYS = new Set(Object.keys(AlertsSectionSchema.properties));

/** An alert on a target probed by several agents raises only when this many of them (or regions) match. */
export const QuorumSchema = Type.Object({
  agents: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.String({ pattern: '^(100|[1-9]?\\d)%$' })], { description: 'agents that must match: a number, or a percentage of the agents reporting on the target ("50%")' })),
  regions: Type.Optional(Type.Integer({ minimum: 1, description: 'distinct regions among the matching agents' })),
}, { additionalProperties: false });

export const AlertRuleSchema = Type.Object({
  type: Type.Enum(['loss', 'rtt', 'matcher', 'cert']),
  pattern: Type.String({ minLength: 1, description: 'SmokePing pattern, e.g. ">10%,*3*,>10%", a matcher call such as CheckLoss(l=>10,x=>3), or for type cert the days left, e.g. "<14"' }),
  comment: Type.String({ default: '' }),
  edgetrigger: Type.Optional(EdgeTriggerSchema),
  priority: Type.Optional(Type.Integer({ description: 'lower is checked first; once one prioritized alert fires, the others of the target are suppressed' })),
  to: Type.Optional(RecipientsSchema),
  mailtemplate: Type.Optional(Type.String({ minLength: 1 })),
  trace: Type.Optional(Type.Boolean({ description: 'when it raises (or fires) and clears, the agents that see it run mtr to the target; the notification carries the hop summary (tasks.auto_trace)' })),
  quorum: Type.Optional(QuorumSchema),
  hold_down: Type.Integer({ minimum: 1, maximum: 100000, default: 1, description: 'edge-triggered: a raised alert clears only after this many rounds in a row without a match (1 = SmokePing)' }),
  renotify_min: Type.Optional(Type.Integer({ minimum: 1, maximum: 31536000, description: 'seconds: at most one notification per series (or target) and alert in this interval; a clear followed by a new raise within it sends neither' })),
  depends_on: Type.Optional(Type.String({ pattern: '^/', description: 'a target path: while an alert of that target is active, this alert is recorded as suppressed, not sent' })),
}, { additionalProperties: false });

/** How the dispatcher delivers to one channel; every notifier block may carry these. */
export const DeliverySchema = Type.Object({
  retries: Type.Integer({ minimum: 0, maximum: 100, default: 5, description: 'attempts after the first one' }),
  backoff_ms: Type.Integer({ minimum: 10, default: 1000, description: 'wait before the first retry; doubles each time' }),
  max_backoff_ms: Type.Integer({ minimum: 10, default: 300000 }),
  timeout_ms: Type.Integer({ minimum: 10, default: 10000, description: 'per attempt' }),
});
export const DELIVERY_KEYS = new Set(Object.keys(DeliverySchema.properties));

/** A named channel instance: its `type` picks the notifier kind, which validates the rest. */
export const NotifierBlockSchema = Type.Object({
  type: Type.String({ minLength: 1 }),
}, { additionalProperties: true });

export const NotifiersSectionSchema = Type.Record(Type.String({ pattern: '^[-_0-9a-zA-Z.]+$' }), NotifierBlockSchema);

export type AlertsSection = Static<typeof AlertsSectionSchema>;
export type AlertRuleConfig = Static<typeof AlertRuleSchema>;
export type QuorumConfig = Static<typeof QuorumSchema>;
export type DeliveryOptions = Static<typeof DeliverySchema>;
export type NotifierBlock = Static<typeof NotifierBlockSchema>;
