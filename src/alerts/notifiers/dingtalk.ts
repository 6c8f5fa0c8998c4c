/**
 * DingTalk custom robot (自定义机器人): POST JSON to `…/robot/send?access_token=…`; with a
 * signing secret, `&timestamp=<ms>&sign=<urlencode(base64(HmacSHA256(secret, ts + "\n" + secret)))>`.
 * DingTalk answers HTTP 200 with `{"errcode":0,"errmsg":"ok"}`; any other errcode is a failure.
 */
import { createHmac } from 'node:crypto';
import Type, { type Static } from 'typebox';
import type { AlertEvent, Notifier, NotifierKind } from './notifier.ts';
import { formatMessage, formatTitle } from './format.ts';
import {
  HttpOptions, channelSchema, configError, dispatcherFor, parseConfig, postJson, secret, secretField, secretUrl, vendorError,
} from './http-post.ts';

export const DingtalkConfigSchema = channelSchema({
  url: secretField('webhook URL, https://oapi.dingtalk.com/robot/send?access_token=…'),
  url_file: Type.Optional(Type.String({ minLength: 1, description: 'file holding the webhook URL' })),
  access_token: secretField('robot access token, when `url` does not carry it'),
  access_token_file: Type.Optional(Type.String({ minLength: 1 })),
  secret: secretField('signing secret (加签), the SEC… string'),
  secret_file: Type.Optional(Type.String({ minLength: 1 })),
  msgtype: Type.Enum(['markdown', 'text'], { default: 'markdown' }),
  at_mobiles: Type.Array(Type.String({ minLength: 1 }), { default: [], description: 'phone numbers to @-mention' }),
  at_user_ids: Type.Array(Type.String({ minLength: 1 }), { default: [], description: 'user ids to @-mention' }),
  at_all: Type.Boolean({ default: false }),
  keyword: Type.Optional(Type.String({ minLength: 1, description: 'appended to every message, for robots with keyword security' })),
  ...HttpOptions,
});
export type DingtalkConfig = Static<typeof DingtalkConfigSchema>;

/** DingTalk's signature for a timestamp in ms (before URL encoding). */
export function dingtalkSign(timestampMs: number, signingSecret: string): string {
  return createHmac('sha256', signingSecret).update(`${timestampMs}\n${signingSecret}`, 'utf8').digest('base64');
}

/** The JSON body DingTalk receives for an event. */
export function dingtalkBody(e: AlertEvent, c: DingtalkConfig): Record<string, unknown> {
  // A mention only shows as such when "@<mobile>" / "@<userid>" also appears in the text.
  const mentions = [...c.at_mobiles, ...c.at_user_ids].map((m) => `@${m}`).join(' ');
  const tail = [mentions, c.keyword ?? ''].filter(Boolean);
  const at = { atMobiles: c.at_mobiles, atUserIds: c.at_user_ids, isAtAll: c.at_all };
  if (c.msgtype === 'text') {
    return { msgtype: 'text', text: { content: [formatMessage(e, 'text'), ...tail].join('\n') }, at };
  }
  return { msgtype: 'markdown', markdown: { title: formatTitle(e), text: [formatMessage(e, 'markdown'), ...tail].join('\n\n') }, at };
}

export const dingtalkKind: NotifierKind = {
  kind: 'dingtalk',
  configSchema: DingtalkConfigSchema,
  create(name, raw): Notifier {
    const c = parseConfig<DingtalkConfig>(DingtalkConfigSchema, 'dingtalk', name, raw);
    const url = secretUrl(name, c, 'url');
    const token = secret(name, c, 'access_token');
    const signing = secret(name, c, 'secret');
    const dispatcher = dispatcherFor(name, c);
    const channel = `dingtalk notifier "${name}"`;
    const target = async (): Promise<URL> => {
      const u = await url();
      if (token) u.searchParams.set('access_token', await token());
      if (!u.searchParams.get('access_token')) throw configError(name, 'url', 'the webhook URL has no access_token (add ?access_token=… or set access_token)');
      if (signing) {
        const ts = Date.now();
        u.searchParams.set('timestamp', String(ts));
        u.searchParams.set('sign', dingtalkSign(ts, await signing()));
      }
      return u;
    };
    if (!token && c.url !== undefined && !new URL(c.url).searchParams.get('access_token')) {
      throw configError(name, 'url', 'the webhook URL has no access_token (add ?access_token=… or set access_token)');
    }
    return {
      name,
      kind: 'dingtalk',
      async send(event, signal) {
        const res = await postJson({ channel, url: await target(), body: dingtalkBody(event, c), signal, dispatcher });
        const answer = res.json as { errcode?: unknown; errmsg?: unknown } | undefined;
        if (answer?.errcode !== 0) throw vendorError(channel, answer?.errcode ?? 'missing', answer?.errmsg, res.text);
      },
    };
  },
};
