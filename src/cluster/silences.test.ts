import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Silence } from '../alerts/db.ts';
import { reconcileSilences } from './silences.ts';

const s = (id: string, ends = 2000): Silence => ({ id, created: 0, starts: 0, ends, comment: '', target: '/a/**' });

test('shared silences missing or changed here are saved; deletions anywhere are removed here; a local one not yet shared stays', () => {
  const r = reconcileSilences([s('same'), s('changed', 2000), s('gone'), s('fresh')], [s('same'), s('changed', 1000), s('new')], ['gone', 'never-here']);
  assert.deepEqual(r.save.map((x) => x.id), ['changed', 'new']);
  assert.equal(r.save[0]!.ends, 1000, 'the shared version wins');
  assert.deepEqual(r.remove, ['gone']);
});
