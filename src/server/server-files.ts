/**
 * Files of the `general:` section that the server itself opens: the TLS certificate and
 * key, the admin token file, the data directory, the read-auth files. Checked with the rest
 * of the config, read at start.
 */
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import type { Config } from '../config/loader.ts';
import type { SectionCheck } from '../config/section.ts';
import { SmokemeshError } from '../errors.ts';
import { readReadAuth } from './read-auth.ts';

/** Why `file` cannot be used, or undefined; `secret`: it must not be readable by group or others. */
function fileProblem(file: string, secret: boolean): string | undefined {
  try {
    const st = statSync(file);
    if (!st.isFile()) return `${file} is not a file`;
    if (secret && st.mode & 0o077) return `${file} is readable by group or others (mode ${(st.mode & 0o777).toString(8)}); run: chmod 600 ${file}`;
    accessSync(file, constants.R_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? `${file} does not exist` : `cannot read ${file}: ${(e as Error).message}`;
  }
  return undefined;
}

/** The server's own files named in `general:` (part of the general entry of the list of sections). */
export function checkServerFiles(c: SectionCheck): void {
  const g = c.config.general;
  if (g.tls) {
    const cert = fileProblem(g.tls.cert_file, false);
    if (cert) c.error(['general', 'tls', 'cert_file'], cert);
    const key = fileProblem(g.tls.key_file, true);
    if (key) c.error(['general', 'tls', 'key_file'], key);
  }
  if (g.admin_token_file !== undefined) {
    try {
      const st = statSync(g.admin_token_file);
      if (st.mode & 0o077) c.error(['general', 'admin_token_file'], `${g.admin_token_file} is readable by group or others (mode ${(st.mode & 0o777).toString(8)}); run: chmod 600 ${g.admin_token_file}`);
    } catch { /* created at the first start */ }
  }
  readReadAuth(c.config, c.error);
  try {
    if (!statSync(g.data_dir).isDirectory()) c.error(['general', 'data_dir'], `${g.data_dir} exists and is not a directory`);
  } catch { /* created at start */ }
}

/** fastify's https options from general.tls, with errors that name the file. */
export function httpsOptions(config: Config): { https?: { cert: Buffer; key: Buffer } } {
  const tls = config.general.tls;
  if (!tls) return {};
  const read = (file: string, field: string, secret: boolean) => {
    const why = fileProblem(file, secret);
    if (why) throw new SmokemeshError('SMOKEMESH_E_CONFIG', `general.tls.${field}: ${why}`);
    return readFileSync(file);
  };
  return { https: { cert: read(tls.cert_file, 'cert_file', false), key: read(tls.key_file, 'key_file', true) } };
}
