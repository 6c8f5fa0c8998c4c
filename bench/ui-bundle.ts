// Size of the built web UI: raw and gzipped (level 9), per file and in total. Goal: ≤ 150 KB gzipped.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { benchEnd, benchStart } from './ui-common.ts';

benchStart(import.meta.filename, [], { build: 'vite build web (web/build-if-stale.mjs)', gzip: 'level 9 here; the server sends the build\'s own .br/.gz' });
const dist = join(import.meta.dirname, '../web/dist');
const r = spawnSync(process.execPath, [join(import.meta.dirname, '../web/build-if-stale.mjs')], { stdio: 'inherit' });
if (r.status !== 0) process.exit(1);

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? files(join(dir, n)) : [join(dir, n)]));
}
let raw = 0;
let gz = 0;
// The precompressed copies (.br, .gz) are what goes on the wire, not more of the app.
for (const f of files(dist).filter((x) => !/\.(br|gz)$/.test(x))) {
  const b = readFileSync(f);
  const z = gzipSync(b, { level: 9 }).length;
  raw += b.length;
  gz += z;
  console.log(`${relative(dist, f).padEnd(36)} ${(b.length / 1024).toFixed(1).padStart(7)} KB  gzip ${(z / 1024).toFixed(1).padStart(6)} KB`);
}
console.log(`total${' '.repeat(32)}${(raw / 1024).toFixed(1).padStart(7)} KB  gzip ${(gz / 1024).toFixed(1).padStart(6)} KB  (goal ≤ 150 KB)`);
benchEnd();
