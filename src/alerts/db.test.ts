import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openAlertDb } from './db.ts';
import type { AlertEvent } from './notifiers/notifier.ts';

const event = (id: string, target: string, state: AlertEvent['state'], time: number, alert = 'lossy'): AlertEvent => ({
  version: 1, id, state,
  alert: { name: alert, type: 'loss', pattern: '>50%', comment: '', edgetrigger: state !== 'firing' },
  target: { path: target, dotted: target.slice(1).replace(/\//g, '.'), host: '127.0.0.1', title: target, labels: {} },
  agent: 'srv', time, loss: ['100%'], rtt: ['U'], recipients: [],
});

test('history and deliveries: filtered (target subtree, alert, state, channel, status, time) and paged, with the totals', () => {
  const db = openAlertDb(':memory:');
  const targets = ['/Core/r1', '/Core/r2', '/Core/r1x', '/Edge/e1'];
  for (let i = 0; i < 120; i++) {
    const target = targets[i % 4]!;
    const ids = db.recordEvent(event(`e${i}`, target, i % 3 === 0 ? 'raised' : 'firing', 1000 * i, i % 5 === 0 ? 'slow' : 'lossy'), null,
      [{ name: 'hook', kind: 'exec' }, { name: 'mail', kind: 'email' }], 'pending');
    db.recordAttempt(ids[0]!, 1, 'sent', 5, null);
    db.recordAttempt(ids[1]!, 1, i === 119 ? 'failed' : 'sent', 5, i === 119 ? 'refused' : null);
  }
  const page = (q: Parameters<typeof db.events>[0]) => db.events(q).map((e) => e.id);
  assert.equal(db.countEvents({ limit: 1 }), 120);
  assert.deepEqual(page({ limit: 3 }), ['e119', 'e118', 'e117']);
  assert.deepEqual(page({ limit: 3, offset: 3 }), ['e116', 'e115', 'e114']);
  // A target matches itself and what is under it, not a sibling that shares its prefix.
  assert.equal(db.countEvents({ target: '/Core/r1', limit: 1 }), 30);
  assert.ok(db.events({ target: '/Core/r1', limit: 200 }).every((e) => e.target === '/Core/r1'));
  assert.equal(db.countEvents({ target: '/Core', limit: 1 }), 90);
  assert.equal(db.countEvents({ target: '/', limit: 1 }), 120);
  assert.equal(db.countEvents({ state: 'raised', limit: 1 }), 40);
  assert.equal(db.countEvents({ alert: 'slow', limit: 1 }), 24);
  assert.equal(db.countEvents({ from: 10_000, to: 20_000, limit: 1 }), 10);
  assert.deepEqual(page({ before: 3000, limit: 10 }), ['e2', 'e1', 'e0']);
  // Deliveries by channel and status, by their event's target and alert, by time.
  assert.equal(db.countDeliveries({ limit: 1 }), 240);
  assert.equal(db.countDeliveries({ channel: 'mail', status: 'failed', limit: 1 }), 1);
  assert.equal(db.countDeliveries({ target: '/Edge', alert: 'lossy', limit: 1 }), 2 * 24);
  const d = db.deliveries({ channel: 'mail', limit: 2, offset: 1 });
  assert.deepEqual(d.map((x) => x.event?.target), ['/Core/r1x', '/Core/r2']);
  assert.equal(d[0]!.attempt_log.length, 1);
  assert.equal(db.countDeliveries({ from: Date.now() + 60_000, limit: 1 }), 0);
  assert.deepEqual(db.lastOutcomes(), { hook: 'sent', mail: 'failed' });
  // Filter values are bound, never SQL.
  assert.equal(db.countEvents({ target: "/' OR 1=1 --", limit: 1 }), 0);
  db.close();
});

test('history retention: events older than the cutoff go with their deliveries and attempts, in batches; an old event with a delivery still pending stays; failures keep counting', () => {
  const db = openAlertDb(':memory:');
  const hook = [{ name: 'hook', kind: 'exec' }];
  for (let i = 0; i < 5; i++) {
    const [d] = db.recordEvent(event(`old${i}`, '/Core/r1', 'raised', 1000 + i), null, hook, 'pending');
    db.recordAttempt(d!, 1, i < 4 ? 'failed' : 'retry', 5, 'refused');
    if (i < 4) db.recordAttempt(d!, 2, 'sent', 5, null);
  }
  db.recordEvent(event('new', '/Core/r1', 'cleared', 50_000), null, hook, 'pending');
  assert.deepEqual(db.failuresByChannel(), { hook: 5 });
  assert.equal(db.pruneHistory(10_000, 3), 3, 'one batch');
  assert.equal(db.pruneHistory(10_000, 3), 1, 'the rest of the settled ones');
  assert.equal(db.pruneHistory(10_000, 3), 0);
  assert.deepEqual(db.events({ limit: 10 }).map((e) => e.id), ['new', 'old4'], 'old4 is kept: its delivery is still pending');
  assert.equal(db.countDeliveries({ limit: 1 }), 2);
  assert.deepEqual(db.failuresByChannel(), { hook: 5 }, 'failed attempts of pruned deliveries still count (a counter on /metrics)');
});
