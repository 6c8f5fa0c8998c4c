import { test } from 'node:test';
import { judgeStored, judgeSummaries, summarizeChanges } from './agents.ts';
import assert from 'node:assert/strict';
import { allSightings, applySightings, fullReadReason, type GoneSighting, type SightingsPage, type SightingsState, type StoredSighting } from './sightings.ts';

const row = (agent: string, server: string, change: number, o: Partial<StoredSighting> = {}): StoredSighting => ({
  agent, server, change, written_at: 1000, seen_at: 900, polled_at: null, polling: false, region: 'eu', labels: {}, builtin: false, intranet: null, public: null, version: null, ...o,
});
const gone = (agent: string, server: string, change: number): GoneSighting => ({ agent, server, change });
const page = (full: boolean, top: number, rows: StoredSighting[], g: GoneSighting[] = [], epoch = 'e1', pruned = 0): SightingsPage => ({ full, meta: { epoch, pruned, top, now: 5000 }, rows, gone: g });
const keys = (s: SightingsState) => [...allSightings(s)].map((r) => `${r.agent}@${r.server}:${r.change}`).sort();

test('a full read is needed at start, in another epoch, and when tombstones after the cursor were pruned; else the changes suffice', () => {
  const s: SightingsState = { epoch: 'e1', cursor: 10, rows: new Map(), changed: undefined };
  assert.equal(fullReadReason(undefined, { epoch: 'e1', pruned: 0 }), 'start');
  assert.equal(fullReadReason(s, { epoch: 'e2', pruned: 0 }), 'epoch');
  assert.equal(fullReadReason(s, { epoch: 'e1', pruned: 11 }), 'pruned', 'a deletion numbered 11 may be among those pruned');
  assert.equal(fullReadReason(s, { epoch: 'e1', pruned: 10 }), undefined, 'every pruned tombstone was read');
  assert.equal(fullReadReason(s, { epoch: 'e1', pruned: 0 }), undefined);
});

test('a full read replaces the state; changes update, insert and delete rows; the cursor moves to the top, never back', () => {
  let s = applySightings({ epoch: 'old', cursor: 99, rows: new Map([['z', new Map([['s9', row('z', 's9', 99)]])]]), changed: undefined }, page(true, 3, [row('a', 's1', 1), row('a', 's2', 2), row('b', 's1', 3)]));
  assert.deepEqual(keys(s), ['a@s1:1', 'a@s2:2', 'b@s1:3']);
  assert.equal(s.changed, undefined, 'every agent changed');
  assert.equal(s.cursor, 3);
  assert.equal(s.epoch, 'e1');
  s = applySightings(s, page(false, 7, [row('a', 's1', 5, { region: 'us' }), row('c', 's2', 6)], [gone('b', 's1', 4)]));
  assert.deepEqual(keys(s), ['a@s1:5', 'a@s2:2', 'c@s2:6']);
  assert.deepEqual([...s.changed!].sort(), ['a', 'b', 'c']);
  assert.equal(s.rows.get('a')!.get('s1')!.region, 'us');
  assert.equal(s.rows.has('b'), false, 'an agent without rows is not kept');
  assert.equal(s.cursor, 7, 'the top of the snapshot (a number taken by a row deleted since, or a rolled-back one)');
  s = applySightings(s, page(false, 6, []));
  assert.equal(s.cursor, 7, 'never back (a pruned tombstone held the top)');
  assert.deepEqual(s.changed, new Set(), 'nothing changed');
});

test('a row deleted and written again within one read: the newest event wins, in either order', () => {
  const base = () => applySightings(undefined, page(true, 2, [row('a', 's1', 1), row('b', 's1', 2)]));
  const back = applySightings(base(), page(false, 4, [row('a', 's1', 4)], [gone('a', 's1', 3)]));
  assert.deepEqual(keys(back), ['a@s1:4', 'b@s1:2'], 'deleted (3), then written again (4): present');
  const goneAgain = applySightings(base(), page(false, 5, [row('b', 's1', 4)], [gone('b', 's1', 3), gone('b', 's1', 5)]));
  assert.deepEqual(keys(goneAgain), ['a@s1:1'], 'deleted, written, deleted again: absent');
});

test('changes of another epoch are refused (the caller reads in full)', () => {
  const s = applySightings(undefined, page(true, 1, [row('a', 's1', 1)]));
  assert.throws(() => applySightings(s, page(false, 2, [row('b', 's1', 2)], [], 'e2')), /epoch e2/);
  assert.throws(() => applySightings(undefined, page(false, 2, [])), /over nothing/);
});

test('reading by changes ends where a full read does, over random writes and deletions read at random moments', () => {
  let seed = 7;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  for (let run = 0; run < 50; run++) {
    // The table as PostgreSQL holds it: rows by key, tombstones, one sequence for both.
    const table = new Map<string, StoredSighting>();
    const summaries = { current: undefined as ReturnType<typeof summarizeChanges> | undefined };
    const tombstones: GoneSighting[] = [];
    let seq = 0;
    const snapshot = (full: boolean, cursor: number): SightingsPage => {
      const top = Math.max(0, ...[...table.values()].map((r) => r.change), ...tombstones.map((t) => t.change));
      const rows = [...table.values()].filter((r) => full || r.change > cursor);
      return page(full, top, rows, full ? [] : tombstones.filter((t) => t.change > cursor));
    };
    let s = applySightings(undefined, snapshot(true, 0));
    for (let step = 0; step < 200; step++) {
      const agent = `a${rand(8)}`;
      const server = `s${rand(3)}`;
      const k = `${agent}@${server}`;
      if (rand(4) === 0) {
        if (table.delete(k)) tombstones.push(gone(agent, server, ++seq));
      } else table.set(k, row(agent, server, ++seq, { region: `r${rand(5)}`, written_at: rand(3000), seen_at: rand(3000), polling: rand(2) === 0, polled_at: rand(3) ? rand(3000) : null }));
      if (rand(5) === 0) {
        s = applySightings(s, snapshot(false, s.cursor));
        summaries.current = summarizeChanges(summaries.current, s);
      }
    }
    s = applySightings(s, snapshot(false, s.cursor));
    const full = applySightings(undefined, snapshot(true, 0));
    assert.deepEqual(s.rows, full.rows, `run ${run}`);
    // The agents judged from summaries kept by the changes, as judged from every row.
    summaries.current = summarizeChanges(summaries.current, s);
    assert.deepEqual(judgeSummaries(summaries.current, 3000, 2500), judgeStored(allSightings(full), 3000, 2500), `run ${run}: judged`);
    assert.deepEqual(judgeSummaries(summaries.current, 4000, 2500), judgeStored(allSightings(full), 4000, 2500), `run ${run}: judged again later`);
  }
});
