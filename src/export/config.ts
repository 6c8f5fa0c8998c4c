import Type, { type Static } from 'typebox';
import type { Config } from '../config/loader.ts';
import { validate } from '../config/validate.ts';
import type { ConfigIssue } from '../errors.ts';
import { collectIssues, type ConfigSection, type IssueAt } from '../config/section.ts';

/** CloudWatch allows 30 dimensions per datum; Target, Agent and Region take three. */
export const CLOUDWATCH_MAX_DIMENSIONS = 30;
const BUILTIN_DIMENSIONS = 3;

/** What a series can export to CloudWatch, one custom metric each (docs/cloudwatch.md). */
export const CLOUDWATCH_METRICS = ['median', 'loss', 'mean', 'stddev', 'phases'] as const;

const RemoteWriteSchema = Type.Object({
  url: Type.String({ pattern: '^https?://', description: 'remote write endpoint, e.g. http://prometheus:9090/api/v1/write' }),
  labels: Type.Record(Type.String({ pattern: '^[a-zA-Z_][a-zA-Z0-9_]*$' }), Type.String(), { default: {}, description: 'labels added to every series' }),
  batch_rounds: Type.Integer({ minimum: 1, maximum: 50000, default: 2000 }),
  flush_seconds: Type.Number({ exclusiveMinimum: 0, maximum: 300, default: 5 }),
  max_pending_rounds: Type.Integer({ minimum: 1, default: 200000, description: 'rounds kept while the endpoint is down; beyond it the oldest are dropped' }),
  timeout_seconds: Type.Number({ exclusiveMinimum: 0, maximum: 300, default: 10 }),
}, { additionalProperties: false });

const DimensionName = Type.String({ minLength: 1, maxLength: 255, pattern: '^[^:]', description: 'CloudWatch dimension name' });

const CloudWatchSchema = Type.Object({
  region: Type.String({ pattern: '^[a-z]{2}(-[a-z]+)+-\\d+$', description: 'AWS region, e.g. us-east-1, cn-north-1 (China: monitoring.<region>.amazonaws.com.cn)' }),
  endpoint: Type.Optional(Type.String({ pattern: '^https?://', description: 'endpoint override, e.g. a VPC endpoint URL' })),
  profile: Type.Optional(Type.String({ minLength: 1, description: 'profile of ~/.aws/config and ~/.aws/credentials; default: the standard credential chain (environment, files, SSO, web identity, ECS task role, EC2 instance role)' })),
  namespace: Type.String({ minLength: 1, maxLength: 255, pattern: '^[^:]*$', default: 'Smokemesh', description: 'custom metric namespace (must not start with AWS/)' }),
  metrics: Type.Array(Type.Enum(CLOUDWATCH_METRICS), { minItems: 1, uniqueItems: true, default: [...CLOUDWATCH_METRICS], description: 'which values of a round are sent' }),
  labels: Type.Array(Type.String({ minLength: 1, maxLength: 255 }), { default: [], uniqueItems: true, description: 'target labels sent as dimensions (named as the label); a target without the label goes without that dimension' }),
  dimensions: Type.Record(DimensionName, Type.String({ minLength: 1, maxLength: 1024 }), { default: {}, description: 'constant dimensions added to every datum' }),
  storage_resolution: Type.Union([Type.Literal(1), Type.Literal(60)], { default: 60, description: '1: high-resolution metrics (billed as such)' }),
  flush_seconds: Type.Number({ exclusiveMinimum: 0, maximum: 300, default: 10 }),
  max_pending: Type.Integer({ minimum: 1, default: 200000, description: 'data points kept while CloudWatch refuses or is unreachable; beyond it the oldest are dropped' }),
  timeout_seconds: Type.Number({ exclusiveMinimum: 0, maximum: 300, default: 10 }),
}, { additionalProperties: false });

/** The `export:` section: where rounds are sent besides the store. */
export const ExportSectionSchema = Type.Object({
  remote_write: Type.Array(RemoteWriteSchema, { default: [] }),
  cloudwatch: Type.Array(CloudWatchSchema, { default: [] }),
}, { additionalProperties: false, default: {} });
export type ExportSection = Static<typeof ExportSectionSchema>;
export type RemoteWriteTarget = ExportSection['remote_write'][number];
export type CloudWatchTarget = ExportSection['cloudwatch'][number];

/** Reads `config.raw.export` with defaults; every problem located (file:line:col). */
export function parseExport(config: Pick<Config, 'file' | 'raw' | 'locate'>): { section: ExportSection; issues: ConfigIssue[] } {
  const { issue, issues } = collectIssues(config);
  const section = readExport(config.raw.export, issue);
  return { section: issues.length ? { remote_write: [], cloudwatch: [] } : section, issues };
}

/** The `export:` entry of the list of sections. */
export const exportSection: ConfigSection = {
  key: 'export',
  schema: Type.Optional(Type.Unknown()),
  check: (c) => void readExport(c.config.raw.export, c.error),
};

function readExport(raw: unknown, issue: IssueAt): ExportSection {
  const section = structuredClone(raw ?? {}) as ExportSection;
  const found = validate(ExportSectionSchema, section);
  for (const i of found) issue(['export', ...i.path], i.message);
  if (found.length) return { remote_write: [], cloudwatch: [] };
  section.remote_write.forEach((t, i) => {
    if (!URL.canParse(t.url)) issue(['export', 'remote_write', i, 'url'], `"${t.url}" is not a URL`);
  });
  section.cloudwatch.forEach((t, i) => {
    const at = ['export', 'cloudwatch', i];
    if (t.endpoint !== undefined && !URL.canParse(t.endpoint)) issue([...at, 'endpoint'], `"${t.endpoint}" is not a URL`);
    if (/^AWS\//i.test(t.namespace)) issue([...at, 'namespace'], `"${t.namespace}": namespaces starting with AWS/ are reserved for AWS services`);
    const dims = BUILTIN_DIMENSIONS + t.labels.length + Object.keys(t.dimensions).length;
    if (dims > CLOUDWATCH_MAX_DIMENSIONS) issue([...at, 'labels'], `${dims} dimensions per data point (Target, Agent, Region, ${t.labels.length} labels, ${Object.keys(t.dimensions).length} constant); CloudWatch takes at most ${CLOUDWATCH_MAX_DIMENSIONS}`);
    for (const name of [...t.labels, ...Object.keys(t.dimensions)]) {
      if (['Target', 'Agent', 'Region'].includes(name)) issue([...at, t.labels.includes(name) ? 'labels' : 'dimensions'], `"${name}" is a dimension smokemesh sets itself`);
    }
  });
  return section;
}
