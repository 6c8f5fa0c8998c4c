import { readFileSync, statSync } from 'node:fs';
import { SmokemeshError } from '../errors.ts';

/** Shortest secret accepted: 16 characters (e.g. `openssl rand -hex 32` gives 64). */
export const MIN_SECRET_LENGTH = 16;

/**
 * Reads an agent secret: the file's first line, trimmed. Refuses a file that group or others
 * can read (the secret would not be one), or a secret too short to resist guessing.
 */
export function readSecretFile(file: string): string {
  let mode: number;
  let text: string;
  try {
    mode = statSync(file).mode;
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new SmokemeshError('SMOKEMESH_E_AUTH', `secret file ${file}: cannot read it: ${(e as Error).message}`);
  }
  if (mode & 0o077) {
    throw new SmokemeshError('SMOKEMESH_E_AUTH', `secret file ${file} is readable by group or others (mode ${(mode & 0o777).toString(8)}); run: chmod 600 ${file}`);
  }
  const secret = text.split('\n')[0]!.trim();
  if (secret.length < MIN_SECRET_LENGTH) {
    throw new SmokemeshError('SMOKEMESH_E_AUTH', `secret file ${file}: the secret is ${secret.length} characters; at least ${MIN_SECRET_LENGTH} are needed (make one with: openssl rand -hex 32 > ${file})`);
  }
  return secret;
}
