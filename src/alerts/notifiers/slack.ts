/**
 * Slack incoming webhook: POST JSON `{ text, blocks }` to the webhook URL; Slack answers
 * HTTP 200 `ok`, and 4xx with a short error string (invalid_payload, channel_not_found…).
 */
import Type, { type Static } from 'typebox';
import type { AlertEvent, Notifier, NotifierKind } from './notifier.ts';
import { formatFacts, formatFact, formatMessage, formatTitle, truncate } from './format.ts';
import { HttpOptions, channelSchema, dispatcherFor, parseConfig, postJson, secretField, secretUrl } from './http-post.ts';

export const SlackConfigSchema = channelSchema({
  url: secretField('incoming webhook URL, https://hooks.slack.com/services/…'),
  url_file: Type.Optional(Type.String({ minLength: 1, description: 'file holding the webhook URL' })),
  format: Type.Enum(['blocks', 'text'], { default: 'blocks', description: 'Block Kit message, or mrkdwn text only' }),
  username: Type.Optional(Type.String({ minLength: 1, description: 'sender name (honoured by legacy webhooks only)' })),
  icon_emoji: Type.Optional(Type.String({ pattern: '^:[^:\\s]+:$', description: 'sender icon, e.g. :rotating_light: (legacy webhooks only)' })),
  ...HttpOptions,
});
export type SlackConfig = Static<typeof SlackConfigSchema>;

/** The JSON body Slack receives for an event. */
export function slackBody(e: AlertEvent, c: Pick<SlackConfig, 'format' | 'username' | 'icon_emoji'>): Record<string, unknown> {
  // `text` is the notification fallback when blocks are present, the message otherwise.
  const body: Record<string, unknown> = { text: truncate(formatMessage(e, 'slack'), 40000) };
  if (c.format === 'blocks') {
    body.blocks = [
      { type: 'header', text: { type: 'plain_text', text: truncate(formatTitle(e), 150), emoji: true } },
      { type: 'section', text: { type: 'mrkdwn', text: truncate(formatFacts(e).map((f) => formatFact(f, 'slack')).join('\n'), 3000) } },
    ];
  }
  if (c.username) body.username = c.username;
  if (c.icon_emoji) body.icon_emoji = c.icon_emoji;
  return body;
}

export const slackKind: NotifierKind = {
  kind: 'slack',
  configSchema: SlackConfigSchema,
  create(name, raw): Notifier {
    const c = parseConfig<SlackConfig>(SlackConfigSchema, 'slack', name, raw);
    const url = secretUrl(name, c, 'url');
    const dispatcher = dispatcherFor(name, c);
    const channel = `slack notifier "${name}"`;
    return {
      name,
      kind: 'slack',
      async send(event, signal) {
        await postJson({ channel, url: await url(), body: slackBody(event, c), signal, dispatcher });
      },
    };
  },
};
