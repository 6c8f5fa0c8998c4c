/**
 * The core sections as entries of the list of sections: general, store, probes, targets.
 * Presets and the tree are resolved (and checked) by the engine itself, before any
 * section's check, because every other check reads the tree.
 */
import Type from 'typebox';
import { CoreSchema, type GeneralConfig, type StoreConfig } from './schema.ts';
import type { ConfigSection, SectionCheck } from './section.ts';
import { vmEndpointProblems } from './vm-endpoints.ts';

/** Longest retention a store setting may ask for: 100 years. */
export const MAX_KEEP_DAYS = 36_500;

/**
 * Splits `host:port` (IPv6 in brackets); undefined when it is not that form or the port is
 * above 65535. Port 0 (any free port) passes here, for --listen in tests; a config may not hold it.
 */
export function parseListen(listen: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]*)):(\d{1,5})$/.exec(listen);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

function checkGeneral(c: SectionCheck): void {
  const g = c.config.general as GeneralConfig | undefined;
  if (!g || typeof g !== 'object') return;
  if (typeof g.listen === 'string' && !(parseListen(g.listen)?.port)) {
    c.error(['general', 'listen'], `"${g.listen}" is not host:port with a port from 1 to 65535 (e.g. 0.0.0.0:8888, [::]:8888, 127.0.0.1:8888)`);
  }
  if (typeof g.public_url === 'string') {
    let ok = false;
    try {
      ok = /^https?:$/.test(new URL(g.public_url).protocol);
    } catch { /* reported below */ }
    if (!ok) c.error(['general', 'public_url'], `"${g.public_url}" is not an http:// or https:// URL`);
  }
}

function checkStore(c: SectionCheck): void {
  const s = c.config.store as StoreConfig | undefined;
  if (!s || !Array.isArray(s.tiers) || typeof s.raw_days !== 'number') return;
  for (const p of vmEndpointProblems(s, s.backend === 'victoriametrics')) c.error(['store', p.field], p.message);
  if (s.raw_days > MAX_KEEP_DAYS) c.error(['store', 'raw_days'], `at most ${MAX_KEEP_DAYS} days`);
  if (s.tiers.length === 0) {
    c.error(['store', 'tiers'], 'at least one rollup tier is needed (graphs beyond raw_days are drawn from it)');
    return;
  }
  const seen = new Map<number, number>();
  s.tiers.forEach((t, i) => {
    if (typeof t?.bucket !== 'number' || typeof t.keep_days !== 'number') return;
    const at = ['store', 'tiers', i];
    const first = seen.get(t.bucket);
    if (first !== undefined) c.error([...at, 'bucket'], `bucket ${t.bucket} s is listed twice (also tiers[${first}]); each tier needs its own bucket size`);
    else seen.set(t.bucket, i);
    if (t.keep_days > MAX_KEEP_DAYS) c.error([...at, 'keep_days'], `at most ${MAX_KEEP_DAYS} days`);
    else if (t.keep_days * 86400 < t.bucket) c.error([...at, 'keep_days'], `${t.keep_days} days is shorter than one bucket of ${t.bucket} s: the tier would never hold a finished bucket`);
    else if (t.keep_days < s.raw_days) c.warn([...at, 'keep_days'], `kept ${t.keep_days} days, less than the raw rounds (raw_days ${s.raw_days}): this tier is never used for graphs`);
  });
  // Coarser tiers exist to reach further back: one that keeps less than a finer one is never used.
  const sorted = s.tiers.map((t, i) => ({ ...t, i })).filter((t) => typeof t.bucket === 'number').sort((a, b) => a.bucket - b.bucket);
  for (let k = 1; k < sorted.length; k++) {
    const finer = sorted[k - 1]!, coarser = sorted[k]!;
    if (coarser.bucket !== finer.bucket && coarser.keep_days < finer.keep_days) {
      c.warn(['store', 'tiers', coarser.i, 'keep_days'], `the ${coarser.bucket} s tier keeps ${coarser.keep_days} days, less than the finer ${finer.bucket} s tier (${finer.keep_days} days): it is never used for graphs`);
    }
  }
}

const core = CoreSchema.properties;

/** general, store, probes, targets. */
export const CORE_SECTIONS: readonly ConfigSection[] = [
  { key: 'general', schema: core.general, check: checkGeneral },
  { key: 'store', schema: core.store, check: checkStore },
  { key: 'probes', schema: core.probes },
  { key: 'targets', schema: core.targets },
];

/** A section kept as written (for the core-only loader): any value, unchecked. */
export const unchecked = (key: string): ConfigSection => ({ key, schema: Type.Optional(Type.Unknown()) });
