import { test } from 'node:test';
import assert from 'node:assert/strict';
import { globMatch } from './glob.ts';

/** The old translation to a backtracking RegExp: exact, and fine on short inputs. */
function reference(glob: string, text: string): boolean {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      re += '.*';
      while (glob[i + 1] === '*') i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's').test(text);
}

/** A small deterministic generator, so that a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

test('glob: agrees with a regexp reference on 20,000 random globs and paths', () => {
  const rand = rng(42);
  const pick = (alphabet: string, max: number): string => {
    let s = '';
    const n = Math.floor(rand() * (max + 1));
    for (let i = 0; i < n; i++) s += alphabet[Math.floor(rand() * alphabet.length)];
    return s;
  };
  let matched = 0;
  for (let i = 0; i < 20000; i++) {
    const glob = pick('ab/*?.', 8);
    const text = pick('ab/.', 10);
    const want = reference(glob, text);
    assert.equal(globMatch(glob, text), want, `glob ${JSON.stringify(glob)} on ${JSON.stringify(text)}`);
    if (want) matched++;
  }
  assert.ok(matched > 500, `the cases include enough matches (${matched})`);
});

test('glob: the rules by example', () => {
  assert.ok(globMatch('/Core/*', '/Core/r1'));
  assert.ok(!globMatch('/Core/*', '/Core/fra/r1'), '* stays within a segment');
  assert.ok(globMatch('/Core/**', '/Core/fra/r1'), '** crosses segments');
  assert.ok(globMatch('/Core/***', '/Core/fra/r1'), 'a longer run is **');
  assert.ok(globMatch('**', ''));
  assert.ok(globMatch('', ''));
  assert.ok(!globMatch('', 'x'));
  assert.ok(!globMatch('?', '/'));
  assert.ok(globMatch('a[b](c)+$^', 'a[b](c)+$^'), 'regexp characters are literal');
  assert.ok(globMatch('/中/*', '/中/文'), 'characters beyond the BMP or ASCII are one character each');
});

test('glob: 30 stars against a long path that does not match takes one pass, not an explosion', () => {
  // With the old RegExp translation this case did not finish; here its cost is text × glob.
  const glob = `/${'*'.repeat(1)}${'a*'.repeat(30)}b`;
  const text = `/${'a'.repeat(5000)}`;
  assert.equal(globMatch(glob, text), false);
  assert.equal(globMatch('*'.repeat(30), 'x'.repeat(100000)), true);
});
