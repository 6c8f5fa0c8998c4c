/**
 * WeCom (企业微信) group robot: POST JSON to `…/cgi-bin/webhook/send?key=…` with msgtype
 * `markdown` (content ≤ 4096 bytes) or `text` (content ≤ 2048 bytes, mentioned_list and
 * mentioned_mobile_list). WeCom answers HTTP 200 `{"errcode":0,"errmsg":"ok"}`; other codes fail.
 */
import Type, { type Static } from 'typebox';
import type { AlertEvent, Notifier, NotifierKind } from './notifier.ts';
import { formatMessage, truncateBytes } from './format.ts';
import {
  HttpOptions, channelSchema, configError, dispatcherFor, httpUrl, parseConfig, postJson, secret, secretField, secretUrl, vendorError,
} from './http-post.ts';

export const WecomConfigSchema = channelSchema({
  url: secretField('webhook URL, https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…'),
  url_file: Type.Optional(Type.String({ minLength: 1, description: 'file holding the webhook URL' })),
  key: secretField('the robot key, used with base_url instead of url'),
  key_file: Type.Optional(Type.String({ minLength: 1 })),
  base_url: Type.String({ default: 'https://qyapi.weixin.qq.com' }),
  msgtype: Type.Enum(['markdown', 'text'], { default: 'markdown' }),
  mentioned_list: Type.Array(Type.String({ minLength: 1 }), { default: [], description: 'userids to @-mention, or "@all"' }),
  mentioned_mobile_list: Type.Array(Type.String({ minLength: 1 }), { default: [], description: 'phone numbers to @-mention (text only)' }),
  ...HttpOptions,
});
export type WecomConfig = Static<typeof WecomConfigSchema>;

/** The JSON body the robot receives for an event. */
export function wecomBody(e: AlertEvent, c: WecomConfig): Record<string, unknown> {
  if (c.msgtype === 'text') {
    const text: Record<string, unknown> = { content: truncateBytes(formatMessage(e, 'text'), 2048) };
    if (c.mentioned_list.length) text.mentioned_list = c.mentioned_list;
    if (c.mentioned_mobile_list.length) text.mentioned_mobile_list = c.mentioned_mobile_list;
    return { msgtype: 'text', text };
  }
  // Markdown messages take no mentioned_list; `<@userid>` in the content mentions instead.
  const mentions = c.mentioned_list.filter((u) => u !== '@all').map((u) => `<@${u}>`).join(' ');
  const content = [formatMessage(e, 'markdown'), mentions].filter(Boolean).join('\n\n');
  return { msgtype: 'markdown', markdown: { content: truncateBytes(content, 4096) } };
}

export const wecomKind: NotifierKind = {
  kind: 'wecom',
  configSchema: WecomConfigSchema,
  create(name, raw): Notifier {
    const c = parseConfig<WecomConfig>(WecomConfigSchema, 'wecom', name, raw);
    const hasUrl = c.url !== undefined || c.url_file !== undefined;
    const hasKey = c.key !== undefined || c.key_file !== undefined;
    if (hasUrl === hasKey) {
      throw configError(name, 'url', hasUrl ? 'set url or key, not both' : 'missing required field "url" (or "url_file", or "key" with base_url)');
    }
    if (c.url !== undefined && !new URL(httpUrl(name, 'url', c.url)).searchParams.get('key')) {
      throw configError(name, 'url', 'the webhook URL has no key (…/cgi-bin/webhook/send?key=…)');
    }
    const base = httpUrl(name, 'base_url', c.base_url);
    const key = hasKey ? secret(name, c, 'key', true) : undefined;
    const fullUrl = hasUrl ? secretUrl(name, c, 'url') : undefined;
    const url = async (): Promise<URL> => {
      if (fullUrl) return fullUrl();
      const u = new URL(`${base.pathname.replace(/\/$/, '')}/cgi-bin/webhook/send`, base);
      u.searchParams.set('key', await key!());
      return u;
    };
    const dispatcher = dispatcherFor(name, c);
    const channel = `wecom notifier "${name}"`;
    return {
      name,
      kind: 'wecom',
      async send(event, signal) {
        const res = await postJson({ channel, url: await url(), body: wecomBody(event, c), signal, dispatcher });
        const a = res.json as { errcode?: unknown; errmsg?: unknown } | undefined;
        if (a?.errcode !== 0) throw vendorError(channel, a?.errcode ?? 'missing', a?.errmsg, res.text);
      },
    };
  },
};
