import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_CODES, httpStatusOf, type ErrorCode } from './errors.ts';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

test('every error code used in the code is in the one catalogue, and docs/errors.md lists each', () => {
  const used = new Set<string>();
  for (const f of [...sources('src'), ...sources('web/src')]) {
    for (const m of readFileSync(f, 'utf8').matchAll(/SMOKEMESH_E_[A-Z_]+/g)) used.add(m[0]);
  }
  const known = new Set(Object.keys(ERROR_CODES));
  assert.deepEqual([...used].filter((c) => !known.has(c)), [], 'codes used but not in src/errors.ts');
  const doc = readFileSync('docs/errors.md', 'utf8');
  assert.deepEqual([...known].filter((c) => !doc.includes('`' + c + '`')), [], 'codes missing from docs/errors.md');
});

test('an error without a status of its own is answered with the status docs/errors.md gives its code', () => {
  const rows = [...readFileSync('docs/errors.md', 'utf8').matchAll(/^\| `(SMOKEMESH_E_[A-Z_]+)` \|[^|]*\| ([^|]*) \|$/gm)];
  assert.equal(rows.length, Object.keys(ERROR_CODES).length);
  for (const [, code, column] of rows) {
    const first = /^(\d{3})\b/.exec(column!.trim());
    if (first) assert.equal(httpStatusOf(code as ErrorCode), Number(first[1]), `${code}: docs/errors.md says ${column!.trim()}`);
  }
});
