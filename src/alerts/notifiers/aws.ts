/**
 * What the AWS channels share (SNS, the route failover action): the access settings of a
 * block, and the SDK client settings they stand for. Credentials come from the SDK's
 * standard chain (environment, shared config/profile, SSO, web identity, ECS task role, EC2
 * instance role) unless keys are given explicitly; the region selects the partition
 * (cn-north-1 → *.amazonaws.com.cn); `endpoint` overrides it (VPC endpoint).
 */
import Type from 'typebox';
import { configError, httpUrl, secret, secretField } from './http-post.ts';

/** An AWS region name, e.g. us-east-1, cn-north-1. */
export const AWS_REGION = '^[a-z]{2}(-[a-z]+)+-\\d+$';

/** The access settings of an AWS channel block (besides its region). */
export const AwsAccessFields = {
  endpoint: Type.Optional(Type.String({ description: 'endpoint override, e.g. a VPC endpoint URL' })),
  profile: Type.Optional(Type.String({ minLength: 1, description: 'profile of ~/.aws/config and ~/.aws/credentials' })),
  access_key_id: Type.Optional(Type.String({ minLength: 1, description: 'explicit keys; default: the standard credential chain' })),
  secret_access_key: secretField('secret of access_key_id'),
  secret_access_key_file: Type.Optional(Type.String({ minLength: 1 })),
  session_token: secretField('session token of temporary keys'),
  session_token_file: Type.Optional(Type.String({ minLength: 1 })),
};

interface AwsAccess {
  endpoint?: string | undefined;
  profile?: string | undefined;
  access_key_id?: string | undefined;
}

/** The client settings every SDK v3 client takes; no SDK retries (the dispatcher retries, with backoff). */
export interface AwsClientSettings {
  region: string;
  maxAttempts: number;
  endpoint?: string;
  profile?: string;
  credentials?: () => Promise<{ accessKeyId: string; secretAccessKey: string; sessionToken?: string }>;
}

/** Client settings for block `name` in `region`; throws a located config error for bad pairs. */
export function awsClientConfig(name: string, c: AwsAccess, region: string): AwsClientSettings {
  const out: AwsClientSettings = { region, maxAttempts: 1 };
  if (c.endpoint !== undefined) out.endpoint = httpUrl(name, 'endpoint', c.endpoint).toString();
  if (c.profile !== undefined) out.profile = c.profile;
  const block = c as Record<string, unknown>;
  const secretKey = secret(name, block, 'secret_access_key');
  const sessionToken = secret(name, block, 'session_token');
  if ((c.access_key_id === undefined) !== (secretKey === undefined)) {
    throw configError(name, 'access_key_id', 'set access_key_id and secret_access_key together (or neither, for the standard credential chain)');
  }
  if (c.access_key_id !== undefined && c.profile !== undefined) throw configError(name, 'profile', 'set profile or explicit keys, not both');
  if (c.access_key_id !== undefined && secretKey) {
    const id = c.access_key_id;
    // A provider function: key files are re-read when the SDK asks again.
    out.credentials = async () => ({
      accessKeyId: id,
      secretAccessKey: await secretKey(),
      ...(sessionToken ? { sessionToken: await sessionToken() } : {}),
    });
  }
  return out;
}

/** Where a client sends, for error messages: the endpoint override or the region. */
export function awsWhere(config: { endpoint?: unknown; region?: unknown }): string {
  return config.endpoint ? String(config.endpoint) : `region ${String(config.region)}`;
}
