import type { HistoryInterval } from '../../store/types.ts';
import { rowTime, type RrdData } from './rrd-read.ts';

/**
 * A SmokePing RRD's AVERAGE rows as intervals of history for the store. SmokePing's layout:
 * data sources `uptime, loss, median, ping1..pingN`, values in seconds, `loss` the number of
 * pings lost (a mean, so fractional in consolidated rows), `pingK` the K-th fastest reply
 * (unknown for the lost ones: half before, half after the replies), `median` SmokePing's.
 * Each row covers (T − resolution, T], T its row time. Rows without a loss value hold nothing.
 */
export interface RrdHistory {
  /** Pings per round (N, from the pingK data sources). */
  pings: number;
  step: number;
  intervals: HistoryInterval[];
  /** Archives read, for the report: seconds per row and rows with data. */
  archives: Array<{ seconds: number; rows: number }>;
}

/** Reads the intervals; throws when the file does not have SmokePing's data sources. */
export function historyOf(d: RrdData): RrdHistory {
  const loss = d.ds.indexOf('loss');
  const median = d.ds.indexOf('median');
  const pings = d.ds.map((name, i) => [Number(/^ping(\d+)$/.exec(name)?.[1] ?? NaN), i] as const)
    .filter(([k]) => Number.isInteger(k)).sort((a, b) => a[0] - b[0]).map(([, i]) => i);
  if (loss < 0 || median < 0 || pings.length === 0) {
    throw new Error(`not a SmokePing RRD: its data sources are ${d.ds.join(', ')} (expected loss, median, ping1…pingN)`);
  }
  const n = pings.length;
  const width = d.ds.length;
  const intervals: HistoryInterval[] = [];
  const archives: RrdHistory['archives'] = [];
  const seen = new Set<number>();
  for (const a of d.archives) {
    if (a.cf !== 'AVERAGE') continue;
    const seconds = d.step * a.pdpPerRow;
    // Two archives of one resolution would describe the same time twice: the first wins.
    if (seen.has(seconds)) continue;
    seen.add(seconds);
    let rows = 0;
    for (let i = 0; i < a.rows; i++) {
      const at = i * width;
      const lost = a.values[at + loss]!;
      if (Number.isNaN(lost)) continue;
      const rtts: number[] = [];
      for (const p of pings) {
        const v = a.values[at + p]!;
        if (!Number.isNaN(v)) rtts.push(ms(v));
      }
      rtts.sort((x, y) => x - y);
      const m = a.values[at + median]!;
      intervals.push({
        time: (rowTime(d, a, i) - seconds) * 1000,
        seconds,
        rounds: a.pdpPerRow,
        pings: n,
        lost: Math.min(n, Math.max(0, lost)),
        median: Number.isNaN(m) ? null : ms(m),
        rtts,
      });
      rows++;
    }
    archives.push({ seconds, rows });
  }
  return { pings: n, step: d.step, intervals, archives };
}

/** Seconds → ms at the µs the store keeps. */
function ms(seconds: number): number {
  return Math.max(0, Math.round(seconds * 1e6) / 1e3);
}
