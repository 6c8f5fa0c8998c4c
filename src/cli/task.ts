import { userInfo, hostname } from 'node:os';
import type { Command } from 'commander';
import { SmokemeshError } from '../errors.ts';
import { formatResult } from '../tasks/format.ts';
import { FINAL_STATUSES, type AgentChoice, type TaskRecord } from '../tasks/record.ts';
import { TASK_KINDS } from '../tasks/task.ts';
import { adminClient, adminOptions, type AdminCliOptions } from './admin-client.ts';
import { collect, int, keyValues } from './options.ts';

interface TaskCliOptions extends AdminCliOptions {
  agent: string[];
  region: string[];
  label: string[];
  probing?: string;
  all?: boolean;
  param: string[];
  count?: string;
  port?: string;
  json?: boolean;
}

/**
 * `smokemesh task KIND TARGET`: runs a diagnostic on agents through the server's API (the
 * admin token from its file), then prints each agent's result as it arrives.
 */
export function registerTaskCommand(program: Command): void {
  adminOptions(program
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
    .option('--json', 'print each result as one JSON line'))
    .action(async (kind: string, target: string, o: TaskCliOptions) => {
      const ok = await runTask(kind, target, o);
      process.exitCode = ok ? 0 : 1;
    });
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

  const { call, close } = adminClient(o);
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
    await close();
  }
}
