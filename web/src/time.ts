/**
 * Times as the UI shows them: always a 24-hour clock in numbers (the same in every language),
 * in one time zone for the whole page: the viewer's browser zone, the server's, or UTC. The
 * choice is kept in localStorage; the config's presentation.time_zone is the default.
 */
export type ZoneChoice = 'browser' | 'server' | 'UTC';
const KEY = 'smokemesh.tz';

let serverZone = 'UTC';
let defaultChoice: ZoneChoice = 'browser';

/** Called once at boot with what the server said (its own zone and the configured default). */
export function setZoneDefaults(server: string, fallback: ZoneChoice): void {
  serverZone = server || 'UTC';
  defaultChoice = fallback;
}

/** The viewer's choice (or the configured default). */
export function zoneChoice(): ZoneChoice {
  const saved = localStorage.getItem(KEY);
  return saved === 'browser' || saved === 'server' || saved === 'UTC' ? saved : defaultChoice;
}

/** Remembers the viewer's choice. */
export function setZoneChoice(z: ZoneChoice): void {
  localStorage.setItem(KEY, z);
}

let browserZoneName: string | undefined;

/** The browser's IANA zone (asked once: making a DateTimeFormat costs ~1 ms, and every time shown asks). */
export function browserZone(): string {
  return (browserZoneName ??= Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC');
}

/** The IANA zone a choice stands for. */
export function zoneOf(choice: ZoneChoice): string {
  return choice === 'UTC' ? 'UTC' : choice === 'server' ? serverZone : browserZone();
}

/** The IANA zone every time on the page is shown in. */
export function currentZone(): string {
  return zoneOf(zoneChoice());
}

interface Parts { y: number; mo: number; d: number; h: number; mi: number; s: number }
const formatters = new Map<string, Intl.DateTimeFormat>();

/** Calendar fields of a time in a zone (24-hour). */
export function partsIn(ms: number, zone = currentZone()): Parts {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    formatters.set(zone, f);
  }
  const p: Record<string, number> = {};
  for (const x of f.formatToParts(ms)) if (x.type !== 'literal') p[x.type] = Number(x.value);
  return { y: p.year!, mo: p.month!, d: p.day!, h: p.hour! % 24, mi: p.minute!, s: p.second! };
}

/** The zone's offset from UTC at that time, in minutes (e.g. 480 for Asia/Shanghai). */
export function offsetMinutes(ms: number, zone = currentZone()): number {
  const p = partsIn(ms, zone);
  return Math.round((Date.UTC(p.y, p.mo - 1, p.d, p.h, p.mi, p.s) - Math.floor(ms / 1000) * 1000) / 60_000);
}

const two = (n: number) => String(n).padStart(2, '0');

/** "2026-11-23 14:05:09" in the page's zone. */
export function fmtTime(ms: number): string {
  const p = partsIn(ms);
  return `${p.y}-${two(p.mo)}-${two(p.d)} ${two(p.h)}:${two(p.mi)}:${two(p.s)}`;
}

/** "2026-11-23 14:05" in the page's zone. */
export function fmtMinute(ms: number): string {
  return fmtTime(ms).slice(0, 16);
}

/** "UTC+08:00" (or "UTC") for the zone at that time. */
export function offsetLabel(ms: number, zone = currentZone()): string {
  const m = offsetMinutes(ms, zone);
  if (m === 0) return 'UTC';
  const a = Math.abs(m);
  return `UTC${m < 0 ? '−' : '+'}${two(Math.floor(a / 60))}:${two(a % 60)}`;
}

/** "Asia/Shanghai (UTC+08:00)": what the page says about its times. */
export function zoneLabel(ms = Date.now(), zone = currentZone()): string {
  const off = offsetLabel(ms, zone);
  return zone === 'UTC' || zone === 'Etc/UTC' ? 'UTC' : `${zone} (${off})`;
}

/**
 * Labels of time-axis ticks (seconds since the epoch): the clock for ticks under a day apart,
 * with the date added where the day changes (and on the first tick) when the ticks span more
 * than one day; the date alone for ticks a day or more apart; year and month past 4 weeks.
 */
export function timeTicks(splits: readonly number[], incrSeconds: number, zone = currentZone()): string[] {
  const parts = splits.map((s) => partsIn(s * 1000, zone));
  const day = (p: Parts) => `${p.y}-${p.mo}-${p.d}`;
  if (incrSeconds >= 28 * 86400) return parts.map((p) => `${p.y}-${two(p.mo)}`);
  if (incrSeconds >= 86400) return parts.map((p, i) => (i === 0 || p.y !== parts[i - 1]!.y ? `${two(p.mo)}-${two(p.d)}\n${p.y}` : `${two(p.mo)}-${two(p.d)}`));
  const manyDays = parts.some((p) => day(p) !== day(parts[0]!));
  return parts.map((p, i) => {
    const clock = incrSeconds < 60 ? `${two(p.h)}:${two(p.mi)}:${two(p.s)}` : `${two(p.h)}:${two(p.mi)}`;
    const newDay = manyDays && (i === 0 || day(p) !== day(parts[i - 1]!));
    return newDay ? `${clock}\n${two(p.mo)}-${two(p.d)}` : clock;
  });
}

/** The time a "2026-11-23T14:05" wall-clock value means in the page's zone (NaN when it is not one). */
export function parseLocalInput(value: string, zone = currentZone()): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(value);
  if (!m) return NaN;
  const wall = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +(m[6] ?? 0));
  // The wall clock minus the zone's offset; twice, for a time next to a DST change.
  let ms = wall - offsetMinutes(wall, zone) * 60_000;
  ms = wall - offsetMinutes(ms, zone) * 60_000;
  return ms;
}
