/**
 * The channel registry: notifier `type` → its kind. A new channel is one file exporting a
 * NotifierKind plus one entry here. Actions (route failover, src/alerts/actions/) are
 * channels too: an alert carries one by naming it in `to`.
 */
import type { NotifierKind } from './notifier.ts';
import { alertmanagerKind } from './alertmanager.ts';
import { awsRouteKind } from '../actions/aws-route.ts';
import { httpRouteKind } from '../actions/http-route.ts';
import { dingtalkKind } from './dingtalk.ts';
import { emailKind } from './email.ts';
import { execKind } from './exec.ts';
import { feishuKind } from './feishu.ts';
import { slackKind } from './slack.ts';
import { snsKind } from './sns.ts';
import { telegramKind } from './telegram.ts';
import { webhookKind } from './webhook.ts';
import { wecomKind } from './wecom.ts';

// Each kind validates its own config block, so the registry holds them without their config type.
export const NOTIFIER_KINDS: Record<string, NotifierKind<any>> = {
  exec: execKind,
  email: emailKind,
  webhook: webhookKind,
  slack: slackKind,
  dingtalk: dingtalkKind,
  feishu: feishuKind,
  wecom: wecomKind,
  telegram: telegramKind,
  sns: snsKind,
  alertmanager: alertmanagerKind,
  aws_route: awsRouteKind,
  http_route: httpRouteKind,
};

/** Channel kinds that change something (route failover): they need edge-triggered alerts, a raise and its clear. */
export const ACTION_KINDS: ReadonlySet<string> = new Set(['aws_route', 'http_route']);
