import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SmokemeshError } from '../../errors.ts';
import { promAnswer } from './query.ts';

const URL = 'http://vmselect:8481/select/7:3/prometheus/api/v1/query';

test('promAnswer: the data of a whole answer; a partial one ("isPartial": true), an error or a non-JSON answer is SMOKEMESH_E_STORE naming the URL', () => {
  const result = [{ metric: { target: '/a' }, value: [1, '2'] }];
  assert.deepEqual(promAnswer(URL, JSON.stringify({ status: 'success', isPartial: false, data: { resultType: 'vector', result } })), { resultType: 'vector', result });
  assert.deepEqual(promAnswer(URL, JSON.stringify({ status: 'success', data: [{ target: '/a' }] })), [{ target: '/a' }]);
  const refused = (re: RegExp) => (e: unknown) => e instanceof SmokemeshError && e.code === 'SMOKEMESH_E_STORE' && e.message.startsWith(`${URL}: `) && re.test(e.message);
  assert.throws(() => promAnswer(URL, JSON.stringify({ status: 'success', isPartial: true, data: { resultType: 'vector', result } })), refused(/partial result \("isPartial": true/));
  assert.throws(() => promAnswer(URL, JSON.stringify({ status: 'error', errorType: '422', error: 'too many points' })), refused(/answered with an error: too many points/));
  assert.throws(() => promAnswer(URL, 'unsupported path requested'), refused(/not JSON/));
  assert.throws(() => promAnswer(URL, 'null'), refused(/not a JSON object/));
});
