import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { startVictoria, type Victoria } from './victoria.ts';

const PROXY = join(import.meta.dirname, 'vm-cluster-proxy.ts');

/** What the cluster stand-in (test/vm-cluster-proxy.ts) saw. */
export interface ClusterProxyState {
  partial: boolean;
  /** Requests it answered 400 (a path or tenant a cluster of this tenant would not serve). */
  refused: string[];
  /** Forwarded requests by single-node path. */
  seen: Record<string, number>;
  /** vmselect reads without deny_partial_response=1. */
  withoutDeny: number;
}

/** A VictoriaMetrics single node behind a vminsert/vmselect stand-in that accepts one tenant's cluster paths only. */
export interface VictoriaCluster {
  vm: Victoria;
  tenant: string;
  insertUrl: string;
  selectUrl: string;
  /** Makes vmselect's JSON reads partial (`"isPartial": true`, half of the series missing), or whole again. */
  setPartial(on: boolean): Promise<void>;
  state(): Promise<ClusterProxyState>;
  stop(): Promise<void>;
}

/** Starts a VictoriaMetrics single node and the cluster stand-in in front of it for `tenant`. */
export async function startVictoriaCluster(tenant: string): Promise<VictoriaCluster> {
  const vm = await startVictoria();
  const child = spawn(process.execPath, ['--import', 'tsx', PROXY, vm.url, tenant], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let err = '';
  child.stderr.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-2000); });
  let ports: { insert: number; select: number; control: number };
  try {
    ports = await new Promise((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const nl = out.indexOf('\n');
        if (nl >= 0) resolve(JSON.parse(out.slice(0, nl)) as typeof ports);
      });
      child.once('exit', (code) => reject(new Error(`the cluster proxy exited (${code}): ${err}`)));
    });
  } catch (e) {
    await vm.stop();
    throw e;
  }
  const control = `http://127.0.0.1:${ports.control}`;
  return {
    vm,
    tenant,
    insertUrl: `http://127.0.0.1:${ports.insert}`,
    selectUrl: `http://127.0.0.1:${ports.select}`,
    setPartial: async (on) => {
      const r = await fetch(`${control}/partial?on=${on ? 1 : 0}`, { method: 'POST' });
      if (r.status !== 204) throw new Error(`the cluster proxy answered ${r.status}`);
    },
    state: async () => (await (await fetch(`${control}/state`)).json()) as ClusterProxyState,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
      await vm.stop();
    },
  };
}
