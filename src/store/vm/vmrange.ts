/**
 * VictoriaMetrics' log-bucketed histogram (`vmrange` buckets, as its Go client library
 * `metrics.Histogram` makes them): 18 buckets per decade over 1e-9..1e18, bucket k spans
 * 10^(k/18 − 9) .. 10^((k+1)/18 − 9), upper bound inclusive. Using VM's own boundaries means
 * `histogram_quantiles(…, sum(…) by (vmrange))` merges our rounds with no conversion.
 */

const E10_MIN = -9;
const E10_MAX = 18;
const PER_DECADE = 18;
const COUNT = (E10_MAX - E10_MIN) * PER_DECADE;
const MULTIPLIER = 10 ** (1 / PER_DECADE);

/** The label of values below 1e-9 (zero RTTs) and of values beyond 1e18. */
export const LOWER_RANGE = '0...1.000e-09';
export const UPPER_RANGE = '1.000e+18...+Inf';

/** Go's `%.3e` (exponent signed, at least two digits): VM's label spelling. */
function goExp(v: number): string {
  const [m, e] = v.toExponential(3).split('e') as [string, string];
  const sign = e.startsWith('-') ? '-' : '+';
  const digits = e.replace(/^[-+]/, '');
  return `${m}e${sign}${digits.length < 2 ? '0' + digits : digits}`;
}

/** Lower bounds and labels, built by repeated multiplication exactly as VM does (same rounding). */
const bounds: number[] = [];
const labels: string[] = [];
{
  let v = 10 ** E10_MIN;
  let start = goExp(v);
  for (let i = 0; i < COUNT; i++) {
    bounds.push(v);
    v *= MULTIPLIER;
    const end = goExp(v);
    labels.push(`${start}...${end}`);
    start = end;
  }
  bounds.push(v);
}

/** The vmrange label of a value (ms); undefined for negative or NaN values (VM ignores them too). */
export function vmrangeOf(v: number): string | undefined {
  if (!(v >= 0)) return undefined;
  const idx = (Math.log10(v) - E10_MIN) * PER_DECADE;
  if (idx < 0) return LOWER_RANGE;
  if (idx >= COUNT) return UPPER_RANGE;
  let i = Math.floor(idx);
  // A value on a boundary belongs to the bucket below (upper bound inclusive, as Prometheus' `le`).
  if (idx === i && i > 0) i--;
  return labels[i];
}

/** Counts per vmrange label of a round's RTTs. */
export function histogramOf(rtts: readonly number[]): Map<string, number> {
  const h = new Map<string, number>();
  for (const v of rtts) {
    const l = vmrangeOf(v);
    if (l !== undefined) h.set(l, (h.get(l) ?? 0) + 1);
  }
  return h;
}

/** The bounds [lo, hi] a vmrange label names (hi may be Infinity). */
export function rangeBounds(label: string): [number, number] {
  const [lo, hi] = label.split('...') as [string, string];
  return [Number(lo), hi === '+Inf' ? Infinity : Number(hi)];
}

/**
 * Ascending stand-ins for the values counted in a histogram: `c` values spread evenly inside
 * each bucket (within a bucket's width, ≤ 13.6 %, of the values they stand for), clamped to
 * the known min and max. Used for a raw round's smoke, whose exact RTTs VM does not keep.
 */
export function samplesOf(h: Iterable<[string, number]>, min: number | null, max: number | null): number[] {
  const out: number[] = [];
  const sorted = [...h].map(([l, c]) => [rangeBounds(l), c] as const).sort((a, b) => a[0][0] - b[0][0]);
  for (const [[lo, hi], c] of sorted) {
    const top = Number.isFinite(hi) ? hi : lo;
    for (let k = 0; k < c; k++) out.push(lo + ((top - lo) * (k + 0.5)) / c);
  }
  if (out.length && min !== null) out[0] = min;
  if (out.length && max !== null) out[out.length - 1] = max;
  for (let i = 1; i < out.length; i++) if (out[i]! < out[i - 1]!) out[i] = out[i - 1]!;
  return out.map((v) => Math.round(v * 1000) / 1000);
}
