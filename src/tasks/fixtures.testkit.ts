import { readFileSync } from 'node:fs';

/** A fixture captured by fixtures/capture.sh: the tool's stdout, its argv, exit code and stderr. */
export function fixture(name: string): { out: string; argv: string[]; exitCode: number; stderr: string } {
  const dir = new URL('./fixtures/', import.meta.url);
  const meta = JSON.parse(readFileSync(new URL(`${name}.json`, dir), 'utf8')) as { argv: string[]; exitCode: number; stderr: string };
  return { out: readFileSync(new URL(`${name}.out`, dir), 'utf8'), ...meta };
}
