import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../config/loader.ts';
import { checkAlertWarnings, lossThresholdNote } from './warnings.ts';

test('loss thresholds finer than the pings can express are noted; round ones are not', () => {
  assert.match(lossThresholdNote('>', 10, 10)!, /needs 2 lost pings \(20%\); write ">=10%"/);
  assert.equal(lossThresholdNote('>', 10, 20), undefined, 'with 20 pings >10% is 3 pings: as written');
  assert.match(lossThresholdNote('>', 15, 10)!, /acts as ">=20%": 2 lost pings/);
  assert.match(lossThresholdNote('>=', 5, 10)!, /acts as ">=10%": 1 lost ping /);
  assert.equal(lossThresholdNote('>', 50, 10), undefined);
  assert.equal(lossThresholdNote('>', 0, 10), undefined);
  assert.equal(lossThresholdNote('>=', 10, 10), undefined);
  assert.match(lossThresholdNote('==', 15, 10)!, /never matches/);
  assert.match(lossThresholdNote('<', 15, 10)!, /acts as "<=10%"/);
  assert.equal(lossThresholdNote('<', 20, 10), undefined);
});

test('check-config warnings name the alert pattern (file:line:column) and the targets using it', () => {
  const config = parseConfig(`general: { pings: 10 }
alerts:
  lossy:
    type: loss
    pattern: ">10%,>10%"
  fine:
    type: loss
    pattern: ">50%"
targets:
  alerts: [lossy, fine]
  children:
    a: { host: 127.0.0.1 }
    b: { host: 127.0.0.2, pings: 20 }
`, 'w.yaml');
  const w = checkAlertWarnings(config);
  assert.equal(w.length, 1);
  assert.equal(`${w[0]!.file}:${w[0]!.line}:${w[0]!.column}`, 'w.yaml:5:5');
  assert.match(w[0]!.message, /^">10%" with 10 pings needs 2 lost pings \(20%\).*used by \/a$/);
});
