import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lazyModule } from './lazy-module.ts';

test('lazyModule: loads once, gives named exports as Node and the bundle hand them over, tries a failed load again', async () => {
  let loads = 0;
  const exports = { createTransport: () => 'transport' };
  // The bundle's shape of a CommonJS package: only `default`.
  const bundled = lazyModule(async () => { loads++; return { default: exports } as unknown as typeof exports; });
  assert.equal((await bundled()).createTransport(), 'transport');
  assert.equal(await bundled(), await bundled());
  assert.equal(loads, 1);
  // Node's shape: the names and `default`.
  const native = lazyModule(async () => ({ ...exports, default: exports }));
  assert.equal((await native()).createTransport(), 'transport');
  let fail = true;
  const flaky = lazyModule(async () => { if (fail) throw new Error('not yet'); return exports; });
  await assert.rejects(flaky(), /not yet/);
  fail = false;
  assert.equal((await flaky()).createTransport(), 'transport');
});
