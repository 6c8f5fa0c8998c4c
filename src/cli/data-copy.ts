import type { StoreConfig } from '../config/schema.ts';
import type { VmStoreFields } from '../config/vm-endpoints.ts';
import { SmokemeshError } from '../errors.ts';
import type { SqliteStore, StoreLogger } from '../store/index.ts';
import { VmStore } from '../store/index.ts';

/** Rounds read from SQLite and handed to the outbox at a time. */
const CHUNK = 5000;

export interface CopyResult {
  series: number;
  rounds: number;
  /** Rounds the target refused (older than store.raw_days now, or malformed). */
  refused: number;
  /** The VictoriaMetrics copied to, as logs name it. */
  label: string;
}

/**
 * Copies every raw round of the SQLite store to the VictoriaMetrics `target` names (a single
 * node's url, or a cluster's insert_url, select_url and tenant), through the
 * VictoriaMetrics backend's outbox in the same data dir (so its series index is filled too),
 * waiting for each chunk to be taken. Running it again is harmless: VictoriaMetrics, run with
 * -dedup.minScrapeInterval=1ms as docs/scale.md says, keeps one sample per round.
 */
export async function copyToVictoria(src: SqliteStore, dir: string, cfg: StoreConfig, target: VmStoreFields,
  progress: (done: number, total: number) => void, log?: StoreLogger): Promise<CopyResult> {
  const total = src.tableRows().raw ?? 0;
  // The target replaces whatever VictoriaMetrics the config names (a URL given on the command line wins).
  const vm = new VmStore(dir, { ...cfg, backend: 'victoriametrics', url: target.url, insert_url: target.insert_url, select_url: target.select_url, tenant: target.tenant }, { timers: false, ...(log ? { log } : {}) });
  let rounds = 0;
  let series = 0;
  try {
    await drain(vm);
    for (const s of src.list()) {
      series++;
      let after = -1;
      for (;;) {
        const batch = src.rawRoundsAfter(s.target, s.agent, after, CHUNK);
        if (batch.length === 0) break;
        vm.write(batch);
        await drain(vm);
        rounds += batch.length;
        after = batch[batch.length - 1]!.time;
        progress(rounds, total);
      }
    }
    if (rounds < total) progress(total, total); // rounds refused or pruned meanwhile: end the bar
    return { series, rounds, refused: vm.stats().refused, label: vm.label };
  } finally {
    vm.close();
  }
}

/** Sends the outbox; a failure stops the copy (what was sent stays sent; run it again to resume). */
async function drain(vm: VmStore): Promise<void> {
  await vm.flush();
  const st = vm.stats();
  if (st.pending > 0) throw new SmokemeshError('SMOKEMESH_E_STORE', `copy stopped: ${st.last_error ?? 'VictoriaMetrics did not take the rounds'}; ${st.pending} rounds wait in the outbox; run the command again to resume`);
}
