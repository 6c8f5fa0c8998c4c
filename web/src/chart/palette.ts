/**
 * SmokePing's loss colours, which scale with the pings of a round: for p pings the bins end at
 * 0, max(⌊1 % p⌋, 1), max(⌊5 % p⌋, 2), max(⌊10 % p⌋, 3), max(⌊25 % p⌋, 4), max(⌊50 % p⌋, 5),
 * p − 1 and p lost pings (a later bin replaces an earlier one that ends at the same count, as
 * in SmokePing; bins past p are left out). For 20 pings: 0, 1, 2, 3, 4–5, 6–10, 11–19, 20.
 * Two deliberate differences: no loss is always green (SmokePing paints 1 ping of 1 received
 * red), and only total loss gets the last colour, so an outage reads apart from heavy loss.
 */
export interface LossBin {
  /** Lost pings (of `pings`) up to which this colour applies. */
  upTo: number;
  color: string;
  /** "0", "1", "4–5", "20/20" as SmokePing's legend writes them. */
  label: string;
}

const BIN_COLORS = ['#26ff00', '#00b8ff', '#0059ff', '#7e00ff', '#ff00ff', '#ff5500', '#ff0000', '#a00000'] as const;
const bins = new Map<number, LossBin[]>();

/** The loss bins of a target with `pings` pings per round. */
export function lossBins(pings = 20): LossBin[] {
  const p = Math.max(1, Math.round(pings) || 20);
  let out = bins.get(p);
  if (out) return out;
  const per = (f: number, min: number) => Math.max(Math.floor(f * p), min);
  const ends = [0, per(0.01, 1), per(0.05, 2), per(0.1, 3), per(0.25, 4), per(0.5, 5), p - 1, p];
  const colorAt = new Map<number, string>();
  ends.forEach((end, i) => {
    if (end === 0 && i > 0) return;
    colorAt.set(end, BIN_COLORS[i]!);
  });
  const sorted = [...colorAt.keys()].filter((k) => k <= p).sort((a, b) => a - b);
  out = sorted.map((upTo, i) => {
    const lower = i === 0 ? 0 : sorted[i - 1]! + 1;
    const label = upTo === 0 ? '0' : upTo === p ? `${p}/${p}` : upTo > lower ? `${lower}–${upTo}` : String(upTo);
    return { upTo, color: colorAt.get(upTo)!, label };
  });
  bins.set(p, out);
  return out;
}

/** SmokePing's palette for 20 pings (the default when a target's pings are not known). */
export const LOSS_COLORS = lossBins(20);

/**
 * The median colour for a loss in percent of a target with `pings` pings per round (rollup
 * buckets: their average lost count falls into a bin the same way). null = nothing sent.
 */
export function lossColor(lossPct: number | null, pings = 20): string {
  const list = lossBins(pings);
  const total = list[list.length - 1]!;
  if (lossPct === null || lossPct >= 100) return total.color;
  if (lossPct <= 0) return list[0]!.color;
  // Rounding guards against 0.15 × 20 = 3.0000000000000004 landing in the next bin.
  const lost = Math.round((lossPct / 100) * total.upTo * 1e6) / 1e6;
  for (let i = 1; i < list.length - 1; i++) if (lost <= list[i]!.upTo) return list[i]!.color;
  // Short of total loss: the colour before the last.
  return list[Math.max(1, list.length - 2)]!.color;
}

/** Pings per round of a point: its own count (sent over rounds) when it has one, else the target's. */
export function pointPings(p: { sent?: number; rounds?: number }, fallback: number): number {
  return p.sent && p.rounds ? p.sent / p.rounds : fallback;
}

/** Distinct colours for agents that have none configured. */
const AGENT_COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f'];

/** An agent's colour: its configured one, else a stable pick from its name. */
export function agentColor(name: string, configured?: string): string {
  if (configured) return configured;
  let h = 0;
  for (const ch of name) h = (h * 31 + ch.codePointAt(0)!) >>> 0;
  return AGENT_COLORS[h % AGENT_COLORS.length]!;
}

/** Parses #rgb / #rrggbb to [r, g, b]. */
export function rgb(hex: string): [number, number, number] {
  let s = hex.trim().replace('#', '');
  if (s.length === 3) s = [...s].map((c) => c + c).join('');
  const n = parseInt(s, 16);
  return Number.isNaN(n) ? [128, 128, 128] : [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** Mixes two colours: 0 = a, 1 = b. */
export function mix(a: string, b: string, t: number): string {
  const [r1, g1, b1] = rgb(a);
  const [r2, g2, b2] = rgb(b);
  const m = (x: number, y: number) => Math.round(x + (y - x) * t);
  return `rgb(${m(r1, r2)},${m(g1, g2)},${m(b1, b2)})`;
}

/**
 * Shade of smoke band `i` of `pairs` (0 = outermost): lighter outward, darker toward the
 * median, as a mix of the background and the ink colour.
 */
export function smokeShade(bg: string, ink: string, i: number, pairs: number, strength = 1): string {
  const key = `${bg}|${ink}|${i}|${pairs}|${strength}`;
  let c = shades.get(key);
  if (!c) {
    const f = pairs <= 1 ? 1 : i / (pairs - 1);
    shades.set(key, (c = mix(bg, ink, (0.14 + 0.46 * f) * strength)));
  }
  return c;
}
const shades = new Map<string, string>();
