import { GrowingBuffer } from '../../store/codec.ts';

/**
 * JSON text written straight into bytes: numbers as ASCII digits, strings as JSON.stringify
 * gives them. For answers of many thousands of small numbers (the overview's points), where
 * building the values as objects and then JSON.stringify would put every value on the heap
 * twice. What it writes is what JSON.stringify writes for the same values (tested).
 */
export class JsonText extends GrowingBuffer {
  constructor(size = 1 << 16) {
    super(size);
  }

  /** Text as it is (already JSON: punctuation, keys, a JSON.stringify result). */
  raw(s: string): void {
    this.room(s.length * 3);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  /** One ASCII character (punctuation) by its code. */
  char(code: number): void {
    if (this.pos >= this.buf.length) this.room(1);
    this.buf[this.pos++] = code;
  }

  /** A string value. */
  string(s: string): void {
    this.raw(JSON.stringify(s));
  }

  /** A number as JSON.stringify writes it (null when not finite); integers below 2^31 without a string. */
  number(v: number): void {
    if (this.pos + 11 > this.buf.length) this.room(11);
    const b = this.buf;
    // Most of what the overview writes: steps, medians and time deltas of one to three digits.
    if (v >= 0 && v < 1000 && (v | 0) === v) {
      let p = this.pos;
      if (v >= 100) {
        const h = (v / 100) | 0;
        b[p++] = 0x30 + h;
        v -= h * 100;
        const t = (v / 10) | 0;
        b[p++] = 0x30 + t;
        b[p++] = 0x30 + v - t * 10;
      } else if (v >= 10) {
        const t = (v / 10) | 0;
        b[p++] = 0x30 + t;
        b[p++] = 0x30 + v - t * 10;
      } else b[p++] = 0x30 + v;
      this.pos = p;
      return;
    }
    if ((v | 0) !== v) {
      this.raw(Number.isFinite(v) ? String(v) : 'null');
      return;
    }
    if (v < 0) {
      b[this.pos++] = 0x2d; // '-'
      v = -v;
    }
    let digits = 1;
    for (let x = v; x >= 10; x = (x / 10) | 0) digits++;
    let at = this.pos + digits;
    this.pos = at;
    while (v >= 10) {
      const q = (v / 10) | 0;
      b[--at] = 0x30 + v - q * 10;
      v = q;
    }
    b[--at] = 0x30 + v;
  }

  /** A number or null. */
  nullable(v: number | null): void {
    if (v === null) this.raw('null');
    else this.number(v);
  }
}
