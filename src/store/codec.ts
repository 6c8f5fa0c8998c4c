/**
 * Compact binary encodings of the store's blobs. RTTs are kept as integer microseconds
 * (the precision every RTT is measured at); ascending lists are stored as LEB128 varint
 * deltas, so 20 pings with sub-millisecond jitter take ~25–40 bytes instead of 160.
 */

/** A buffer written from the start that doubles when full; `view()` is the written part. */
export class GrowingBuffer {
  protected buf: Buffer;
  protected pos = 0;

  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }

  /** Makes room for `n` more bytes. */
  protected room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** The written part, sharing memory with the buffer (valid until the next write). */
  view(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

/** Grows as needed; `bytes()` returns the written part. */
export class ByteWriter extends GrowingBuffer {
  constructor(size = 64) {
    super(size);
  }

  /** Unsigned integer up to 2^53. */
  varint(v: number): void {
    // Most deltas and counts fit one byte: no checks beyond the range test on that path.
    if (v >= 0 && v < 0x80 && (v | 0) === v) {
      if (this.pos >= this.buf.length) this.room(1);
      this.buf[this.pos++] = v;
      return;
    }
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`varint out of range: ${v}`);
    this.room(8);
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.pos++] = v;
  }

  /** Raw bytes, as they are. */
  raw(bytes: Uint8Array): void {
    this.room(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  f64(v: number): void {
    this.room(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }

  /** Starts over, keeping the buffer. */
  reset(): void {
    this.pos = 0;
  }

  bytes(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }
}

/** Reads what ByteWriter wrote; throws RangeError on a truncated or malformed blob. */
export class ByteReader {
  private pos = 0;
  constructor(private readonly buf: Uint8Array) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  /** Bytes read so far. */
  get offset(): number {
    return this.pos;
  }

  /** The next `n` bytes (a view, not a copy). */
  raw(n: number): Uint8Array {
    if (this.pos + n > this.buf.length) throw new RangeError('truncated bytes');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  varint(): number {
    let v = 0;
    let mul = 1;
    for (;;) {
      if (this.pos >= this.buf.length) throw new RangeError('truncated varint');
      const b = this.buf[this.pos++]!;
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 0x80;
      if (mul > 2 ** 56) throw new RangeError('varint too long');
    }
  }

  f64(): number {
    if (this.pos + 8 > this.buf.length) throw new RangeError('truncated float');
    const v = Buffer.from(this.buf.buffer, this.buf.byteOffset + this.pos, 8).readDoubleLE(0);
    this.pos += 8;
    return v;
  }
}

/** ms → integer µs. */
export function toUs(ms: number): number {
  return Math.round(ms * 1000);
}

/** integer µs → ms. */
export function toMs(us: number): number {
  return us / 1000;
}

/** Packs an ascending list of RTTs (ms) as varint µs deltas. */
export function packAscending(ms: readonly number[]): Buffer {
  const w = new ByteWriter(ms.length * 2 + 4);
  let prev = 0;
  for (const v of ms) {
    const us = toUs(v);
    // Sorted input is the contract; clamp a stray inversion rather than store a negative delta.
    const d = Math.max(0, us - prev);
    w.varint(d);
    prev += d;
  }
  return w.bytes();
}

/** Reused by packAscendingUs (bytes() copies out, so no caller ever sees it). */
const packScratch = new ByteWriter(256);

/**
 * packAscending for RTTs already converted to ascending integer µs. With `transient` the result
 * is a view of a shared scratch buffer, valid until the next call (see toRow in bucket.ts).
 */
export function packAscendingUs(us: readonly number[], transient = false): Buffer {
  const w = packScratch;
  w.reset();
  let prev = 0;
  for (const v of us) {
    const d = Math.max(0, v - prev);
    w.varint(d);
    prev += d;
  }
  return transient ? w.view() : w.bytes();
}

/** Unpacks what packAscending wrote, as integer µs. */
export function unpackAscendingUs(blob: Uint8Array | null): number[] {
  if (!blob || blob.length === 0) return [];
  const r = new ByteReader(blob);
  const out: number[] = [];
  let prev = 0;
  while (!r.done) {
    prev += r.varint();
    out.push(prev);
  }
  return out;
}

/** Unpacks what packAscending wrote, in ms. */
export function unpackAscending(blob: Uint8Array | null): number[] {
  if (!blob || blob.length === 0) return [];
  const r = new ByteReader(blob);
  const out: number[] = [];
  let prev = 0;
  while (!r.done) {
    prev += r.varint();
    out.push(toMs(prev));
  }
  return out;
}
