process.env.TZ = 'UTC';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SNSClient } from '@aws-sdk/client-sns';
import { snsClientConfig, snsKind, type SnsConfig } from './sns.ts';
import { sampleEvent, startReceiver, type Received } from './receiver.testkit.ts';
import { isolateAwsEnv, verifySigV4 as verify } from '../../aws/sigv4.testkit.ts';

isolateAwsEnv();
const verifySigV4 = (r: Received, secret: string, expect: { accessKey: string; region: string }) => verify(r, secret, { ...expect, service: 'sns' });

const PUBLISH_OK = `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">
  <PublishResult><MessageId>567910cd-659e-55d4-8ccb-5aaf14679dc0</MessageId></PublishResult>
  <ResponseMetadata><RequestId>d74b8436-ae13-5ab4-a9ff-ce54dfea72a0</RequestId></ResponseMetadata>
</PublishResponse>`;
const XML = { 'content-type': 'text/xml' };

function form(r: Received): URLSearchParams {
  assert.equal(r.method, 'POST');
  assert.equal(r.url, '/');
  assert.match(String(r.headers['content-type']), /^application\/x-www-form-urlencoded/);
  return new URLSearchParams(r.body);
}

test('sns: SigV4-signed Publish with explicit keys in a normal region', async (t) => {
  const rx = await startReceiver(() => ({ body: PUBLISH_OK, headers: XML }));
  t.after(() => rx.close());
  const n = snsKind.create('aws', {
    topic_arn: 'arn:aws:sns:us-east-1:123456789012:smokemesh-alerts', endpoint: rx.base,
    access_key_id: 'AKIDEXAMPLE', secret_access_key: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  });
  await n.send(sampleEvent(), AbortSignal.timeout(10_000));
  assert.equal(rx.requests.length, 1, 'one attempt only: the dispatcher retries, not the SDK');
  const r = rx.requests[0]!;
  verifySigV4(r, 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', { accessKey: 'AKIDEXAMPLE', region: 'us-east-1' });
  const p = form(r);
  assert.equal(p.get('Action'), 'Publish');
  assert.equal(p.get('Version'), '2010-03-31');
  assert.equal(p.get('TopicArn'), 'arn:aws:sns:us-east-1:123456789012:smokemesh-alerts');
  assert.equal(p.get('Subject'), '[RAISED] someloss: /DX/Beijing/core-router from agent-a');
  assert.equal(p.get('Message'), [
    '[RAISED] someloss: /DX/Beijing/core-router from agent-a',
    'Target: /DX/Beijing/core-router (Core <router> & DX)',
    'Host: 127.0.0.1',
    'Agent: agent-a',
    'Alert: someloss (loss, edge-triggered)',
    'Pattern: >0%,*12*,>0%,*12*,>0%',
    'Comment: loss 3 times in a row',
    'Priority: 1',
    'Loss: 0%, 20%, 100%',
    'RTT: 12ms, 15ms, U',
    'Time: 2026-11-23 01:23:10 +00:00',
    'Link: http://127.0.0.1:8888/targets/DX/Beijing/core-router?agent=agent-a',
  ].join('\n'));
  assert.equal(p.get('MessageGroupId'), null);
});

test('sns: China partition (arn:aws-cn, cn-north-1 from the ARN), credentials from the environment chain, JSON message, FIFO', async (t) => {
  const rx = await startReceiver(() => ({ body: PUBLISH_OK, headers: XML }));
  t.after(() => rx.close());
  process.env.AWS_ACCESS_KEY_ID = 'AKIDCHINA';
  process.env.AWS_SECRET_ACCESS_KEY = 'cn-secret-key';
  process.env.AWS_SESSION_TOKEN = 'cn-session-token';
  t.after(() => { delete process.env.AWS_ACCESS_KEY_ID; delete process.env.AWS_SECRET_ACCESS_KEY; delete process.env.AWS_SESSION_TOKEN; });
  const arn = 'arn:aws-cn:sns:cn-north-1:123456789012:dx-failover.fifo';
  const n = snsKind.create('cn', { topic_arn: arn, endpoint: rx.base, message: 'json' });
  const longName = 'x'.repeat(150);
  const event = sampleEvent({ alert: { name: longName, type: 'loss', comment: 'a\nb', edgetrigger: true } });
  await n.send(event, AbortSignal.timeout(10_000));
  const r = rx.requests[0]!;
  verifySigV4(r, 'cn-secret-key', { accessKey: 'AKIDCHINA', region: 'cn-north-1' });
  assert.equal(r.headers['x-amz-security-token'], 'cn-session-token');
  const p = form(r);
  assert.equal(p.get('Action'), 'Publish');
  assert.equal(p.get('TopicArn'), arn);
  assert.deepEqual(JSON.parse(p.get('Message')!), event);
  const subject = p.get('Subject')!;
  assert.ok([...subject].length <= 100 && subject.startsWith(`[RAISED] ${'x'.repeat(50)}`), subject);
  assert.equal(p.get('MessageGroupId'), '/DX/Beijing/core-router agent-a');
  assert.equal(p.get('MessageDeduplicationId'), 'evt-0001');
});

test('sns: without endpoint, an aws-cn topic resolves to the China endpoint', async () => {
  const config = snsClientConfig('cn', { topic_arn: 'arn:aws-cn:sns:cn-northwest-1:123456789012:t', message: 'text' } as SnsConfig);
  assert.equal(config.region, 'cn-northwest-1');
  const client = new SNSClient(config);
  const ep = client.config.endpointProvider({ Region: await client.config.region(), UseFIPS: false, UseDualStack: false });
  assert.equal(ep.url.href, 'https://sns.cn-northwest-1.amazonaws.com.cn/');
  client.destroy();
});

test('sns: EC2 instance role credentials through IMDSv2 (served on loopback)', async (t) => {
  const imds = await startReceiver((r) => {
    if (r.method === 'PUT' && r.url === '/latest/api/token') return { body: 'imds-session', headers: { 'content-type': 'text/plain' } };
    if (r.headers['x-aws-ec2-metadata-token'] !== 'imds-session') return { status: 401 };
    if (/\/iam\/security-credentials(-extended)?\/$/.test(r.url)) return { body: 'smokemesh-role', headers: { 'content-type': 'text/plain' } };
    if (/\/iam\/security-credentials(-extended)?\/smokemesh-role$/.test(r.url)) {
      return { body: JSON.stringify({ Code: 'Success', Type: 'AWS-HMAC', AccessKeyId: 'ASIAROLE', SecretAccessKey: 'role-secret', Token: 'role-token', Expiration: new Date(Date.now() + 3600_000).toISOString(), LastUpdated: new Date().toISOString() }) };
    }
    return { status: 404 };
  });
  t.after(() => imds.close());
  const sns = await startReceiver(() => ({ body: PUBLISH_OK, headers: XML }));
  t.after(() => sns.close());
  delete process.env.AWS_EC2_METADATA_DISABLED;
  process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT = imds.base;
  t.after(() => { process.env.AWS_EC2_METADATA_DISABLED = 'true'; delete process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT; });

  const n = snsKind.create('role', { topic_arn: 'arn:aws-cn:sns:cn-north-1:123456789012:alerts', endpoint: sns.base });
  await n.send(sampleEvent(), AbortSignal.timeout(10_000));
  const r = sns.requests[0]!;
  verifySigV4(r, 'role-secret', { accessKey: 'ASIAROLE', region: 'cn-north-1' });
  assert.equal(r.headers['x-amz-security-token'], 'role-token');
  assert.ok(imds.requests.some((q) => q.method === 'PUT' && q.url === '/latest/api/token'), 'IMDSv2 session token requested');
});

test('sns: SNS errors, timeouts and missing credentials are failures naming the channel', async (t) => {
  const rx = await startReceiver(() => ({
    status: 404, headers: XML,
    body: '<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>NotFound</Code><Message>Topic does not exist</Message></Error><RequestId>r1</RequestId></ErrorResponse>',
  }));
  t.after(() => rx.close());
  const keys = { access_key_id: 'AKID', secret_access_key: 'k' };
  const n = snsKind.create('aws', { topic_arn: 'arn:aws:sns:eu-west-1:123456789012:missing', endpoint: rx.base, ...keys });
  await assert.rejects(n.send(sampleEvent(), AbortSignal.timeout(10_000)), (e: Error & { detail?: string }) =>
    /^sns notifier "aws": Publish failed \(http:\/\/127\.0\.0\.1:\d+\/\): HTTP 404 NotFoundException$/.test(e.message) && e.detail === 'Topic does not exist');
  rx.answer = () => ({ hang: true });
  await assert.rejects(n.send(sampleEvent(), AbortSignal.timeout(200)), /sns notifier "aws": no answer within the delivery timeout/);
  const nokeys = snsKind.create('aws', { topic_arn: 'arn:aws:sns:eu-west-1:123456789012:t', endpoint: rx.base });
  await assert.rejects(nokeys.send(sampleEvent(), AbortSignal.timeout(10_000)), (e: Error & { detail?: string }) =>
    /^sns notifier "aws": Publish failed .*CredentialsProviderError$/.test(e.message) && /[Cc]redential/.test(e.detail ?? ''));
});

test('sns: config errors', () => {
  assert.throws(() => snsKind.create('aws', {}), /notifiers\.aws: missing required field "topic_arn"/);
  assert.throws(() => snsKind.create('aws', { topic_arn: 'arn:aws:sqs:us-east-1:123456789012:q' }), /notifiers\.aws\.topic_arn: must match/);
  assert.throws(() => snsKind.create('aws', { topic_arn: 'arn:aws:sns:us-east-1:123456789012:t', access_key_id: 'A' }), /set access_key_id and secret_access_key together/);
  assert.throws(() => snsKind.create('aws', { topic_arn: 'arn:aws:sns:us-east-1:123456789012:t', endpoint: 'sns.local' }), /notifiers\.aws\.endpoint: .* is not a URL/);
});
