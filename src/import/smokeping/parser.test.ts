import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalize } from 'node:path';
import { decodeText, parseSmokepingConfig, quoteSplit, type SpSection } from './parser.ts';

/** Parses files given as a map (name → text), without touching the disk. */
function parse(files: Record<string, string | Buffer>, main = '/etc/sp/config') {
  return parseSmokepingConfig(main, (f) => {
    // The OS resolves "dir/../x"; so does this stand-in for the disk.
    const t = files[f.startsWith('/') ? normalize(f) : f];
    if (t === undefined) throw new Error('ENOENT: no such file');
    return Buffer.isBuffer(t) ? t : Buffer.from(t);
  });
}

function find(sections: SpSection[], ...path: string[]): SpSection {
  let list = sections;
  let s: SpSection | undefined;
  for (const name of path) {
    s = list.find((x) => x.name === name);
    assert.ok(s, `section ${path.join('/')}`);
    list = s.children;
  }
  return s!;
}

test('lines: trimmed, cut at the first #, joined by a trailing backslash with one space (comments in the joined line kept)', () => {
  const c = parse({ '/etc/sp/config': '*** Targets ***\n   title = a \\\n   b # not a comment here\nurl = http://h/#frag\nremark = x \\' });
  const t = find(c.sections, 'Targets');
  assert.equal(t.vars.get('title')!.value, 'a  b # not a comment here');
  assert.equal(t.vars.get('title')!.at.line, 2);
  assert.equal(t.vars.get('url')!.value, 'http://h/');
  assert.equal(t.vars.get('remark')!.value, 'x ');
});

test('@include: relative to the including file, absolute as is, nested; @define replaces text in later lines', () => {
  const c = parse({
    '/etc/sp/config': '@define HOSTX 127.0.0.9\n*** Targets ***\nprobe = FPing\n@include targets/a\n@include /abs/b',
    '/etc/sp/targets/a': '+ A\n@include ../common/c\n++ a1\nhost = HOSTX',
    '/etc/sp/common/c': 'menu = from c',
    '/abs/b': '+ B\ntitle = b',
  });
  assert.equal(find(c.sections, 'Targets', 'A').vars.get('menu')!.value, 'from c');
  assert.equal(find(c.sections, 'Targets', 'A').vars.get('menu')!.at.file, '/etc/sp/targets/../common/c');
  assert.equal(find(c.sections, 'Targets', 'A', 'a1').vars.get('host')!.value, '127.0.0.9');
  assert.equal(find(c.sections, 'Targets', 'B').vars.get('title')!.value, 'b');
  assert.deepEqual(c.files, ['/etc/sp/config', '/etc/sp/targets/a', '/etc/sp/targets/../common/c', '/abs/b']);
});

test('a config file named without a directory includes from the working directory', () => {
  const seen: string[] = [];
  parseSmokepingConfig('config', (f) => {
    seen.push(f);
    return Buffer.from(f === 'config' ? '@include inc\n' : '*** General ***\n');
  });
  assert.deepEqual(seen, ['config', 'inc']);
});

test('errors name file and line: a missing include (quotes are not stripped at the end), a skipped level, twins, a repeated variable, an include loop', () => {
  assert.throws(() => parse({ '/etc/sp/config': '*** General ***\n@include "x"' }), /\/etc\/sp\/config:2: cannot read \/etc\/sp\/x": ENOENT/);
  assert.throws(() => parse({ '/etc/sp/config': '*** Targets ***\n++ deep' }), /config:2: section nesting error: "\+\+ deep" skips a level/);
  assert.throws(() => parse({ '/etc/sp/config': '*** Targets ***\n+ a\n+ a' }), /config:3: section "a" already exists here \(at \/etc\/sp\/config:2\)/);
  assert.throws(() => parse({ '/etc/sp/config': '*** Targets ***\nmenu = a\nmenu = b' }), /config:3: variable "menu" is already defined in this section/);
  assert.throws(() => parse({ '/etc/sp/config': '@include config' }), /nested more than 32 deep/);
  assert.throws(() => parse({ '/etc/sp/config': 'menu = x' }), /config:1: "menu = x" outside of any \*\*\* section \*\*\*/);
});

test('table rows split like Config::Grammar: quotes group, backslashes escape', () => {
  assert.deepEqual(quoteSplit('"Last 3 Hours"    3h'), ['Last 3 Hours', '3h']);
  assert.deepEqual(quoteSplit("AVERAGE  0.5 12  4320"), ['AVERAGE', '0.5', '12', '4320']);
  assert.deepEqual(quoteSplit(`'it\\'s' a\\ b "q\\"x"`), ["it's", 'a b', 'q"x']);
  const c = parse({ '/etc/sp/config': '*** Presentation ***\n+ detail\n"最近 3 小时" 3h' });
  assert.deepEqual(find(c.sections, 'Presentation', 'detail').rows[0]!.cells, ['最近 3 小时', '3h']);
});

test('text is UTF-8, or Latin-1 when it is not valid UTF-8 (SmokePing reads bytes)', () => {
  assert.equal(decodeText(Buffer.from('北京电信')), '北京电信');
  assert.equal(decodeText(Buffer.from([0x4d, 0xfc, 0x6e, 0x63, 0x68, 0x65, 0x6e])), 'München');
  const c = parse({ '/etc/sp/config': Buffer.concat([Buffer.from('*** Targets ***\ntitle = '), Buffer.from([0xc4, 0x72, 0x7a, 0x74, 0x65])]) });
  assert.equal(find(c.sections, 'Targets').vars.get('title')!.value, 'Ärzte');
});
