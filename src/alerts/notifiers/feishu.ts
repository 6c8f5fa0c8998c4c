/**
 * Feishu / Lark custom bot (自定义机器人): POST JSON to `<base>/open-apis/bot/v2/hook/<id>`.
 * With signature verification the body carries `timestamp` (seconds) and
 * `sign = base64(HmacSHA256(key = timestamp + "\n" + secret, message = ""))`.
 * The bot answers HTTP 200 with `{"code":0,…}` (older: `{"StatusCode":0,…}`); any other code fails.
 */
import { createHmac } from 'node:crypto';
import Type, { type Static } from 'typebox';
import type { AlertEvent, Notifier, NotifierKind } from './notifier.ts';
import { formatFact, formatFacts, formatTitle, formatMessage } from './format.ts';
import {
  HttpOptions, channelSchema, configError, dispatcherFor, httpUrl, parseConfig, postJson, secret, secretField, secretUrl, vendorError,
} from './http-post.ts';

export const FeishuConfigSchema = channelSchema({
  url: secretField('webhook URL, https://open.feishu.cn/open-apis/bot/v2/hook/<id>'),
  url_file: Type.Optional(Type.String({ minLength: 1, description: 'file holding the webhook URL' })),
  hook_id: secretField('the <id> of the webhook URL, used with base_url instead of url'),
  hook_id_file: Type.Optional(Type.String({ minLength: 1 })),
  base_url: Type.String({ default: 'https://open.feishu.cn', description: 'Feishu: https://open.feishu.cn, Lark: https://open.larksuite.com' }),
  secret: secretField('signature verification secret (签名校验)'),
  secret_file: Type.Optional(Type.String({ minLength: 1 })),
  msg_type: Type.Enum(['interactive', 'text'], { default: 'interactive', description: 'message card, or plain text' }),
  at_all: Type.Boolean({ default: false }),
  at_user_ids: Type.Array(Type.String({ minLength: 1 }), { default: [], description: 'open_ids (ou_…) to @-mention' }),
  keyword: Type.Optional(Type.String({ minLength: 1, description: 'appended to every message, for bots with keyword security' })),
  ...HttpOptions,
});
export type FeishuConfig = Static<typeof FeishuConfigSchema>;

/** Feishu's signature for a timestamp in seconds. */
export function feishuSign(timestampSec: number, signingSecret: string): string {
  return createHmac('sha256', `${timestampSec}\n${signingSecret}`).update('').digest('base64');
}

/** The message part of the body (without timestamp/sign) for an event. */
export function feishuMessage(e: AlertEvent, c: FeishuConfig): Record<string, unknown> {
  if (c.msg_type === 'text') {
    const at = [...(c.at_all ? ['<at user_id="all">all</at>'] : []), ...c.at_user_ids.map((id) => `<at user_id="${id}"></at>`)];
    const text = [formatMessage(e, 'text'), at.join(' '), c.keyword ?? ''].filter(Boolean).join('\n');
    return { msg_type: 'text', content: { text } };
  }
  // Facts go out as plain_text: lark_md would read the `*` of patterns as emphasis.
  const facts = formatFacts(e).filter((f) => !f.href).map((f) => formatFact(f, 'text'));
  if (c.keyword) facts.push(c.keyword);
  const elements: unknown[] = [{ tag: 'div', text: { tag: 'plain_text', content: facts.join('\n') } }];
  const at = [...(c.at_all ? ['<at id=all></at>'] : []), ...c.at_user_ids.map((id) => `<at id=${id}></at>`)];
  if (at.length) elements.push({ tag: 'div', text: { tag: 'lark_md', content: at.join(' ') } });
  if (e.url) {
    elements.push({ tag: 'action', actions: [{ tag: 'button', text: { tag: 'plain_text', content: 'Open in smokemesh' }, type: 'primary', url: e.url }] });
  }
  return {
    msg_type: 'interactive',
    card: {
      config: { wide_screen_mode: true },
      header: { title: { tag: 'plain_text', content: formatTitle(e) }, template: e.state === 'cleared' ? 'green' : 'red' },
      elements,
    },
  };
}

export const feishuKind: NotifierKind = {
  kind: 'feishu',
  configSchema: FeishuConfigSchema,
  create(name, raw): Notifier {
    const c = parseConfig<FeishuConfig>(FeishuConfigSchema, 'feishu', name, raw);
    const hasUrl = c.url !== undefined || c.url_file !== undefined;
    const hasId = c.hook_id !== undefined || c.hook_id_file !== undefined;
    if (hasUrl === hasId) {
      throw configError(name, 'url', hasUrl ? 'set url or hook_id, not both' : 'missing required field "url" (or "url_file", or "hook_id" with base_url)');
    }
    const base = httpUrl(name, 'base_url', c.base_url);
    const hookId = hasId ? secret(name, c, 'hook_id', true) : undefined;
    const fullUrl = hasUrl ? secretUrl(name, c, 'url') : undefined;
    const url = async (): Promise<URL> => fullUrl
      ? fullUrl()
      : new URL(`${base.pathname.replace(/\/$/, '')}/open-apis/bot/v2/hook/${encodeURIComponent(await hookId!())}`, base);
    const signing = secret(name, c, 'secret');
    const dispatcher = dispatcherFor(name, c);
    const channel = `feishu notifier "${name}"`;
    return {
      name,
      kind: 'feishu',
      async send(event, signal) {
        let body = feishuMessage(event, c);
        if (signing) {
          const ts = Math.floor(Date.now() / 1000);
          body = { timestamp: String(ts), sign: feishuSign(ts, await signing()), ...body };
        }
        const res = await postJson({ channel, url: await url(), body, signal, dispatcher });
        const a = res.json as { code?: unknown; msg?: unknown; StatusCode?: unknown; StatusMessage?: unknown } | undefined;
        const code = a?.code ?? a?.StatusCode;
        if (code !== 0) throw vendorError(channel, code ?? 'missing', a?.msg ?? a?.StatusMessage, res.text);
      },
    };
  },
};
