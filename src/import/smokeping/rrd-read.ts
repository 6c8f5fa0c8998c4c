import { spawn, type ChildProcess } from 'node:child_process';
import { SmokemeshError } from '../../errors.ts';

/**
 * Reads RRDs through rrdtool's own output: `rrdtool info` for the geometry, then `rrdtool
 * fetch FILE AVERAGE -r R` over the whole span of each AVERAGE archive (SmokePing's graphs use
 * AVERAGE only). To avoid starting rrdtool three or four times per file, a few long-lived
 * `rrdtool -` processes take the commands (its documented pipe mode: one command per line,
 * answered by "OK u:… s:… r:…" or "ERROR: …"); a path that pipe mode could split (white
 * space, quotes, backslashes) is read by separate processes with argument arrays instead.
 * Never a shell. Output is parsed line by line as it streams, bounded (values per file, line
 * length) and watched (a command silent for `silenceMs` kills its process).
 */

/** One round-robin archive: rows oldest first, `ds.length` values per row (NaN = unknown). */
export interface RrdArchive {
  cf: string;
  pdpPerRow: number;
  rows: number;
  values: Float64Array;
}

export interface RrdData {
  /** Seconds per primary data point. */
  step: number;
  /** Unix seconds of the last update. */
  lastUpdate: number;
  ds: string[];
  archives: RrdArchive[];
}

export interface ReaderOptions {
  rrdtool?: string;
  /** rrdtool processes (files read at once). */
  sessions?: number;
  /** Kill rrdtool when a command prints nothing for this long (default 60 s). */
  silenceMs?: number;
}

const MAX_LINE = 1024 * 1024;
/** 40 M values (320 MB): about 14 times SmokePing's shipped example geometry. */
const MAX_VALUES = 40_000_000;
/** Paths pipe mode passes through unchanged. */
const PIPE_SAFE = /^[^\s"'\\]+$/;

/** Row end time of row `i` (0 = oldest) of an archive, as rrdtool labels it. */
export function rowTime(d: Pick<RrdData, 'step' | 'lastUpdate'>, a: Pick<RrdArchive, 'pdpPerRow' | 'rows'>, i: number): number {
  const span = d.step * a.pdpPerRow;
  return d.lastUpdate - (d.lastUpdate % span) - (a.rows - 1 - i) * span;
}

/** What `rrdtool info` says about the geometry. */
export interface RrdInfo {
  step: number;
  lastUpdate: number;
  ds: string[];
  rras: Array<{ cf: string; rows: number; pdpPerRow: number }>;
}

/** Parses `rrdtool info` lines (`step = 300`, `ds[loss].index = 1`, `rra[0].cf = "AVERAGE"` …). */
export function parseInfo(lines: string[]): RrdInfo {
  let step = 0;
  let lastUpdate = -1;
  const ds: string[] = [];
  const rras: RrdInfo['rras'] = [];
  for (const line of lines) {
    let m = /^(step|last_update) = (\d+)$/.exec(line);
    if (m) {
      if (m[1] === 'step') step = Number(m[2]);
      else lastUpdate = Number(m[2]);
      continue;
    }
    m = /^ds\[([^\]]+)\]\.index = (\d+)$/.exec(line);
    if (m) {
      const i = Number(m[2]);
      if (i >= 10_000) throw new Error('more than 10000 data sources');
      ds[i] = m[1]!;
      continue;
    }
    m = /^rra\[(\d+)\]\.(cf|rows|pdp_per_row) = "?([A-Z]+|\d+)"?$/.exec(line);
    if (m) {
      const i = Number(m[1]);
      if (i >= 1000) throw new Error('more than 1000 archives');
      const r = (rras[i] ??= { cf: '', rows: 0, pdpPerRow: 0 });
      if (m[2] === 'cf') r.cf = m[3]!;
      else if (m[2] === 'rows') r.rows = Number(m[3]);
      else r.pdpPerRow = Number(m[3]);
    }
  }
  if (step < 1 || lastUpdate < 0 || ds.length === 0 || ds.some((d) => d === undefined)) {
    throw new Error("rrdtool info gave no step, last_update or data sources: not an RRD");
  }
  if (rras.some((r) => r === undefined || !r.cf || r.rows < 1 || r.pdpPerRow < 1)) throw new Error('rrdtool info lists an archive without cf, rows or pdp_per_row');
  return { step, lastUpdate, ds, rras };
}

/**
 * Fills `values` (rows × ds, oldest first) from `rrdtool fetch` lines ("T: v v v"), keeping
 * the rows whose time is one of the archive's; checks that rrdtool used that archive.
 */
export class FetchParser {
  private last = -1;
  constructor(private readonly first: number, private readonly resolution: number, private readonly rows: number, private readonly width: number, readonly values: Float64Array) {
    values.fill(NaN);
  }

  line(line: string): void {
    const colon = line.indexOf(':');
    if (colon < 0 || !/^\d+$/.test(line.slice(0, colon))) return; // header, blank line
    const t = Number(line.slice(0, colon));
    if (this.last >= 0 && t - this.last !== this.resolution) {
      throw new Error(`rrdtool fetch -r ${this.resolution} answered rows ${t - this.last} s apart (another archive?)`);
    }
    this.last = t;
    const i = (t - this.first) / this.resolution;
    if (!Number.isInteger(i) || i < 0 || i >= this.rows) return;
    const parts = line.slice(colon + 1).trim().split(/\s+/);
    if (parts.length !== this.width) throw new Error(`rrdtool fetch gave ${parts.length} values in a row, the file has ${this.width} data sources`);
    const at = i * this.width;
    for (let k = 0; k < this.width; k++) this.values[at + k] = parseFloat(parts[k]!);
  }
}

/** Reads RRDs with a few long-lived rrdtool processes; close() when done. */
export class RrdReader {
  private readonly idle: Session[] = [];
  private readonly waiting: Array<(s: Session) => void> = [];
  private readonly all = new Set<Session>();
  private readonly size: number;
  private readonly rrdtool: string;
  private readonly silenceMs: number;

  constructor(opts: ReaderOptions = {}) {
    this.size = Math.max(1, opts.sessions ?? 2);
    this.rrdtool = opts.rrdtool ?? 'rrdtool';
    this.silenceMs = opts.silenceMs ?? 60_000;
  }

  /**
   * The AVERAGE archives of `file`; rejects with SMOKEMESH_E_STORE naming the file. When
   * `wanted` says no to the geometry, the archives are not fetched (an empty list).
   */
  async read(file: string, wanted: (info: RrdInfo) => boolean = () => true): Promise<RrdData> {
    const session = await this.acquire();
    try {
      const run = PIPE_SAFE.test(file)
        ? (args: string[], onLine: (l: string) => void) => session.command(args, onLine)
        : (args: string[], onLine: (l: string) => void) => runOnce(this.rrdtool, args, onLine, this.silenceMs);
      const infoLines: string[] = [];
      await run(['info', file], (l) => { if (infoLines.length < 1_000_000) infoLines.push(l); });
      const info = parseInfo(infoLines);
      const archives: RrdArchive[] = [];
      if (!wanted(info)) return { step: info.step, lastUpdate: info.lastUpdate, ds: info.ds, archives };
      let total = 0;
      for (const r of info.rras) {
        if (r.cf !== 'AVERAGE') continue;
        if ((total += r.rows * info.ds.length) > MAX_VALUES) throw new Error(`more than ${MAX_VALUES} values in its AVERAGE archives`);
        const a: RrdArchive = { cf: r.cf, pdpPerRow: r.pdpPerRow, rows: r.rows, values: new Float64Array(r.rows * info.ds.length) };
        const res = info.step * r.pdpPerRow;
        const first = rowTime(info, a, 0);
        const end = rowTime(info, a, r.rows - 1);
        const parser = new FetchParser(first, res, r.rows, info.ds.length, a.values);
        await run(['fetch', file, 'AVERAGE', '-r', String(res), '-s', String(first - res), '-e', String(end)], (l) => parser.line(l));
        archives.push(a);
      }
      return { step: info.step, lastUpdate: info.lastUpdate, ds: info.ds, archives };
    } catch (e) {
      if (e instanceof SessionError) this.discard(session);
      const msg = (e as Error).message;
      const missing = (e as NodeJS.ErrnoException).code === 'ENOENT' || /spawn \S+ ENOENT/.test(msg);
      throw new SmokemeshError('SMOKEMESH_E_STORE', `${file}: ${missing ? 'rrdtool not found (apt-get install rrdtool)' : msg}`);
    } finally {
      this.release(session);
    }
  }

  close(): void {
    for (const s of this.all) s.close();
    this.all.clear();
    this.idle.length = 0;
  }

  private async acquire(): Promise<Session> {
    const s = this.idle.pop();
    if (s && !s.dead) return s;
    if (this.all.size < this.size) {
      const fresh = new Session(this.rrdtool, this.silenceMs);
      this.all.add(fresh);
      return fresh;
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(s: Session): void {
    if (s.dead) {
      this.all.delete(s);
      const w = this.waiting.shift();
      if (w) {
        const fresh = new Session(this.rrdtool, this.silenceMs);
        this.all.add(fresh);
        w(fresh);
      }
      return;
    }
    const w = this.waiting.shift();
    if (w) w(s);
    else this.idle.push(s);
  }

  private discard(s: Session): void {
    s.close();
  }
}

/** A failure of the rrdtool process itself (not of one command): the session is not reused. */
class SessionError extends Error {}

/** One `rrdtool -` process answering one command at a time. */
class Session {
  private readonly child: ChildProcess;
  private carry = '';
  private current: { onLine: (l: string) => void; resolve: () => void; reject: (e: Error) => void; timer: NodeJS.Timeout } | undefined;
  dead = false;
  private stderr = '';

  constructor(rrdtool: string, private readonly silenceMs: number) {
    this.child = spawn(rrdtool, ['-'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (chunk: string) => this.data(chunk));
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (c: string) => { if (this.stderr.length < 4096) this.stderr += c; });
    this.child.on('error', (e) => this.fail(e));
    this.child.on('close', (code) => this.fail(new SessionError(`rrdtool exited (${code ?? 'signal'}): ${this.stderr.trim().split('\n')[0] ?? ''}`)));
    this.child.stdin!.on('error', () => { /* reported by close */ });
  }

  command(args: string[], onLine: (l: string) => void): Promise<void> {
    if (this.dead) return Promise.reject(new SessionError('rrdtool is not running'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.fail(new SessionError(`rrdtool printed nothing for ${this.silenceMs / 1000} s`)), this.silenceMs);
      this.current = { onLine, resolve, reject, timer };
      this.child.stdin!.write(args.join(' ') + '\n');
    });
  }

  private data(chunk: string): void {
    const text = this.carry + chunk;
    let start = 0;
    const cur = this.current;
    if (cur) cur.timer.refresh();
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      const line = text.slice(start, nl);
      start = nl + 1;
      const c = this.current;
      if (!c) continue;
      if (line.startsWith('OK u:')) {
        this.done();
        c.resolve();
      } else if (line.startsWith('ERROR:')) {
        this.done();
        c.reject(new Error(line.slice(6).trim()));
      } else {
        try {
          c.onLine(line);
        } catch (e) {
          // Keep reading to the end of this command's answer, then report.
          this.current = { ...c, onLine: () => {}, resolve: () => c.reject(e as Error) };
        }
      }
    }
    this.carry = text.slice(start);
    if (this.carry.length > MAX_LINE) this.fail(new SessionError(`a line of rrdtool's output is longer than ${MAX_LINE} bytes`));
  }

  private done(): void {
    if (this.current) clearTimeout(this.current.timer);
    this.current = undefined;
  }

  private fail(e: Error): void {
    const c = this.current;
    this.done();
    if (!this.dead) {
      this.dead = true;
      this.child.kill('SIGKILL');
    }
    c?.reject(e instanceof SessionError ? e : new SessionError(e.message));
  }

  close(): void {
    this.dead = true;
    this.done();
    this.child.stdin!.end();
    this.child.kill();
  }
}

/** One rrdtool process for one command, for paths pipe mode cannot carry. */
function runOnce(rrdtool: string, args: string[], onLine: (l: string) => void, silenceMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(rrdtool, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let carry = '';
    let stderr = '';
    let failed: Error | undefined;
    const timer = setTimeout(() => { failed = new Error(`rrdtool printed nothing for ${silenceMs / 1000} s`); child.kill('SIGKILL'); }, silenceMs);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      timer.refresh();
      const text = carry + chunk;
      let start = 0;
      for (;;) {
        const nl = text.indexOf('\n', start);
        if (nl < 0) break;
        if (!failed) {
          try { onLine(text.slice(start, nl)); } catch (e) { failed = e as Error; child.kill('SIGKILL'); }
        }
        start = nl + 1;
      }
      carry = text.slice(start);
      if (carry.length > MAX_LINE && !failed) { failed = new Error(`a line of rrdtool's output is longer than ${MAX_LINE} bytes`); child.kill('SIGKILL'); }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (c: string) => { if (stderr.length < 4096) stderr += c; });
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (failed) return reject(failed);
      if (carry && !failed) {
        try { onLine(carry); } catch (e) { return reject(e as Error); }
      }
      if (code !== 0) return reject(new Error(stderr.replace(/^ERROR:\s*/, '').trim().split('\n')[0] || `rrdtool exited ${code}`));
      resolve();
    });
  });
}
