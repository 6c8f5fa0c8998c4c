/**
 * Prometheus Alertmanager, API v2: POST `<url>/api/v2/alerts` with a JSON array of one alert
 * (labels, annotations, startsAt, endsAt, generatorURL). "cleared" is sent as the same labels
 * with endsAt = the clearing round's time, which resolves the alert.
 */
import Type, { type Static } from 'typebox';
import type { AlertEvent, Notifier, NotifierKind } from './notifier.ts';
import { formatTitle } from './format.ts';
import { HttpOptions, channelSchema, configError, dispatcherFor, httpUrl, parseConfig, postJson, secret, secretField, type Secret } from './http-post.ts';

const LabelName = '^[a-zA-Z_][a-zA-Z0-9_]*$';

export const AlertmanagerConfigSchema = channelSchema({
  url: Type.String({ minLength: 1, description: 'Alertmanager base URL, e.g. http://alertmanager:9093 (with its route prefix, if any)' }),
  basic_auth: Type.Optional(Type.Object({
    username: Type.String({ minLength: 1 }),
    password: secretField('basic auth password'),
    password_file: Type.Optional(Type.String({ minLength: 1 })),
  }, { additionalProperties: false })),
  bearer_token: secretField('sent as Authorization: Bearer …'),
  bearer_token_file: Type.Optional(Type.String({ minLength: 1 })),
  labels: Type.Record(Type.String({ pattern: LabelName }), Type.String(), { default: {}, additionalProperties: false, description: 'extra labels on every alert' }),
  severities: Type.Record(Type.String({ pattern: '^-?\\d+$' }), Type.String({ minLength: 1 }), {
    default: { 1: 'critical', 2: 'warning', 3: 'info' }, additionalProperties: false, description: 'severity label by alert priority',
  }),
  default_severity: Type.String({ minLength: 1, default: 'warning', description: 'severity of alerts without a listed priority' }),
  raised_ttl: Type.Integer({ minimum: 0, default: 86400, description: 'seconds a raised edge-triggered alert stays active without its "cleared"; 0: Alertmanager resolve_timeout' }),
  generator_url: Type.Optional(Type.String({ pattern: '^https?://', description: 'generatorURL when the event has no link (general.public_url unset)' })),
  ...HttpOptions,
});
export type AlertmanagerConfig = Static<typeof AlertmanagerConfigSchema>;

/** Labels smokemesh sets itself; target labels of the same name do not override them. */
const OWN_LABELS = new Set(['alertname', 'target', 'agent', 'host', 'severity']);

/** One postable alert (Alertmanager's `postableAlert`) for an event. */
export function alertmanagerAlert(e: AlertEvent, c: AlertmanagerConfig): Record<string, unknown> {
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(e.target.labels)) {
    const name = labelName(k);
    if (!OWN_LABELS.has(name)) labels[name] = v;
  }
  Object.assign(labels, c.labels, {
    alertname: e.alert.name,
    target: e.target.path,
    agent: e.agent,
    host: e.target.host,
    severity: (e.alert.priority !== undefined ? c.severities[String(e.alert.priority)] : undefined) ?? c.default_severity,
  });
  // An empty label value means "no such label" to Alertmanager; leave those out.
  for (const k of Object.keys(labels)) if (labels[k] === '') delete labels[k];

  const annotations: Record<string, string> = {
    summary: formatTitle(e),
    loss: e.loss.join(', '),
    rtt: e.rtt.join(', '),
  };
  if (e.alert.comment) annotations.comment = e.alert.comment;
  if (e.alert.pattern) annotations.pattern = e.alert.pattern;
  if (e.target.title) annotations.target_title = e.target.title;
  if (e.cause) {
    annotations.rule = e.cause.rule;
    annotations.confidence = e.cause.confidence;
    annotations.series_bad = `${e.cause.series.bad}/${e.cause.series.total}`;
    annotations.first_bad = new Date(e.cause.first_bad).toISOString();
    if (e.cause.networks) annotations.seen_bad_by = e.cause.networks.seeing.join(',');
  }
  if (e.quorum) annotations.agents = e.quorum.matching.join(',');
  if (e.url) annotations.url = e.url;

  const at = new Date(e.time).toISOString();
  const alert: Record<string, unknown> = { labels, annotations, startsAt: at };
  if (e.state === 'cleared') alert.endsAt = at;
  // Edge-triggered alerts are sent once; without an endsAt, Alertmanager would resolve them
  // after its resolve_timeout (5 min). Non-edge alerts repeat every round and need none.
  else if ((e.state === 'raised' || e.state === 'updated') && c.raised_ttl > 0) alert.endsAt = new Date(e.time + c.raised_ttl * 1000).toISOString();
  const generator = e.url ?? c.generator_url;
  if (generator) alert.generatorURL = generator;
  return alert;
}

/** Prometheus label names are [a-zA-Z_][a-zA-Z0-9_]*: other characters become `_`. */
function labelName(k: string): string {
  const s = k.replace(/[^a-zA-Z0-9_]/g, '_');
  return /^[0-9]/.test(s) ? `_${s}` : s;
}

export const alertmanagerKind: NotifierKind = {
  kind: 'alertmanager',
  configSchema: AlertmanagerConfigSchema,
  create(name, raw): Notifier {
    const c = parseConfig<AlertmanagerConfig>(AlertmanagerConfigSchema, 'alertmanager', name, raw);
    const base = httpUrl(name, 'url', c.url);
    const url = new URL(`${base.pathname.replace(/\/$/, '')}/api/v2/alerts`, base);
    const bearer = secret(name, c, 'bearer_token');
    let password: Secret | undefined;
    if (c.basic_auth) {
      if (bearer) throw configError(name, 'bearer_token', 'set basic_auth or bearer_token, not both');
      password = secret(`${name}.basic_auth`, c.basic_auth, 'password', true);
    }
    const dispatcher = dispatcherFor(name, c);
    const channel = `alertmanager notifier "${name}"`;
    return {
      name,
      kind: 'alertmanager',
      async send(event, signal) {
        const headers: Record<string, string> = {};
        if (bearer) headers.authorization = `Bearer ${await bearer()}`;
        if (c.basic_auth && password) {
          headers.authorization = `Basic ${Buffer.from(`${c.basic_auth.username}:${await password()}`, 'utf8').toString('base64')}`;
        }
        await postJson({ channel, url, body: [alertmanagerAlert(event, c)], headers, signal, dispatcher });
      },
    };
  },
};
