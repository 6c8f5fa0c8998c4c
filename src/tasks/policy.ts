import { BlockList, isIP } from 'node:net';
import type { Config } from '../config/loader.ts';
import type { ConfigSection, IssueAt } from '../config/section.ts';
import { TasksSectionSchema, type TasksConfig } from '../config/tasks-schema.ts';

/**
 * The task policy: which hosts tasks may be sent to. By default the hosts of the configured
 * targets and the addresses they resolved to (an admin can trace what the config measures,
 * not scan anything an agent can reach); `tasks.allow.networks` and `tasks.allow.names` add
 * more. Name resolution happens elsewhere (the caller hands the addresses in); this is pure.
 */
export interface TaskPolicy {
  /** Undefined when `host` may be sent tasks, else why not (one sentence naming the setting). */
  refuse(host: string): string | undefined;
  readonly allow: TasksConfig['allow'];
}

/** A CIDR block or a single address into a block list; an error message when it is neither. */
function addNetwork(list: BlockList, text: string): string | undefined {
  const [addr, bits, extra] = text.trim().split('/');
  const family = isIP(addr ?? '');
  if (!family || extra !== undefined) return `"${text}" is not an address or a CIDR block (e.g. 198.51.100.0/24, 2001:db8::/32)`;
  const type = family === 6 ? 'ipv6' : 'ipv4';
  if (bits === undefined) {
    list.addAddress(addr!, type);
    return undefined;
  }
  const prefix = Number(bits);
  if (!/^\d+$/.test(bits) || prefix > (family === 6 ? 128 : 32)) return `"${text}": prefix length must be 0–${family === 6 ? 128 : 32}`;
  list.addSubnet(addr!, prefix, type);
  return undefined;
}

/**
 * The `tasks:` entry of the list of sections (src/server/config-sections.ts): its schema
 * (defaults filled in) and the check beyond it, networks that do not parse, located in the file.
 */
export const tasksSection: ConfigSection = {
  key: 'tasks',
  schema: TasksSectionSchema,
  check: (c) => checkNetworks(c.config.raw.tasks, c.error),
};

/** The config's `tasks:` section, defaults filled in (the config was judged by the list of sections). */
export function tasksOf(config: Config): TasksConfig {
  return config.raw.tasks as TasksConfig;
}

function checkNetworks(section: unknown, issue: IssueAt): void {
  const networks = (section as Partial<TasksConfig> | undefined)?.allow?.networks;
  if (!Array.isArray(networks)) return; // the schema said why
  const scratch = new BlockList();
  networks.forEach((n, index) => {
    const message = typeof n === 'string' ? addNetwork(scratch, n) : undefined;
    if (message) issue(['tasks', 'allow', 'networks', index], message);
  });
}

/** The host part of a target's `host` (a URL for http targets). */
export function hostOfTarget(host: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(host)) {
    try {
      return normalize(new URL(host).hostname);
    } catch {
      return normalize(host);
    }
  }
  return normalize(host);
}

/** Lower case, no brackets around IPv6, no trailing dot: the form the policy compares. */
function normalize(host: string): string {
  return host.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '').toLowerCase();
}

/**
 * Builds the policy from `tasks.allow` and what the config measures: `targetHosts` (the
 * targets' hosts as written) and `targetAddresses` (what they resolved to).
 */
export function buildPolicy(allow: TasksConfig['allow'], targetHosts: Iterable<string>, targetAddresses: Iterable<string>): TaskPolicy {
  const names = new Set<string>();
  const targetIps = new BlockList();
  if (allow.targets) {
    for (const h of targetHosts) {
      const host = hostOfTarget(h);
      if (isIP(host)) addNetwork(targetIps, host);
      else names.add(host);
    }
    for (const a of targetAddresses) if (isIP(a)) addNetwork(targetIps, a);
  }
  const networks = new BlockList();
  for (const n of allow.networks) addNetwork(networks, n);
  const exact = new Set(allow.names.filter((n) => !n.startsWith('*.')).map(normalize));
  const suffixes = allow.names.filter((n) => n.startsWith('*.')).map((n) => normalize(n.slice(1)));
  const sources = [allow.targets ? 'the hosts of the configured targets and their addresses' : '', allow.networks.length ? `tasks.allow.networks [${allow.networks.join(', ')}]` : '', allow.names.length ? `tasks.allow.names [${allow.names.join(', ')}]` : '']
    .filter(Boolean).join(', ') || 'nothing (tasks.allow.targets is false and no networks or names are listed)';
  return {
    allow,
    refuse(raw) {
      const host = normalize(raw);
      const family = isIP(host);
      if (family) {
        const type = family === 6 ? 'ipv6' : 'ipv4';
        if (targetIps.check(host, type) || networks.check(host, type)) return undefined;
      } else if (names.has(host) || exact.has(host) || suffixes.some((s) => host.endsWith(s) && host.length > s.length)) {
        return undefined;
      }
      return `host "${raw}" is not allowed by the task policy, which allows ${sources}; add it to tasks.allow.${family ? 'networks' : 'names'} in the config`;
    },
  };
}
