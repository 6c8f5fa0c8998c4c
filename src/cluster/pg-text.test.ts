import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pgSafe, pgText } from './pg-text.ts';

test('pgText: raw and JSON-escaped NULs become U+FFFD; an escaped backslash before u0000 is left alone', () => {
  assert.equal(pgText('a\u0000b'), 'a\ufffdb');
  const json = JSON.stringify({ error: 'x\u0000y', path: 'C:\\u0000' });
  const back = JSON.parse(pgText(json)) as { error: string; path: string };
  assert.equal(back.error, 'x\ufffdy');
  assert.equal(back.path, 'C:\\u0000', 'the six characters \\u0000 in a JSON string are text, not a NUL');
  assert.equal(pgText('plain'), 'plain');
  assert.equal(JSON.parse(pgText(JSON.stringify('\u0000\u0000'))), '\ufffd\ufffd');
});

test('pgSafe: strings, and strings in arrays, are cleaned; numbers, null, buffers pass as they are', () => {
  assert.deepEqual(pgSafe(['a\u0000', 'b']), ['a\ufffd', 'b']);
  assert.deepEqual(pgSafe([1, 2]), [1, 2]);
  assert.equal(pgSafe(null), null);
  const buf = Buffer.from([0, 1]);
  assert.equal(pgSafe(buf), buf);
});
