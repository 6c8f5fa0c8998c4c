import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SmokemeshError } from '../errors.ts';
import { bundle, type BundleResult } from './bundle.ts';
import { isVersion, releaseFileName, type ReleaseInfo } from './manifest.ts';
import { sha256 } from './signing.ts';
import { packRelease } from './tarball.ts';

export interface ReleaseBuildOptions {
  /** The source checkout. */
  root: string;
  /** Directory the tarball is written to. */
  outDir: string;
  /** Default: package.json's version. */
  version?: string;
  /** Default and only choice: this machine's (the native module is built here). */
  arch?: string;
  /** A built UI to ship (tests build it once); default: web/dist, built first when stale. */
  webDist?: string;
  log?: (line: string) => void;
}

export interface BuiltRelease {
  file: string;
  info: ReleaseInfo;
  bytes: number;
  sha256: string;
  bundle: BundleResult;
}

/**
 * Files of the native SQLite binding a release ships in node_modules/ (built for this machine's
 * architecture and Node ABI by `npm install`), as paths inside each package. Everything else
 * is inside the bundle.
 */
const NATIVE_FILES: Record<string, string[]> = {
  'better-sqlite3': ['package.json', 'LICENSE', 'lib', 'build/Release/better_sqlite3.node'],
  bindings: ['package.json', 'LICENSE.md', 'bindings.js'],
  'file-uri-to-path': ['package.json', 'LICENSE', 'index.js'],
  // Remote write's compression: the package (JavaScript only) and its binary for this platform.
  snappy: ['.'],
  [`@napi-rs/snappy-linux-${process.arch}-gnu`]: ['.'],
};

/**
 * `smokemesh-<version>-linux-<arch>.tar.gz` in `outDir`: the bundle (dist/), the native SQLite
 * binding, the web UI, the launcher (bin/smokemesh.js), systemd units, the install script, an
 * example config, docs/install.md and release.json. Nothing in it runs TypeScript.
 */
export async function buildRelease(o: ReleaseBuildOptions): Promise<BuiltRelease> {
  const log = o.log ?? (() => {});
  const pkg = JSON.parse(readFileSync(join(o.root, 'package.json'), 'utf8')) as { version: string; description: string; license: string; engines: Record<string, string> };
  const version = o.version ?? pkg.version;
  if (!isVersion(version)) throw new SmokemeshError('SMOKEMESH_E_USAGE', `--version "${version}": expected a semver version such as 1.2.3 or 1.3.0-rc.1`);
  const arch = o.arch ?? process.arch;
  if (arch !== process.arch) {
    throw new SmokemeshError('SMOKEMESH_E_USAGE', `--arch ${arch}: releases are built on a machine of their architecture (the SQLite binding is compiled by npm install); this one is ${process.arch}`);
  }
  const webDist = o.webDist ?? buildWeb(o.root);
  if (!existsSync(join(webDist, 'index.html'))) throw new SmokemeshError('SMOKEMESH_E_USAGE', `${webDist}: no built UI (index.html)`);

  const top = `smokemesh-${version}`;
  const stage = mkdtempSync(join(tmpdir(), 'smokemesh-release-'));
  try {
    const dir = join(stage, top);
    mkdirSync(dir, { recursive: true });
    log(`bundling ${version} for linux-${arch}`);
    const bundled = await bundle({ root: o.root, outDir: join(dir, 'dist'), version });
    copyNative(o.root, dir);
    cpSync(webDist, join(dir, 'web/dist'), { recursive: true });
    cpSync(join(o.root, 'bin/smokemesh.js'), join(dir, 'bin/smokemesh.js'));
    for (const unit of ['smokemesh-server.service', 'smokemesh-agent.service', 'agent.env.example']) {
      cpSync(join(o.root, 'deploy/systemd', unit), join(dir, 'systemd', unit));
    }
    cpSync(join(o.root, 'deploy/install.sh'), join(dir, 'install.sh'));
    cpSync(join(o.root, 'smokemesh.yaml'), join(dir, 'smokemesh.example.yaml'));
    cpSync(join(o.root, 'docs/install.md'), join(dir, 'docs/install.md'));
    const info: ReleaseInfo = {
      name: 'smokemesh', version, os: 'linux', arch,
      node_abi: process.versions.modules, node_major: Number(process.versions.node.split('.')[0]),
      built_at: new Date().toISOString(),
    };
    writeFileSync(join(dir, 'release.json'), JSON.stringify(info, null, 2) + '\n');
    writeFileSync(join(dir, 'package.json'), JSON.stringify({
      name: 'smokemesh', version, description: pkg.description, license: pkg.license, private: true,
      type: 'module', engines: pkg.engines, bin: { smokemesh: 'bin/smokemesh.js' },
    }, null, 2) + '\n');
    normaliseModes(dir);
    for (const exe of ['bin/smokemesh.js', 'install.sh']) chmodSync(join(dir, exe), 0o755);

    mkdirSync(o.outDir, { recursive: true });
    const file = join(o.outDir, releaseFileName(version, arch));
    await packRelease(stage, top, file, Date.parse(info.built_at));
    const bytes = readFileSync(file);
    log(`${file}: ${(bytes.length / 1048576).toFixed(1)} MiB`);
    return { file, info, bytes: bytes.length, sha256: sha256(bytes), bundle: bundled };
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

/** Builds the UI when web/dist is missing or older than its sources; returns web/dist. */
export function buildWeb(root: string): string {
  const r = spawnSync(process.execPath, [join(root, 'web/build-if-stale.mjs')], { stdio: 'inherit' });
  if (r.status !== 0) throw new SmokemeshError('SMOKEMESH_E_USAGE', 'building the web UI failed (see above)');
  return join(root, 'web/dist');
}

function copyNative(root: string, dir: string): void {
  for (const [pkg, files] of Object.entries(NATIVE_FILES)) {
    for (const f of files) {
      const from = join(root, 'node_modules', pkg, f);
      if (!existsSync(from)) throw new SmokemeshError('SMOKEMESH_E_USAGE', `${from} is missing: run npm install (it builds or fetches the native modules for this machine)`);
      cpSync(from, join(dir, 'node_modules', pkg, f), { recursive: true });
    }
  }
}

/** Files 644 and directories 755, whatever the checkout's umask made them. */
function normaliseModes(path: string): void {
  const st = statSync(path);
  if (st.isDirectory()) {
    chmodSync(path, 0o755);
    for (const name of readdirSync(path)) normaliseModes(join(path, name));
  } else {
    chmodSync(path, 0o644);
  }
}

