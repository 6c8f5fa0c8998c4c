import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SmokemeshError } from '../errors.ts';
import { vmEndpointProblems, vmEndpoints } from './vm-endpoints.ts';

test('vmEndpoints: a single node\'s paths under url; a cluster\'s under vminsert and vmselect with the tenant (default 0); trailing slashes dropped', () => {
  assert.deepEqual(vmEndpoints({ url: 'http://127.0.0.1:8428/' }), {
    write: 'http://127.0.0.1:8428/api/v1/import',
    read: 'http://127.0.0.1:8428',
    del: 'http://127.0.0.1:8428/api/v1/admin/tsdb/delete_series',
    readParams: {},
    label: 'http://127.0.0.1:8428',
  });
  assert.deepEqual(vmEndpoints({ insert_url: 'https://vminsert:8480//', select_url: 'http://lb/vm', tenant: '7:3' }), {
    write: 'https://vminsert:8480/insert/7:3/prometheus/api/v1/import',
    read: 'http://lb/vm/select/7:3/prometheus',
    del: 'http://lb/vm/delete/7:3/prometheus/api/v1/admin/tsdb/delete_series',
    readParams: { deny_partial_response: '1' },
    label: 'vminsert https://vminsert:8480 + vmselect http://lb/vm, tenant 7:3',
    tenant: '7:3',
  });
  const d = vmEndpoints({ insert_url: 'http://i:8480', select_url: 'http://s:8481' });
  assert.equal(d.write, 'http://i:8480/insert/0/prometheus/api/v1/import');
  assert.equal(d.read, 'http://s:8481/select/0/prometheus');
  assert.equal(vmEndpoints({ insert_url: 'http://i:8480', select_url: 'http://s:8481', tenant: 42 }).read, 'http://s:8481/select/42/prometheus');
});

test('vmEndpoints refuses what the loader refuses, naming the field (a section built outside the loader, e.g. from a command line)', () => {
  const refused = (field: string) => (e: unknown) => e instanceof SmokemeshError && e.code === 'SMOKEMESH_E_CONFIG' && e.message.startsWith(`store.${field}: `);
  assert.throws(() => vmEndpoints({}), refused('backend'));
  assert.throws(() => vmEndpoints({ url: 'http://a', insert_url: 'http://i' }), refused('insert_url'));
  assert.throws(() => vmEndpoints({ insert_url: 'http://i' }), refused('insert_url'));
  assert.throws(() => vmEndpoints({ insert_url: 'http://i', select_url: 'http://s', tenant: '1:2:3' }), refused('tenant'));
  assert.deepEqual(vmEndpointProblems({}, false), [], 'no VictoriaMetrics named and none needed (backend sqlite)');
  assert.deepEqual(vmEndpointProblems({ url: 'http://a' }, true), []);
  assert.deepEqual(vmEndpointProblems({ insert_url: 'http://i', select_url: 'http://s', tenant: '4294967295:4294967295' }, true), []);
  assert.deepEqual(vmEndpointProblems({ insert_url: 'http://i', select_url: 'http://s', tenant: 4294967296 }, true).map((p) => p.field), ['tenant']);
  assert.deepEqual(vmEndpointProblems({ url: 'http://a#x' }, true).map((p) => p.field), ['url']);
  assert.deepEqual(vmEndpointProblems({ insert_url: 'http://i', select_url: 'http://s/select/0/prometheus' }, true).map((p) => p.field), ['select_url']);
});
