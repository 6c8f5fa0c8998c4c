import { compressSync } from 'snappy';

/**
 * Prometheus remote write 1.0 on the wire: a protobuf `WriteRequest` in a snappy block.
 * The protobuf is written by hand (three message types, no schema compiler needed); the
 * compression is the `snappy` package (Rust's snap crate behind N-API), which makes the raw
 * block format remote write expects (not snappy's framing format).
 */

export interface WriteSeries {
  /** Label pairs, `__name__` included; sorted by name on encoding. */
  labels: Record<string, string>;
  samples: { value: number; timestamp: number }[];
}

/** Encodes a WriteRequest { repeated TimeSeries timeseries = 1 }. */
export function encodeWriteRequest(series: readonly WriteSeries[]): Uint8Array {
  const out = new Writer();
  for (const s of series) {
    const ts = new Writer();
    for (const name of Object.keys(s.labels).sort()) {
      const label = new Writer();
      label.string(1, name);
      label.string(2, s.labels[name]!);
      ts.message(1, label.bytes());
    }
    for (const x of s.samples) {
      const sample = new Writer();
      sample.double(1, x.value);
      sample.int64(2, x.timestamp);
      ts.message(2, sample.bytes());
    }
    out.message(1, ts.bytes());
  }
  return out.bytes();
}

/** `data` compressed as one snappy block (the raw format, not the framing format). */
export function snappyBlock(data: Uint8Array): Uint8Array {
  return compressSync(data);
}

class Writer {
  private parts: Uint8Array[] = [];

  string(field: number, s: string): void {
    this.message(field, new TextEncoder().encode(s));
  }

  message(field: number, body: Uint8Array): void {
    this.parts.push(varint((field << 3) | 2), varint(body.length), body);
  }

  double(field: number, v: number): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v, true);
    this.parts.push(varint((field << 3) | 1), b);
  }

  int64(field: number, v: number): void {
    this.parts.push(varint(field << 3), varint(v));
  }

  bytes(): Uint8Array {
    return concat(this.parts);
  }
}

/** Base-128 varint of a non-negative integer up to 2^53. */
function varint(v: number): Uint8Array {
  const out: number[] = [];
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return Uint8Array.from(out);
}

function concat(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
