/**
 * SmokePing's default loss colours for 20 pings, by lost count: 0, 1, 2, 3, 4–5, 6–10,
 * 11–19, 20. Other ping counts (and rollup buckets) map by lost fraction: a fraction f
 * is coloured like f × 20 lost pings out of 20, rounded up (any loss is never green), and
 * only total loss gets the 20-of-20 colour.
 */
export const LOSS_COLORS = [
  { upTo: 0, color: '#26ff00' },
  { upTo: 1, color: '#00b8ff' },
  { upTo: 2, color: '#0059ff' },
  { upTo: 3, color: '#7e00ff' },
  { upTo: 5, color: '#ff00ff' },
  { upTo: 10, color: '#ff5500' },
  { upTo: 19, color: '#ff0000' },
  { upTo: 20, color: '#a00000' },
] as const;

/** Legend labels of the palette (lost pings out of 20). */
export const LOSS_LABELS = ['0', '1', '2', '3', '4–5', '6–10', '11–19', '20'];

/** The median colour for a loss in percent (null = nothing sent: no colour). */
export function lossColor(lossPct: number | null): string {
  if (lossPct === null) return LOSS_COLORS[7].color;
  if (lossPct <= 0) return LOSS_COLORS[0].color;
  if (lossPct >= 100) return LOSS_COLORS[7].color;
  // Rounding guards against 0.15 × 20 = 3.0000000000000004 landing in the next bucket.
  // Anything short of total loss stays below the 20-of-20 colour.
  const equiv = Math.min(19, Math.ceil(Math.round((lossPct / 100) * 20 * 1e6) / 1e6));
  for (const c of LOSS_COLORS) if (equiv <= c.upTo) return c.color;
  return LOSS_COLORS[7].color;
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
