import { spawn } from 'node:child_process';
import { SmokemeshError } from '../../errors.ts';

/**
 * Reads an RRD through rrdtool's own `rrdtool dump` (one process per file, argument array,
 * no shell), parsing its XML line by line as it streams. Only the archives asked for are
 * kept (SmokePing's graphs use AVERAGE only). Bounded: line length, values kept, and a
 * silence timeout; anything rrdtool prints that does not fit is an error naming the file.
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

export interface DumpOptions {
  /** Consolidation functions to keep (default AVERAGE). */
  cf?: readonly string[];
  /** rrdtool binary (default: rrdtool on PATH). */
  rrdtool?: string;
  /** Kill rrdtool when it prints nothing for this long (default 60 s). */
  silenceMs?: number;
}

const MAX_LINE = 4 * 1024 * 1024;
/** 40 M values (320 MB): about 14 times SmokePing's shipped example geometry. */
const MAX_VALUES = 40_000_000;

/** Row end time of row `i` (0 = oldest) of an archive, as rrdtool labels it. */
export function rowTime(d: Pick<RrdData, 'step' | 'lastUpdate'>, a: Pick<RrdArchive, 'pdpPerRow' | 'rows'>, i: number): number {
  const span = d.step * a.pdpPerRow;
  return d.lastUpdate - (d.lastUpdate % span) - (a.rows - 1 - i) * span;
}

/** Dumps and parses one RRD; rejects with SMOKEMESH_E_STORE naming the file when rrdtool fails or prints something unexpected. */
export function dumpRrd(file: string, opts: DumpOptions = {}): Promise<RrdData> {
  const keep = new Set(opts.cf ?? ['AVERAGE']);
  const silenceMs = opts.silenceMs ?? 60_000;
  return new Promise((resolve, reject) => {
    const child = spawn(opts.rrdtool ?? 'rrdtool', ['dump', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    const parser = new DumpParser(keep);
    let stderr = '';
    let failed: Error | undefined;
    const fail = (e: Error) => {
      if (failed) return;
      failed = e;
      child.kill('SIGKILL');
    };
    let timer = setTimeout(() => fail(new Error(`rrdtool printed nothing for ${silenceMs / 1000} s`)), silenceMs);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      clearTimeout(timer);
      timer = setTimeout(() => fail(new Error(`rrdtool printed nothing for ${silenceMs / 1000} s`)), silenceMs);
      if (failed) return;
      try {
        parser.push(chunk);
      } catch (e) {
        fail(e as Error);
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (c: string) => { if (stderr.length < 4096) stderr += c; });
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new SmokemeshError('SMOKEMESH_E_STORE', e.code === 'ENOENT' ? `${file}: rrdtool not found (apt-get install rrdtool)` : `${file}: cannot run rrdtool: ${e.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (failed) return reject(new SmokemeshError('SMOKEMESH_E_STORE', `${file}: ${failed.message}`));
      if (code !== 0) return reject(new SmokemeshError('SMOKEMESH_E_STORE', `${file}: rrdtool dump failed (exit ${code}): ${stderr.trim().split('\n')[0] ?? ''}`));
      try {
        resolve(parser.end());
      } catch (e) {
        reject(new SmokemeshError('SMOKEMESH_E_STORE', `${file}: ${(e as Error).message}`));
      }
    });
  });
}

/** The line-by-line parser of `rrdtool dump` output (exported for tests on captured dumps). */
export class DumpParser {
  private carry = '';
  private step = 0;
  private lastUpdate = -1;
  private readonly ds: string[] = [];
  private readonly archives: RrdArchive[] = [];
  private inRra = false;
  private inDb = false;
  private cf = '';
  private pdp = 0;
  private rows: number[] = [];
  private rowCount = 0;
  private total = 0;
  private line = 0;

  constructor(private readonly keep: ReadonlySet<string>) {}

  push(chunk: string): void {
    const text = this.carry + chunk;
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      this.onLine(text.slice(start, nl));
      start = nl + 1;
    }
    this.carry = text.slice(start);
    if (this.carry.length > MAX_LINE) throw new Error(`a line of rrdtool's output is longer than ${MAX_LINE} bytes`);
  }

  end(): RrdData {
    if (this.carry) this.onLine(this.carry);
    if (this.step <= 0 || this.lastUpdate < 0 || this.ds.length === 0) throw new Error('rrdtool dump output lacks <step>, <lastupdate> or data sources: not an RRD dump');
    return { step: this.step, lastUpdate: this.lastUpdate, ds: this.ds, archives: this.archives };
  }

  private onLine(line: string): void {
    this.line++;
    if (this.inDb) {
      const r = line.indexOf('<row>');
      if (r >= 0) return this.onRow(line, r);
      if (line.includes('</database>')) this.endDb();
      return;
    }
    const tag = /<(step|lastupdate|name|cf|pdp_per_row)>\s*([^<]*?)\s*<\//.exec(line);
    if (tag) {
      const [, name, v] = tag;
      if (name === 'step') this.step = positive(v!, 'step', this.line);
      else if (name === 'lastupdate') this.lastUpdate = positive(v!, 'lastupdate', this.line, true);
      else if (name === 'name' && !this.inRra) {
        if (this.ds.length >= 10_000) throw new Error('more than 10000 data sources');
        this.ds.push(v!);
      } else if (name === 'cf' && this.inRra) this.cf = v!;
      else if (name === 'pdp_per_row' && this.inRra) this.pdp = positive(v!, 'pdp_per_row', this.line);
      return;
    }
    if (line.includes('<rra>')) {
      this.inRra = true;
      this.cf = '';
      this.pdp = 0;
    } else if (line.includes('<database>')) {
      if (!this.inRra || !this.cf || this.pdp <= 0) throw new Error(`line ${this.line}: <database> outside an archive with cf and pdp_per_row`);
      this.inDb = true;
      this.rows = [];
      this.rowCount = 0;
    }
  }

  private onRow(line: string, from: number): void {
    this.rowCount++;
    if (!this.keep.has(this.cf)) return;
    const n = this.ds.length;
    let pos = from;
    let got = 0;
    for (;;) {
      const a = line.indexOf('<v>', pos);
      if (a < 0) break;
      const b = line.indexOf('</v>', a);
      if (b < 0) break;
      this.rows.push(parseFloat(line.slice(a + 3, b)));
      got++;
      pos = b + 4;
    }
    if (got !== n) throw new Error(`line ${this.line}: a row has ${got} values, the file has ${n} data sources`);
    if ((this.total += n) > MAX_VALUES) throw new Error(`more than ${MAX_VALUES} values in the archives read`);
  }

  private endDb(): void {
    this.inDb = false;
    if (this.keep.has(this.cf)) {
      this.archives.push({ cf: this.cf, pdpPerRow: this.pdp, rows: this.rowCount, values: Float64Array.from(this.rows) });
    }
    this.rows = [];
    this.inRra = false;
  }
}

function positive(v: string, what: string, line: number, zero = false): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < (zero ? 0 : 1)) throw new Error(`line ${line}: <${what}> is "${v}", not a positive integer`);
  return n;
}
