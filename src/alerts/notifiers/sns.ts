/**
 * AWS SNS: Publish (Subject + Message) to a topic through @aws-sdk/client-sns, signed with
 * SigV4 by credentials from the SDK's standard chain (environment, shared config/profile,
 * SSO, web identity, ECS task role, EC2 instance role) unless keys are given explicitly.
 * Works in every partition: the region (taken from the topic ARN when not set) selects
 * e.g. sns.cn-north-1.amazonaws.com.cn for arn:aws-cn:…; `endpoint` overrides it (VPC endpoint).
 */
import type { PublishCommandInput, SNSClient, SNSClientConfig } from '@aws-sdk/client-sns';
import Type, { type Static } from 'typebox';
import { SmokemeshError } from '../../errors.ts';
import { lazyModule } from '../../lazy-module.ts';
import type { AlertEvent, Notifier, NotifierKind } from './notifier.ts';
import { formatMessage, formatTitle, truncate, truncateBytes } from './format.ts';
import { channelSchema, configError, parseConfig } from './http-post.ts';
import { AWS_REGION, AwsAccessFields, awsClientConfig, awsWhere } from './aws.ts';

const TOPIC_ARN = '^arn:aws[a-z-]*:sns:([a-z0-9-]+):\\d{12}:[A-Za-z0-9_-]{1,256}(\\.fifo)?$';

export const SnsConfigSchema = channelSchema({
  topic_arn: Type.String({ pattern: TOPIC_ARN, description: 'arn:aws:sns:<region>:<account>:<topic> (arn:aws-cn:… in China)' }),
  region: Type.Optional(Type.String({ pattern: AWS_REGION, description: 'default: the region of topic_arn' })),
  ...AwsAccessFields,
  message: Type.Enum(['text', 'json'], { default: 'text', description: 'human text, or the alert event as JSON (for Lambda/SQS subscribers)' }),
});
export type SnsConfig = Static<typeof SnsConfigSchema>;

/** SNS wants a Subject under 100 characters without line breaks or control characters. */
const MAX_SUBJECT = 99;

/** The SDK client settings a config stands for (region from the ARN, no SDK retries). */
/** The SNS client, loaded at the first message (most servers never send one). */
const sns = lazyModule(() => import('@aws-sdk/client-sns'));

export function snsClientConfig(name: string, c: SnsConfig): SNSClientConfig {
  const region = c.region ?? new RegExp(TOPIC_ARN).exec(c.topic_arn)?.[1];
  if (!region) throw configError(name, 'region', 'cannot tell the region: set region');
  return awsClientConfig(name, c, region);
}

/** The Publish parameters for an event. */
export function snsPublishInput(e: AlertEvent, c: SnsConfig): PublishCommandInput {
  // eslint-disable-next-line no-control-regex
  const subject = truncate(formatTitle(e).replace(/[\u0000-\u001f\u007f]+/g, ' '), MAX_SUBJECT);
  const input: PublishCommandInput = {
    TopicArn: c.topic_arn,
    Subject: subject,
    // SNS takes at most 256 KB; the JSON event is far below it and must stay whole.
    Message: c.message === 'json' ? JSON.stringify(e) : truncateBytes(formatMessage(e, 'text'), 262_144),
  };
  if (c.topic_arn.endsWith('.fifo')) {
    // FIFO topics need a group (order is kept per series) and a deduplication id.
    input.MessageGroupId = truncate(`${e.target.path} ${e.agent}`, 128);
    input.MessageDeduplicationId = e.id.replace(/[^\x21-\x7e]/g, '_').slice(0, 128);
  }
  return input;
}

export const snsKind: NotifierKind = {
  kind: 'sns',
  configSchema: SnsConfigSchema,
  create(name, raw): Notifier {
    const c = parseConfig<SnsConfig>(SnsConfigSchema, 'sns', name, raw);
    const config = snsClientConfig(name, c);
    let client: SNSClient | undefined;
    const channel = `sns notifier "${name}"`;
    return {
      name,
      kind: 'sns',
      async send(event, signal) {
        try {
          const m = await sns();
          client ??= new m.SNSClient(config);
          await client.send(new m.PublishCommand(snsPublishInput(event, c)), { abortSignal: signal });
        } catch (e) {
          throw snsError(channel, config, e, signal);
        }
      },
    };
  },
};

function snsError(channel: string, config: SNSClientConfig, e: unknown, signal: AbortSignal): SmokemeshError {
  if (e instanceof SmokemeshError) return e;
  const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const where = awsWhere(config);
  if (signal.aborted) {
    const timedOut = (signal.reason as { name?: string } | undefined)?.name === 'TimeoutError';
    return new SmokemeshError('SMOKEMESH_E_NOTIFY', `${channel}: ${timedOut ? 'no answer within the delivery timeout' : 'cancelled'} (${where})`, { cause: e });
  }
  const status = err.$metadata?.httpStatusCode ? `HTTP ${err.$metadata.httpStatusCode} ` : '';
  // The error name is AWS's code (NotFoundException…); its message is the remote's words.
  return new SmokemeshError('SMOKEMESH_E_NOTIFY', `${channel}: Publish failed (${where}): ${status}${err.name ?? 'Error'}`, { cause: e, detail: err.message ?? String(e) });
}
