/**
 * The engine's per-series memory as bytes, to survive a restart: the keys (each a UTF-8
 * string after its byte length) and each column as it is in memory. Causes are saved
 * separately as JSON.
 */
import { emptyColumns, slotOf, type SeriesColumns } from './memory.ts';
import type { LocalizeState } from './types.ts';

const MAGIC = 0x4c4f4331; // "LOC1"

/** Encodes the series columns of a state (causes are not included). */
export function encodeState(state: LocalizeState): Buffer {
  const c = state.series;
  const keys: string[] = new Array(c.size).fill('');
  for (const [k, slot] of c.index) if (slot < c.size) keys[slot] = k;
  const text = Buffer.concat(keys.flatMap((k) => {
    const b = Buffer.from(k, 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32LE(b.length);
    return [len, b];
  }));
  const n = c.size;
  const head = Buffer.alloc(12);
  head.writeUInt32LE(MAGIC, 0);
  head.writeUInt32LE(n, 4);
  head.writeUInt32LE(text.length, 8);
  const f64 = (a: Float64Array) => Buffer.from(a.buffer, a.byteOffset, n * 8);
  return Buffer.concat([head, text, f64(c.last), f64(c.base), f64(c.samples), f64(c.badSince), Buffer.from(c.bad.buffer, c.bad.byteOffset, n)]);
}

/** Decodes what encodeState wrote into a state without causes; throws on bytes it did not write. */
export function decodeState(buf: Buffer, time: number): LocalizeState {
  if (buf.length < 12 || buf.readUInt32LE(0) !== MAGIC) throw new Error('not a localization state');
  const n = buf.readUInt32LE(4);
  const textLen = buf.readUInt32LE(8);
  if (buf.length !== 12 + textLen + n * 33) throw new Error('truncated localization state');
  const keys: string[] = [];
  for (let p = 12; p < 12 + textLen;) {
    const len = buf.readUInt32LE(p);
    if (p + 4 + len > 12 + textLen) throw new Error('localization state keys are cut');
    keys.push(buf.subarray(p + 4, p + 4 + len).toString('utf8'));
    p += 4 + len;
  }
  if (keys.length !== n) throw new Error('localization state keys do not match its size');
  let at = 12 + textLen;
  const f64 = () => {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = buf.readDoubleLE(at + i * 8);
    at += n * 8;
    return out;
  };
  const last = f64();
  const base = f64();
  const samples = f64();
  const badSince = f64();
  const bad = new Uint8Array(buf.subarray(at, at + n));
  const cols: SeriesColumns = { ...emptyColumns(), last, base, samples, badSince, bad };
  for (const k of keys) slotOf(cols, k);
  return { series: cols, causes: new Map(), time };
}
