import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_ALIAS_VALUES, MAX_DEPTH, readYaml } from './yaml.ts';

const problemOf = (text: string) => {
  const r = readYaml(text);
  assert.equal(r.value, undefined, 'no value when there are problems');
  assert.equal(r.problems.length >= 1, true, 'a problem is reported');
  return r.problems[0]!;
};

test('aliases expand into their own copies; keys and values come back as plain data', () => {
  const r = readYaml('base: &b { a: 1, l: [x] }\none: *b\ntwo: [*b, *b]\n');
  assert.deepEqual(r.problems, []);
  const v = r.value as { base: object; one: object; two: object[] };
  assert.deepEqual(v.one, { a: 1, l: ['x'] });
  assert.notEqual(v.one, v.base, 'an alias is a copy, never the same object');
  assert.notEqual(v.two[0], v.two[1]);
  assert.doesNotThrow(() => structuredClone(v));
});

test('an alias cycle is refused at the alias, with no stack trace', () => {
  const p = problemOf('a: 1\nb: &x\n  c: [1, *x]\n');
  assert.deepEqual(p.position, { line: 3, column: 10 });
  assert.deepEqual(p.path, ['b', 'c', 1]);
  assert.match(p.message, /alias \*x is inside its own anchor &x \(a cycle\)/);
});

test('an alias bomb is refused at the alias that crosses the bound, before it is built', () => {
  const levels = ['a: &a [x,x,x,x,x,x,x,x,x,x]'];
  for (let i = 1; i < 9; i++) levels.push(`${'abcdefghij'[i]}: &${'abcdefghij'[i]} [${Array(10).fill('*' + 'abcdefghij'[i - 1]).join(',')}]`);
  const p = problemOf(levels.join('\n') + '\n');
  assert.match(p.message, new RegExp(`more than ${MAX_ALIAS_VALUES.toLocaleString('en')} values`));
  assert.ok(p.position.line >= 6 && p.position.line <= 9, `on a line of the bomb, not ${p.position.line}`);
});

test('an alias without an anchor before it is located', () => {
  const p = problemOf('x: 1\ny: *nope\n');
  assert.deepEqual(p.position, { line: 2, column: 4 });
  assert.match(p.message, /alias \*nope has no anchor/);
});

test('duplicate keys are refused at the second one, naming the first', () => {
  const p = problemOf('general:\n  step: 60\n  pings: 5\n  step: 30\n');
  assert.deepEqual(p.position, { line: 4, column: 3 });
  assert.deepEqual(p.path, ['general', 'step']);
  assert.match(p.message, /duplicate key "step" \(first on line 2\)/);
});

test('deep nesting, tags, non-finite numbers, complex keys and several documents are refused with their place', () => {
  assert.match(problemOf(`a: ${'['.repeat(MAX_DEPTH + 5)}${']'.repeat(MAX_DEPTH + 5)}\n`).message, /nested deeper than|nested too deeply/);
  const huge = problemOf(`a: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`);
  assert.match(huge.message, /nested deeper than 200 levels/, 'refused before the parser recurses (which could abort the process)');
  assert.equal(huge.position.line, 1);
  assert.match(problemOf(Array.from({ length: 3000 }, (_, i) => ' '.repeat(i) + 'k:').join('\n') + ' 1\n').message, /nested deeper/);
  assert.match(problemOf('a: !!binary aGVsbG8=\n').message, /tags are not used/);
  assert.match(problemOf('a: !custom x\n').message, /tags are not used/);
  assert.match(problemOf('a: .inf\n').message, /\.inf is not a finite number/);
  assert.match(problemOf('? [a, b]\n: 1\n').message, /a key must be a plain value/);
  const multi = problemOf('a: 1\n---\nb: 2\n');
  assert.equal(multi.position.line, 2);
  assert.match(multi.message, /multiple documents/);
});

test('__proto__ is an ordinary key, never the prototype', () => {
  const r = readYaml('__proto__: { polluted: 1 }\n');
  const v = r.value as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(v), Object.prototype);
  assert.deepEqual(Object.keys(v), ['__proto__']);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test('locate points at the key of a mapping entry and at a list item; missing paths fall back to the deepest node', () => {
  const r = readYaml('targets:\n  children:\n    a:\n      host: x\n    b: { pings: [1, 2] }\n');
  assert.deepEqual(r.locate(['targets', 'children', 'a', 'host']), { line: 4, column: 7 });
  assert.deepEqual(r.locate(['targets', 'children', 'b', 'pings', 1]), { line: 5, column: 21 });
  assert.deepEqual(r.locate(['targets', 'children', 'a', 'nosuch']), { line: 3, column: 5 });
  assert.deepEqual(r.locate([]), { line: 1, column: 1 });
});

test('an empty or comment-only document reads as null (the config check refuses it)', () => {
  assert.equal(readYaml('').value, null);
  assert.equal(readYaml('# only a comment\n\n').value, null);
});
