/**
 * Telegram Bot API: POST JSON to `<api_url>/bot<token>/sendMessage` with chat_id, text,
 * parse_mode, disable_web_page_preview. Telegram answers `{"ok":true,…}`; errors come as
 * `{"ok":false,"error_code":…,"description":…}` (usually with HTTP 4xx).
 */
import Type, { type Static } from 'typebox';
import type { AlertEvent, Notifier, NotifierKind } from './notifier.ts';
import { formatMessage, truncate } from './format.ts';
import { HttpOptions, channelSchema, dispatcherFor, httpUrl, parseConfig, postJson, secret, secretField, vendorError } from './http-post.ts';

/** Telegram's limit on a message's text, in characters. */
const MAX_TEXT = 4096;

export const TelegramConfigSchema = channelSchema({
  bot_token: secretField('bot token from @BotFather, 123456:ABC-…'),
  bot_token_file: Type.Optional(Type.String({ minLength: 1 })),
  chat_id: Type.Union([Type.Integer(), Type.String({ minLength: 1 })], { description: 'chat id (-100… for groups) or @channelusername' }),
  message_thread_id: Type.Optional(Type.Integer({ description: 'topic of a forum group' })),
  api_url: Type.String({ default: 'https://api.telegram.org', description: 'Bot API server (a local telegram-bot-api, a reverse proxy)' }),
  parse_mode: Type.Enum(['HTML', 'none'], { default: 'HTML', description: 'HTML formatting, or plain text' }),
  disable_web_page_preview: Type.Boolean({ default: true }),
  disable_notification: Type.Boolean({ default: false }),
  ...HttpOptions,
});
export type TelegramConfig = Static<typeof TelegramConfigSchema>;

/** The sendMessage parameters for an event. */
export function telegramBody(e: AlertEvent, c: TelegramConfig): Record<string, unknown> {
  let text = c.parse_mode === 'HTML' ? formatMessage(e, 'telegram-html') : formatMessage(e, 'text');
  let parseMode: string | undefined = c.parse_mode === 'HTML' ? 'HTML' : undefined;
  if ([...text].length > MAX_TEXT) {
    // Cutting HTML could leave an open tag that Telegram rejects: fall back to plain text.
    text = truncate(formatMessage(e, 'text'), MAX_TEXT);
    parseMode = undefined;
  }
  const body: Record<string, unknown> = { chat_id: c.chat_id, text };
  if (c.message_thread_id !== undefined) body.message_thread_id = c.message_thread_id;
  if (parseMode) body.parse_mode = parseMode;
  // disable_web_page_preview is what older Bot API servers know; link_preview_options (API 7.0+) replaces it.
  body.disable_web_page_preview = c.disable_web_page_preview;
  body.link_preview_options = { is_disabled: c.disable_web_page_preview };
  if (c.disable_notification) body.disable_notification = true;
  return body;
}

export const telegramKind: NotifierKind = {
  kind: 'telegram',
  configSchema: TelegramConfigSchema,
  create(name, raw): Notifier {
    const c = parseConfig<TelegramConfig>(TelegramConfigSchema, 'telegram', name, raw);
    const token = secret(name, c, 'bot_token', true);
    const api = httpUrl(name, 'api_url', c.api_url);
    const dispatcher = dispatcherFor(name, c);
    const channel = `telegram notifier "${name}"`;
    return {
      name,
      kind: 'telegram',
      async send(event, signal) {
        const url = new URL(`${api.pathname.replace(/\/$/, '')}/bot${await token()}/sendMessage`, api);
        const res = await postJson({ channel, url, body: telegramBody(event, c), signal, dispatcher });
        const a = res.json as { ok?: unknown; error_code?: unknown; description?: unknown } | undefined;
        if (a?.ok !== true) throw vendorError(channel, a?.error_code ?? 'missing', a?.description, res.text);
      },
    };
  },
};
