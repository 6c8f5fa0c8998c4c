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
}, { additionalProperties: true });
export const ALERT_SECTION_KEYS = new Set(Object.keys(AlertsSectionSchema.properties));

export const AlertRuleSchema = Type.Object({
  type: Type.Enum(['loss', 'rtt', 'matcher']),
  pattern: Type.String({ minLength: 1, description: 'SmokePing pattern, e.g. ">10%,*3*,>10%", or a matcher call such as CheckLoss(l=>10,x=>3)' }),
  comment: Type.String({ default: '' }),
  edgetrigger: Type.Optional(EdgeTriggerSchema),
  priority: Type.Optional(Type.Integer({ description: 'lower is checked first; once one prioritized alert fires, the others of the target are suppressed' })),
  to: Type.Optional(RecipientsSchema),
  mailtemplate: Type.Optional(Type.String({ minLength: 1 })),
  trace: Type.Optional(Type.Boolean({ description: 'when it raises (or fires) and clears, the agents that see it run mtr to the target; the notification carries the hop summary (tasks.auto_trace)' })),
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
export type DeliveryOptions = Static<typeof DeliverySchema>;
export type NotifierBlock = Static<typeof NotifierBlockSchema>;
