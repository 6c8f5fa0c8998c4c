import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProgressBar, progressLine } from './progress.ts';

test('the progress line says count, rate and time left, with a bar when there is room', () => {
  assert.equal(progressLine('RRDs', 250, 1000, 50, 0), '250/1000 RRDs · 5.0/s · ETA 2m30s');
  assert.equal(progressLine('RRDs', 1000, 1000, 3725, 0), '1000/1000 RRDs · 0.3/s · took 1h02m');
  assert.equal(progressLine('RRDs', 0, 10, 0, 0), '0/10 RRDs · 0.0/s · ETA ?');
  assert.equal(progressLine('RRDs', 5, 10, 10, 100), `[${'#'.repeat(20)}${'-'.repeat(20)}] 5/10 RRDs · 0.5/s · ETA 10s`);
});

test('on a terminal the line is redrawn in place at most 10 times a second; elsewhere a line every 10 s and the last', () => {
  let clock = 0;
  const written: string[] = [];
  const fake = (tty: boolean) => ({ isTTY: tty, columns: 60, write: (s: string) => { written.push(s); return true; } }) as unknown as NodeJS.WriteStream;
  const tty = new ProgressBar('RRDs', fake(true), () => clock);
  for (let i = 1; i <= 10; i++) { clock += 30; tty.update(i, 10); }
  assert.ok(written.length >= 3 && written.length <= 5, String(written.length));
  assert.ok(written.every((w) => w.startsWith('\r')));
  assert.ok(written[written.length - 1]!.endsWith('\n'));
  written.length = 0;
  clock = 0;
  const log = new ProgressBar('RRDs', fake(false), () => clock);
  for (let i = 1; i <= 100; i++) { clock += 1000; log.update(i, 100); }
  assert.equal(written.length, 10);
  assert.ok(written.every((w) => !w.startsWith('\r') && w.endsWith('\n')));
});
