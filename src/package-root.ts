import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/**
 * The directory of smokemesh's own package.json: the source checkout, or the version directory
 * of an installed release. Found by walking up from this module, so it holds both for the
 * TypeScript sources (src/) and for the built chunks (dist/, dist/chunks/).
 */
export function packageRoot(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file) && isOurs(file)) return (cached = dir);
    const up = dirname(dir);
    if (up === dir) throw new Error(`smokemesh: no package.json of smokemesh above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

function isOurs(file: string): boolean {
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { name?: string }).name === 'smokemesh';
  } catch {
    return false;
  }
}
