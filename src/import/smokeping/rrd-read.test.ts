import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { historyOf } from './history.ts';
import { RrdReader, rowTime } from './rrd-read.ts';
import { makeSmokepingRrd, smokepingUpdate } from './testkit.ts';

const skip = (() => {
  try {
    execFileSync('rrdtool', ['--version'], { stdio: 'ignore' });
    return false;
  } catch {
    return 'rrdtool does not run (apt-get install rrdtool)';
  }
})();

test("SmokePing's update string puts lost pings as U around the sorted replies (base.pm)", () => {
  assert.equal(smokepingUpdate([30, 10, 20], 5), 'U:2:2.0000000000e-2:U:1.0000000000e-2:2.0000000000e-2:3.0000000000e-2:U');
  assert.equal(smokepingUpdate([], 3), 'U:3:U:U:U:U');
});

test('an RRD read through rrdtool (pipe mode, and separate processes for a path with a space) gives every AVERAGE row as rrdtool dump has it', { skip }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'smokemesh-rrd-read-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'a.rrd');
  const end = Math.floor(Date.now() / 1000);
  let k = 0;
  // 2 days: the 5-minute archive is full, the others partly; every 7th round loses 3 of 5
  // pings. Rounds end on step boundaries, so that each 5-minute row is one round.
  await makeSmokepingRrd(file, { end, days: 2, pings: 5, offset: 0, round: () => (++k % 7 === 0 ? [12, 11] : [10, 14, 11, 13, 12]) });
  const spaced = join(dir, 'with space.rrd');
  copyFileSync(file, spaced);
  const reader = new RrdReader({ sessions: 1 });
  t.after(() => reader.close());
  const [a, b] = await Promise.all([reader.read(file), reader.read(spaced)]);
  assert.deepEqual(a, b);
  assert.equal(a.step, 300);
  assert.deepEqual(a.ds, ['uptime', 'loss', 'median', 'ping1', 'ping2', 'ping3', 'ping4', 'ping5']);
  assert.deepEqual(a.archives.map((x) => [x.cf, x.pdpPerRow, x.rows]), [['AVERAGE', 1, 1008], ['AVERAGE', 12, 4320], ['AVERAGE', 144, 720]]);

  // rrdtool dump, the other way rrdtool prints an RRD: every AVERAGE row, with its time in a comment.
  const dump = execFileSync('rrdtool', ['dump', file], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const rras = dump.split('<rra>').slice(1);
  let ai = 0;
  for (const rra of rras) {
    if (!rra.includes('<cf>AVERAGE</cf>')) continue;
    const arch = a.archives[ai++]!;
    const rows = [...rra.matchAll(/\/ (\d+) --> <row>(.*?)<\/row>/g)];
    assert.equal(rows.length, arch.rows);
    rows.forEach((m, i) => {
      assert.equal(rowTime(a, arch, i), Number(m[1]));
      const values = [...m[2]!.matchAll(/<v>([^<]*)<\/v>/g)].map((v) => parseFloat(v[1]!));
      values.forEach((v, j) => assert.ok(Object.is(v, arch.values[i * a.ds.length + j]) || v === arch.values[i * a.ds.length + j], `row ${i} ds ${j}`));
    });
  }
  const h = historyOf(a);
  assert.equal(h.pings, 5);
  const lossy = h.intervals.filter((iv) => iv.seconds === 300 && iv.lost === 3);
  assert.ok(lossy.length > 50);
  // ping1 and ping4, ping5 unknown for 3 lost (one before, two after): the known ranks are the two replies.
  for (const iv of lossy) assert.deepEqual(iv.rtts, [11, 12]);
});

test('a file that is not an RRD, or missing, is an error naming it; the reader goes on with the next', { skip }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'smokemesh-rrd-read-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'junk.rrd'), 'not an rrd');
  const reader = new RrdReader({ sessions: 1 });
  t.after(() => reader.close());
  await assert.rejects(reader.read(join(dir, 'junk.rrd')), (e: Error) => e.message.startsWith(join(dir, 'junk.rrd')) && /SMOKEMESH_E_STORE|rrd|RRD/i.test(`${(e as { code?: string }).code} ${e.message}`));
  await assert.rejects(reader.read(join(dir, 'missing.rrd')), new RegExp(`${join(dir, 'missing.rrd')}`));
  await makeSmokepingRrd(join(dir, 'ok.rrd'), { end: Math.floor(Date.now() / 1000), days: 1, pings: 3, round: () => [1, 2, 3] });
  assert.equal((await reader.read(join(dir, 'ok.rrd'))).ds.length, 6);
  const bad = new RrdReader({ rrdtool: join(dir, 'no-such-rrdtool') });
  t.after(() => bad.close());
  await assert.rejects(bad.read(join(dir, 'ok.rrd')), /rrdtool not found/);
});
