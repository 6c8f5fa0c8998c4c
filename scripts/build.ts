// `npm run build`: the JavaScript production runs (dist/, one bundle split per command) and the
// web UI (web/dist/). bin/smokemesh.js runs dist/ while it is newer than the sources.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildWeb } from '../src/release/build.ts';
import { bundle } from '../src/release/bundle.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
buildWeb(root);
const r = await bundle({ root, outDir: join(root, 'dist'), version });
const bytes = r.outputs.reduce((n, o) => n + o.bytes, 0);
process.stdout.write(`dist/: ${r.outputs.length} files, ${(bytes / 1048576).toFixed(1)} MiB, bundled in ${Math.round(r.ms)} ms\n`);
