/**
 * A progress line for long work (an import): count, rate and time left, redrawn in place on a
 * terminal at most ten times a second; elsewhere (a log, a pipe) a plain line every 10 s.
 */
export class ProgressBar {
  private readonly started = performance.now();
  private lastDraw = 0;
  private drawn = false;

  constructor(
    private readonly label: string,
    private readonly out: NodeJS.WriteStream = process.stderr,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** `done` of `total` finished. */
  update(done: number, total: number): void {
    const t = this.now();
    const tty = this.out.isTTY === true;
    const final = done >= total;
    if (!final && t - this.lastDraw < (tty ? 100 : 10_000)) return;
    this.lastDraw = t;
    const line = progressLine(this.label, done, total, (t - this.started) / 1000, tty ? (this.out.columns ?? 80) : 0);
    if (tty) {
      this.out.write(`\r${line}\x1b[K${final ? '\n' : ''}`);
      this.drawn = !final;
    } else {
      this.out.write(line + '\n');
    }
  }

  /** Ends the line if one is still being redrawn. */
  close(): void {
    if (this.drawn) this.out.write('\n');
    this.drawn = false;
  }
}

/** `[#####-----] 123/1000 RRDs · 12.3/s · ETA 1m11s`; the bar only when `width` > 0. */
export function progressLine(label: string, done: number, total: number, seconds: number, width: number): string {
  const rate = seconds > 0 ? done / seconds : 0;
  const left = rate > 0 ? (total - done) / rate : NaN;
  const text = `${done}/${total} ${label} · ${rate.toFixed(rate < 10 ? 1 : 0)}/s · ${done >= total ? `took ${duration(seconds)}` : `ETA ${Number.isFinite(left) ? duration(left) : '?'}`}`;
  const barWidth = Math.min(40, width - text.length - 4);
  if (barWidth < 10) return text;
  const fill = total > 0 ? Math.round((done / total) * barWidth) : barWidth;
  return `[${'#'.repeat(fill)}${'-'.repeat(barWidth - fill)}] ${text}`;
}

function duration(s: number): string {
  const t = Math.max(0, Math.round(s));
  if (t < 60) return `${t}s`;
  if (t < 3600) return `${Math.floor(t / 60)}m${String(t % 60).padStart(2, '0')}s`;
  return `${Math.floor(t / 3600)}h${String(Math.floor((t % 3600) / 60)).padStart(2, '0')}m`;
}
