// Whether dist/ (the bundle of `npm run build`) is newer than every file it is built from:
// src/, package.json and the lock. Used by bin/smokemesh.js in a source checkout and by
// `npm start`'s build step; a release has no src/ and always runs dist/.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

function newest(dir) {
  let m = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    m = Math.max(m, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return m;
}

/** True when `<root>/dist/cli.js` exists and no source file is newer than it. */
export function distIsFresh(rootUrl) {
  const root = fileURLToPath(rootUrl);
  let built;
  try {
    built = statSync(join(root, 'dist/cli.js')).mtimeMs;
  } catch {
    return false;
  }
  const sources = Math.max(newest(join(root, 'src')), statSync(join(root, 'package.json')).mtimeMs, statSync(join(root, 'package-lock.json')).mtimeMs);
  return built >= sources;
}
