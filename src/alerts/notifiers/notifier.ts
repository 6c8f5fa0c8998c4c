/**
 * What every notification channel receives, and the one interface each channel implements.
 * Channel files (slack.ts, email.ts, …) each export one `NotifierKind` registered in
 * ./index.ts. The webhook channel sends this event as its versioned JSON envelope.
 */
import Type, { type Static } from 'typebox';
import { CauseSchema, TraceNoteSchema } from '../cause.ts';

/** The event envelope (version 1): one schema for its type, the API's answers and the docs. */
export const AlertEventSchema = Type.Object({
  version: Type.Literal(1, { description: 'envelope version of this shape' }),
  id: Type.String({ description: 'unique id of this notification (for idempotent receivers)' }),
  state: Type.Union([Type.Literal('raised'), Type.Literal('cleared'), Type.Literal('firing'), Type.Literal('updated')], {
    description: 'raised / cleared for edge-triggered alerts; firing for every matching round otherwise; updated: a raised cause escalated (suspected → confirmed, degraded → down)',
  }),
  alert: Type.Object({
    name: Type.String(),
    type: Type.String(),
    pattern: Type.Optional(Type.String()),
    comment: Type.String(),
    priority: Type.Optional(Type.Number()),
    edgetrigger: Type.Boolean(),
    mailtemplate: Type.Optional(Type.String({ description: "mail template file (SmokePing's mailtemplate), absolute path" })),
  }),
  target: Type.Object({
    path: Type.String(),
    dotted: Type.String({ description: "SmokePing's dotted form, Group.Host (plus ' [from agent]' for remote agents)" }),
    host: Type.String(),
    title: Type.String(),
    labels: Type.Record(Type.String(), Type.String()),
  }),
  agent: Type.String(),
  time: Type.Number({ description: 'time of the round that caused it, ms since the epoch' }),
  loss: Type.Array(Type.String(), { description: "SmokePing-style history oldest → newest, e.g. ['0%', '5%']" }),
  rtt: Type.Array(Type.String(), { description: "e.g. ['12ms', 'U']" }),
  url: Type.Optional(Type.String({ description: "link to the target's page in the UI, when general.public_url is set" })),
  recipients: Type.Array(Type.String(), { description: 'addresses resolved for this alert (section to + alertee + alert to)' }),
  trace: Type.Optional(TraceNoteSchema),
  quorum: Type.Optional(Type.Object({
    matching: Type.Array(Type.String()), total: Type.Integer(), regions: Type.Array(Type.String()), need: Type.String(),
  }, { description: 'quorum alerts (agent "*"): the agents that match, of those reporting, and what was needed' })),
  cause: Type.Optional(CauseSchema),
});
export type AlertEvent = Static<typeof AlertEventSchema>;

/** A configured channel instance, ready to send. */
export interface Notifier {
  readonly name: string;
  readonly kind: string;
  /**
   * Delivers one event; throws on failure (the dispatcher retries with backoff). May resolve
   * with a note kept in the attempt log (an action says what it changed, with request ids).
   */
  send(event: AlertEvent, signal: AbortSignal): Promise<void | string>;
}

/** A channel type: validates its config block and builds a Notifier from it. */
export interface NotifierKind<C = unknown> {
  readonly kind: string;
  /** JSON schema (typebox) of this channel's config block. */
  readonly configSchema: import('typebox').TSchema;
  create(name: string, config: C): Notifier;
}
