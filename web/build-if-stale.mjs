// Builds the UI (vite build → web/dist) only when web/dist is missing or older than a source
// file under web/, so that `npm start` stays fast when nothing changed.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';

const web = dirname(fileURLToPath(import.meta.url));
const built = join(web, 'dist/index.html');

function newest(dir) {
  let m = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'dist' || e.name === 'node_modules') continue;
    const p = join(dir, e.name);
    m = Math.max(m, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return m;
}

if (existsSync(built) && statSync(built).mtimeMs >= newest(web)) process.exit(0);
const vite = join(web, '../node_modules/vite/bin/vite.js');
const r = spawnSync(process.execPath, [vite, 'build', web, '--logLevel', 'warn'], { stdio: 'inherit' });
process.exit(r.status ?? 1);
