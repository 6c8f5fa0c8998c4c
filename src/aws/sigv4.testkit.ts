/**
 * Test kit for the AWS clients (SNS, CloudWatch, EC2): keeps this machine's AWS settings out
 * of the tests, and checks a request received on a local endpoint the way AWS does: the
 * SigV4 signature recomputed from the spec with the test's secret.
 */
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import type { Received } from '../alerts/notifiers/receiver.testkit.ts';

/** No credentials, profile, region or metadata service of this machine may reach a test. */
export function isolateAwsEnv(): void {
  process.env.AWS_CONFIG_FILE = '/nonexistent/smokemesh-aws-config';
  process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/smokemesh-aws-credentials';
  for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_REGION', 'AWS_DEFAULT_REGION',
    'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', 'AWS_CONTAINER_CREDENTIALS_FULL_URI', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_ENDPOINT_URL']) delete process.env[k];
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
}

/** What the signature must say besides being right. */
export interface SigV4Expect {
  accessKey: string;
  /** The signing region (cn-north-1 for the China partition). */
  region: string;
  /** The signing service: sns, monitoring, ec2. */
  service: string;
}

/**
 * Recomputes the SigV4 signature of a received request from the spec (canonical request →
 * string to sign → derived key) and checks the Authorization header: key id, date scope,
 * region, service, signed host and x-amz-date, the payload hash over the bytes as sent.
 */
export function verifySigV4(r: Received, secretKey: string, expect: SigV4Expect): void {
  const auth = String(r.headers.authorization);
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(auth);
  assert.ok(m, `not a SigV4 Authorization header: ${auth}`);
  const [, accessKey, date, region, service, signedHeaders, signature] = m;
  assert.equal(accessKey, expect.accessKey);
  assert.equal(region, expect.region);
  assert.equal(service, expect.service);
  const amzDate = String(r.headers['x-amz-date']);
  assert.equal(amzDate.slice(0, 8), date);
  const signedAt = Date.UTC(+amzDate.slice(0, 4), +amzDate.slice(4, 6) - 1, +amzDate.slice(6, 8), +amzDate.slice(9, 11), +amzDate.slice(11, 13), +amzDate.slice(13, 15));
  assert.ok(Math.abs(Date.now() - signedAt) < 5 * 60_000, `x-amz-date ${amzDate} within 5 minutes of now`);
  const names = signedHeaders!.split(';');
  assert.ok(names.includes('host') && names.includes('x-amz-date'), signedHeaders);
  const [path, query = ''] = r.url.split('?');
  const payloadHash = createHash('sha256').update(r.raw).digest('hex');
  if (r.headers['x-amz-content-sha256']) assert.equal(r.headers['x-amz-content-sha256'], payloadHash);
  const canonical = [
    r.method, path, query,
    names.map((h) => `${h}:${String(r.headers[h]).trim().replace(/\s+/g, ' ')}\n`).join(''),
    signedHeaders, payloadHash,
  ].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
  const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();
  const key = hmac(hmac(hmac(hmac(`AWS4${secretKey}`, date!), region!), service!), 'aws4_request');
  assert.equal(signature, createHmac('sha256', key).update(toSign).digest('hex'), 'SigV4 signature recomputed from the spec');
}
