import { existsSync, readFileSync } from 'node:fs';
import { userInfo, hostname } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { Agent, request } from 'undici';
import { loadConfig } from '../config/loader.ts';
import { SmokemeshError, type ErrorCode } from '../errors.ts';
import { formatResult } from '../tasks/format.ts';
import { FINAL_STATUSES, type AgentChoice, type TaskRecord } from '../tasks/record.ts';
import { TASK_KINDS } from '../tasks/task.ts';
import { collect, int, keyValues } from './options.ts';

interface TaskCliOptions {
  agent: string[];
  region: string[];
  label: string[];
  probing?: string;
  all?: boolean;
  param: string[];
  count?: string;
  port?: string;
  server?: string;
  config: string;
  tokenFile?: string;
  ca?: string;
  json?: boolean;
}

/**
 * `smokemesh task KIND TARGET`: runs a diagnostic on agents through the server's API (the
 * admin token from its file), then prints each agent's result as it arrives.
 */
export function registerTaskCommand(program: Command): void {
  program
    .command('task')
    .description('run a diagnostic task on agents and print each agent\'s result as it arrives (needs the server\'s admin token)')
    .argument('<kind>', `task kind: ${TASK_KINDS.join(', ')}`)
    .argument('<target>', 'host or address (http: the URL; dns: the DNS server, with --param name=…)')
    .option('-a, --agent <name>', 'an agent to run it (repeatable)', collect, [])
    .option('-r, --region <region>', 'the agents of a region (repeatable)', collect, [])
    .option('-l, --label <key=value>', 'the agents with this label (repeatable; all must match)', collect, [])
    .option('--probing <target-path>', 'the agents that probe this target, e.g. /Net/router')
    .option('--all', 'every agent (the other choices then filter)')
    .option('-c, --count <n>', 'probes (mtr, ping, tcp: count; traceroute: queries per hop)')
    .option('-p, --port <port>', 'port (tcp, dns; mtr and traceroute in tcp/udp mode)')
    .option('-P, --param <key=value>', 'any parameter of the kind (repeatable; JSON values allowed), see GET /api/v1/tasks/kinds', collect, [])
    .option('-s, --server <url>', 'server URL (default: from the config\'s general.listen, else http://127.0.0.1:8888)')
    .option('--config <file>', 'server config, for the URL and the admin token file', 'smokemesh.yaml')
    .option('--token-file <file>', 'admin token file (default: general.admin_token_file, else <data_dir>/admin.token)')
    .option('--ca <file>', 'PEM of the CA that signed the server\'s certificate')
    .option('--json', 'print each result as one JSON line')
    .action(async (kind: string, target: string, o: TaskCliOptions) => {
      const ok = await runTask(kind, target, o);
      process.exitCode = ok ? 0 : 1;
    });
}

/** Where the server is and its admin token, from the options and the config. */
function connection(o: TaskCliOptions): { base: string; token: string } {
  const config = existsSync(o.config) ? loadConfig(o.config) : undefined;
  let base = o.server;
  if (!base) {
    const listen = config?.general.listen ?? '127.0.0.1:8888';
    const host = listen.replace(/:\d+$/, '').replace(/^(0\.0\.0\.0|\[::\]|)$/, '127.0.0.1');
    base = `${config?.general.tls ? 'https' : 'http'}://${host}:${/:(\d+)$/.exec(listen)?.[1] ?? '8888'}`;
  }
  const file = o.tokenFile ?? config?.general.admin_token_file ?? join(resolve(config?.general.data_dir ?? './data'), 'admin.token');
  let token: string;
  try {
    token = readFileSync(file, 'utf8').trim();
  } catch (e) {
    throw new SmokemeshError('SMOKEMESH_E_USAGE', `cannot read the admin token file ${file}: ${(e as Error).message} (give --token-file or --config)`);
  }
  return { base: base.replace(/\/$/, ''), token };
}

async function runTask(kind: string, target: string, o: TaskCliOptions): Promise<boolean> {
  if (!(TASK_KINDS as readonly string[]).includes(kind)) throw new SmokemeshError('SMOKEMESH_E_USAGE', `unknown task kind "${kind}"; use one of ${TASK_KINDS.join(', ')}`);
  const params: Record<string, unknown> = kind === 'http' ? { url: target } : { host: target };
  if (o.count !== undefined) params[kind === 'traceroute' ? 'queries' : 'count'] = int(o.count, '--count');
  if (o.port !== undefined) params.port = int(o.port, '--port');
  Object.assign(params, keyValues(o.param, '--param', true));
  const agents: AgentChoice = {};
  if (o.agent.length) agents.names = o.agent;
  if (o.region.length) agents.regions = o.region;
  if (o.label.length) agents.labels = keyValues(o.label, '--label', false) as Record<string, string>;
  if (o.probing) agents.probing = o.probing;
  if (o.all) agents.all = true;

  const { base, token } = connection(o);
  const dispatcher = new Agent({ connect: o.ca ? { ca: readFileSync(o.ca, 'utf8') } : {}, headersTimeout: 120_000, bodyTimeout: 120_000 });
  const call = async <T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> => {
    let res;
    try {
      res = await request(base + path, {
        method, dispatcher,
        headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
    } catch (e) {
      throw new SmokemeshError('SMOKEMESH_E_USAGE', `cannot reach ${base}: ${(e as Error & { cause?: Error }).cause?.message ?? (e as Error).message}`);
    }
    const text = await res.body.text();
    const json = text ? JSON.parse(text) as unknown : undefined;
    if (res.statusCode >= 400) {
      const err = json as { code?: string; error?: string } | undefined;
      const ours = err?.code?.startsWith('SMOKEMESH_E_') ? (err.code as ErrorCode) : undefined;
      throw new SmokemeshError(ours ?? 'SMOKEMESH_E_USAGE', `${ours ? '' : `${err?.code ?? `HTTP ${res.statusCode}`}: `}${err?.error ?? text.slice(0, 300)}`);
    }
    return json as T;
  };

  try {
    let rec = await call<TaskRecord>('POST', '/api/v1/tasks', { kind, params, agents, requested_by: `${userInfo().username}@${hostname()} (cli)` });
    if (!o.json) process.stdout.write(`task ${rec.id}: ${kind} ${rec.host} on ${rec.results.map((r) => r.agent).join(', ')}\n`);
    const shown = new Set<string>();
    for (;;) {
      for (const r of rec.results) {
        if (!FINAL_STATUSES.has(r.status) || shown.has(r.agent)) continue;
        shown.add(r.agent);
        process.stdout.write(o.json ? JSON.stringify({ task: rec.id, kind, ...r }) + '\n' : formatResult(kind, r));
      }
      if (rec.state === 'finished') break;
      rec = await call<TaskRecord>('GET', `/api/v1/tasks/${rec.id}?version=${rec.version}&wait=25`);
    }
    return rec.results.every((r) => r.status === 'done');
  } finally {
    await dispatcher.close();
  }
}
