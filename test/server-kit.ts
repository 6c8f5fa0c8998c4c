import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { startServer, type RunningServer } from '../src/server/app.ts';

/**
 * The `general:` section of a test server's config: a round every `step` s of `pings` pings
 * (2 s and 3 by default), data under `<dir>/data`, the built-in agent `agent` ("builtin");
 * `more` is further lines of the section (YAML indented by two spaces).
 */
export function generalSection(dir: string, o: { step?: number; pings?: number; agent?: string; more?: string } = {}): string {
  return [
    'general:',
    `  step: ${o.step ?? 2}`,
    `  pings: ${o.pings ?? 3}`,
    `  data_dir: ${join(dir, 'data')}`,
    `  agent_name: ${o.agent ?? 'builtin'}`,
    ...(o.more ? [o.more.replace(/\n$/, '')] : []),
  ].join('\n') + '\n';
}

/**
 * Writes `yaml` as `<dir>/<file>` (smokemesh.yaml by default) and starts the server in this
 * process on a free loopback port, logging at `level` (silent by default).
 */
export async function startServerIn(dir: string, yaml: string, o: { level?: 'silent' | 'warn'; file?: string } = {}): Promise<RunningServer> {
  const configFile = join(dir, o.file ?? 'smokemesh.yaml');
  writeFileSync(configFile, yaml);
  return startServer({ configFile, listen: '127.0.0.1:0', logger: pino({ level: o.level ?? 'silent' }) });
}
