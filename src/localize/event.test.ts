import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatMessage, formatTitle } from '../alerts/notifiers/format.ts';
import { alertmanagerAlert, AlertmanagerConfigSchema } from '../alerts/notifiers/alertmanager.ts';
import { execArgs } from '../alerts/notifiers/exec.ts';
import { validate } from '../config/validate.ts';
import { causeEvent, notifies } from './service.ts';
import { step } from './step.ts';
import { cdnWorld, roundsAt, scopeOf, seriesOf, type Fault } from './testkit.ts';

test('a cause as an alert event: readable text with its evidence, Alertmanager labels for routing, SmokePing program arguments', () => {
  const world = cdnWorld({ provinces: 4, idcs: 3, vipsPerIdc: 4 });
  const scope = scopeOf({ routes: [{ labels: { business: 'pay' }, to: 'pay-team' }] });
  const fault: Fault[] = [{ name: 'idc', from: 0, to: Infinity, match: (_a, t) => t.labels.idc === 'idc2', loss: 100 }];
  let state;
  let events: ReturnType<typeof step>['events'] = [];
  for (let i = 0; i < 3; i++) {
    const r = step(scope, seriesOf(world, roundsAt(world, i * 60_000, fault)), state, (i + 1) * 60_000);
    state = r.state;
    events = events.concat(r.events);
  }
  assert.equal(events.length, 1);
  const e = causeEvent(scope, events[0]!, 'https://sm.example.org/');
  assert.equal(formatTitle(e), '[RAISED] cdn: destination idc=idc2 (confirmed)');
  const text = formatMessage(e, 'text');
  assert.match(text, /^Cause: destination idc=idc2 \(destination, confirmed\)$/m);
  assert.match(text, /^Rule: 3 of 3 networks see it bad \(≥ 2\); 4 of 4 items bad \(≥ 1\/2\)$/m);
  assert.match(text, /^Series bad: 96 of 96$/m);
  assert.match(text, /^Seen bad by: telecom, unicom, mobile \(3 of 3\)$/m);
  assert.match(text, /^Bad cells: telecom \/ beijing → idc2 8\/8; .*… 7 more$/m);
  assert.match(text, /^Affected business: search \(24\), news \(24\), video \(24\), pay \(24\)$/m);
  assert.match(text, /^Link: https:\/\/sm\.example\.org\/#\/localize\/cdn\?cause=cdn%2Fdestination%2Fidc2$/m);
  const am = validate(AlertmanagerConfigSchema, { url: 'http://127.0.0.1:9093' }).length === 0;
  assert.ok(am);
  const alert = alertmanagerAlert(e, { url: 'http://127.0.0.1:9093', labels: {}, severities: { 1: 'critical' }, default_severity: 'warning', raised_ttl: 86400 } as never) as { labels: Record<string, string>; annotations: Record<string, string> };
  assert.deepEqual({ ...alert.labels }, { scope: 'cdn', kind: 'destination', idc: 'idc2', alertname: 'cdn.destination', target: 'cdn/destination/idc2', agent: '*', severity: 'warning' });
  assert.equal(alert.annotations.series_bad, '96/96');
  assert.deepEqual(execArgs(e).slice(0, 5), ['cdn.destination', 'cdn: destination idc=idc2 (confirmed)', 'loss: 100%', 'rtt: U', '']);
});

test('an escalated cause is sent once as "updated" (same alert labels, the old confidence named); a de-escalation is not sent; a clear only with notify_clear', () => {
  const scope = scopeOf();
  const world = cdnWorld({ provinces: 4, idcs: 3, vipsPerIdc: 4 });
  const fault: Fault[] = [{ name: 'idc', from: 0, to: Infinity, match: (_a, t) => t.labels.idc === 'idc2', loss: 100 }];
  let state;
  let raised: ReturnType<typeof step>['events'][number] | undefined;
  for (let i = 0; i < 3; i++) {
    const r = step(scope, seriesOf(world, roundsAt(world, i * 60_000, fault)), state, (i + 1) * 60_000);
    state = r.state;
    raised ??= r.events[0];
  }
  const confirmed = raised!.cause;
  const suspected = { ...confirmed, confidence: 'suspected' as const };
  const up = { state: 'updated' as const, time: 1, cause: confirmed, from: 'suspected' as const };
  assert.ok(notifies(scope, up));
  assert.ok(!notifies(scope, { state: 'updated', time: 1, cause: suspected, from: 'confirmed' }));
  assert.ok(notifies(scope, { state: 'cleared', time: 1, cause: confirmed }));
  assert.ok(!notifies(scopeOf({ notify_clear: false }), { state: 'cleared', time: 1, cause: confirmed }));
  const e = causeEvent(scope, up);
  assert.equal(formatTitle(e), '[UPDATED] cdn: destination idc=idc2 (confirmed, was suspected)');
  assert.deepEqual(e.target.labels, causeEvent(scope, { state: 'raised', time: 1, cause: suspected }).target.labels);
  assert.equal(execArgs(e).at(-1), '1');
});
