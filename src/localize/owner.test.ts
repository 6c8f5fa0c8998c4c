import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scopeOwner } from './owner.ts';

const scopes = Array.from({ length: 60 }, (_, i) => `scope-${i}`);

test('each scope has exactly one owner among the live servers, the same whatever order a server lists them in', () => {
  const live = ['s1', 's2', 's3'];
  for (const s of scopes) {
    const owner = scopeOwner(s, live);
    assert.ok(owner && live.includes(owner), s);
    assert.equal(scopeOwner(s, ['s3', 's1', 's2']), owner);
    // Every server deciding for itself: exactly one says "mine".
    assert.equal(live.filter((me) => scopeOwner(s, live) === me).length, 1);
  }
  // Spread over the servers, not all on one.
  const per = new Map<string, number>();
  for (const s of scopes) per.set(scopeOwner(s, live)!, (per.get(scopeOwner(s, live)!) ?? 0) + 1);
  assert.equal(per.size, 3);
});

test('when an owner leaves only its scopes move (to a live server); with no live set nobody steps', () => {
  const live = ['s1', 's2', 's3'];
  const before = new Map(scopes.map((s) => [s, scopeOwner(s, live)!]));
  const gone = 's2';
  const after = new Map(scopes.map((s) => [s, scopeOwner(s, live.filter((x) => x !== gone))!]));
  for (const s of scopes) {
    if (before.get(s) === gone) assert.notEqual(after.get(s), gone);
    else assert.equal(after.get(s), before.get(s), `${s} moved though its owner stayed`);
  }
  assert.ok([...before.values()].includes(gone));
  assert.equal(scopeOwner('cdn', []), undefined);
});
