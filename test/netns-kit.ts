import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AlertService } from '../src/alerts/index.ts';
import type { probedTargets } from '../src/config/tree.ts';
import { icmpProbe } from '../src/probes/icmp.ts';
import { makeRound, type Round } from '../src/probes/round.ts';
import type { Store } from '../src/store/types.ts';

/** Whether this process may create network namespaces (tests that need them skip otherwise). */
export const isRoot = process.getuid?.() === 0;

/** Runs a command without a shell (argv as given, `input` on its stdin); throws with its stderr when it fails. */
export function sh(argv: string[], input?: string): void {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', shell: false, ...(input !== undefined ? { input } : {}) });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
}

/**
 * The far end of a "link" in a network namespace of our own: a veth pair whose end in the root
 * namespace has HOST_ADDR and whose end inside (eth0) has FAR_ADDR, a random /30 of the
 * benchmarking range 198.19.0.0/16 (RFC 2544), away from whatever this machine's own network
 * uses (here eth0 sits in 192.0.2.0/24). `octets` picks the third octet's range, so that tests
 * running side by side stay apart. Names start with `prefix` and a random tag.
 */
export class FarEnd {
  readonly ns: string;
  readonly veth: string;
  readonly net: string;
  readonly hostAddr: string;
  readonly farAddr: string;

  constructor(prefix: string, octets: { from: number; count: number }) {
    const tag = Math.random().toString(36).slice(2, 7);
    this.ns = `${prefix}${tag}`;
    this.veth = `${prefix}${tag}h`;
    const octet = octets.from + Math.floor(Math.random() * octets.count);
    const base = 4 * (1 + Math.floor(Math.random() * 60));
    this.net = `198.19.${octet}`;
    this.hostAddr = `${this.net}.${base + 1}`;
    this.farAddr = `${this.net}.${base + 2}`;
  }

  /** Creates the namespace and the veth pair, both ends up (checks first that the /24 is unused here). */
  setup(): void {
    const routes = spawnSync('ip', ['-4', 'route'], { encoding: 'utf8' }).stdout;
    const addrs = spawnSync('ip', ['-4', 'addr'], { encoding: 'utf8' }).stdout;
    assert.ok(!routes.includes(`${this.net}.`) && !addrs.includes(`${this.net}.`), `our test subnet ${this.net}.0/24 is not used on this machine`);
    sh(['ip', 'netns', 'add', this.ns]);
    sh(['ip', 'link', 'add', this.veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', this.ns]);
    sh(['ip', 'addr', 'add', `${this.hostAddr}/30`, 'dev', this.veth]);
    sh(['ip', 'link', 'set', this.veth, 'up']);
    sh(['ip', '-n', this.ns, 'addr', 'add', `${this.farAddr}/30`, 'dev', 'eth0']);
    sh(['ip', '-n', this.ns, 'link', 'set', 'eth0', 'up']);
    sh(['ip', '-n', this.ns, 'link', 'set', 'lo', 'up']);
  }

  /** Loads an nftables ruleset inside the namespace (`nft -f -`). */
  nft(ruleset: string): void {
    sh(['ip', 'netns', 'exec', this.ns, 'nft', '-f', '-'], ruleset);
  }

  /** Deletes an nftables table inside the namespace. */
  nftDelete(table: string): void {
    sh(['ip', 'netns', 'exec', this.ns, 'nft', 'delete', 'table', 'inet', table]);
  }

  /** Removes the namespace and the veth pair (whatever of them exists). */
  teardown(): void {
    spawnSync('ip', ['netns', 'del', this.ns]);
    spawnSync('ip', ['link', 'del', this.veth]);
  }
}

/**
 * probe → store → alert engine for one ICMP target, a round at each step boundary, as the
 * server's pipeline does (agent "srv"); each call waits for the next boundary, measures with the
 * real icmp probe (fping) and waits until the dispatcher is idle.
 */
export function icmpRounds(o: { target: ReturnType<typeof probedTargets>[number]; store: Store; alerts: AlertService; step: number }): () => Promise<Round> {
  const { target, store, alerts, step } = o;
  let tick = Math.ceil(Date.now() / (step * 1000)) * step * 1000;
  return async () => {
    await sleep(Math.max(0, tick - Date.now()));
    const time = tick;
    tick += step * 1000;
    const [m] = await icmpProbe.measure([{ path: target.path, host: target.probe.host, params: target.probe.params as never }], AbortSignal.timeout(step * 1000));
    const r = makeRound({ target: target.path, agent: 'srv', probe: 'icmp', time, step }, m!);
    store.write([r]);
    alerts.sink.write([r]);
    await alerts.dispatcher.idle();
    return r;
  };
}
