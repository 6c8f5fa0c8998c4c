import { dnsTask } from './dns.ts';
import { httpTask } from './http.ts';
import { mtrTask } from './mtr.ts';
import { pingTask } from './ping.ts';
import type { TaskKind, TaskKindName } from './task.ts';
import { tcpTask } from './tcp.ts';
import { tracerouteTask } from './traceroute.ts';

/** Every task kind by name. Adding a diagnostic = one file + one entry here. */
export const TASKS: Record<TaskKindName, TaskKind<never>> = {
  mtr: mtrTask,
  traceroute: tracerouteTask,
  ping: pingTask,
  dns: dnsTask,
  http: httpTask,
  tcp: tcpTask,
} as unknown as Record<TaskKindName, TaskKind<never>>;

/** The kind named `name`, or undefined. */
export function taskKind(name: string): TaskKind | undefined {
  return Object.hasOwn(TASKS, name) ? (TASKS[name as TaskKindName] as unknown as TaskKind) : undefined;
}
