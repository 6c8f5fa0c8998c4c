import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { Command } from 'commander';
import { SmokemeshError } from '../errors.ts';
import { packageRoot } from '../package-root.ts';
import type { Rollout, RolloutSpec } from '../release/rollout.ts';
import { adminClient, adminOptions, type AdminCliOptions } from './admin-client.ts';
import { collect, int } from './options.ts';

/**
 * `smokemesh release …`: build a release tarball, make an Ed25519 key pair, sign a tarball,
 * upload it to a server, and run rollouts (start, status, pause, resume, abort, rollback).
 */
export function registerReleaseCommand(program: Command): void {
  const release = program.command('release').description('build, sign and upload releases; roll them out to the agents');

  release.command('build')
    .description('build smokemesh-<version>-linux-<arch>.tar.gz from this source checkout')
    .argument('[version]', 'version to build (default: package.json\'s)')
    .option('-o, --out <dir>', 'directory for the tarball', 'release')
    .action(async (version: string | undefined, o: { out: string }) => {
      const { buildRelease } = await import('../release/build.ts');
      const built = await buildRelease({ root: packageRoot(), outDir: resolve(o.out), ...(version ? { version } : {}), log: (l) => process.stderr.write(l + '\n') });
      process.stdout.write(`${built.file}\n`);
    });

  release.command('keygen')
    .description('make an Ed25519 key pair: <name>.key (private, 600: keep it off the servers) and <name>.pub (give it to agents with --release-key)')
    .option('--out <path>', 'path of the pair without extension', 'smokemesh-release')
    .action(async (o: { out: string }) => {
      const { generateReleaseKeys } = await import('../release/signing.ts');
      const k = generateReleaseKeys();
      if (existsSync(`${o.out}.key`)) throw new SmokemeshError('SMOKEMESH_E_USAGE', `${o.out}.key exists: not overwritten`);
      writeFileSync(`${o.out}.key`, k.privatePem, { mode: 0o600, flag: 'wx' });
      writeFileSync(`${o.out}.pub`, k.publicPem, { mode: 0o644 });
      process.stdout.write(`key ${k.keyId}: ${o.out}.key (private), ${o.out}.pub (public)\n`);
    });

  release.command('sign')
    .description('sign a release tarball: writes <tarball>.sig beside it')
    .argument('<tarball>')
    .requiredOption('--key <file>', 'private key from `smokemesh release keygen`')
    .action(async (file: string, o: { key: string }) => {
      const { readPrivateKey, sha256, signRelease } = await import('../release/signing.ts');
      const { readReleaseInfo } = await import('../release/tarball.ts');
      const key = readPrivateKey(o.key);
      const { info } = await readReleaseInfo(file);
      const bytes = readFileSync(file);
      const sig = signRelease(info, basename(file), { sha256: sha256(bytes), size: bytes.length }, key);
      writeFileSync(`${file}.sig`, JSON.stringify(sig, null, 2) + '\n');
      process.stdout.write(`${file}.sig: ${info.version} for ${info.arch}, key ${sig.key_id}\n`);
    });

  adminOptions(release.command('upload')
    .description('upload a signed tarball (and its .sig) to the server, for agents to upgrade to')
    .argument('<tarball>'))
    .action(async (file: string, o: AdminCliOptions) => {
      const sigFile = `${file}.sig`;
      if (!existsSync(sigFile)) throw new SmokemeshError('SMOKEMESH_E_USAGE', `${sigFile} is missing: sign the tarball first (smokemesh release sign)`);
      await withAdmin(o, async (call) => {
        const r = await call<{ file: string; version: string; key_id: string }>('PUT', `/api/v1/releases/${encodeURIComponent(basename(file))}`, readFileSync(file),
          { 'x-smokemesh-signature': readFileSync(sigFile).toString('base64') });
        process.stdout.write(`uploaded ${r.file} (${r.version}, signed with key ${r.key_id})\n`);
      });
    });

  adminOptions(release.command('rollout')
    .description('start a staged rollout of an uploaded version: a canary, then batches, each healthy for --wait before the next')
    .argument('<version>')
    .option('--canary <n|pct>', 'first wave: agents or a percentage', '1')
    .option('--canary-per-region', 'the canary count in each region')
    .option('--batch <n|pct>', 'later waves: agents or a percentage of all', '25%')
    .option('--wait <seconds>', 'how long upgraded agents must stay healthy before the next wave', '60')
    .option('--timeout <seconds>', 'how long an agent has to become healthy', '600')
    .option('--region <region>', 'only agents of this region (repeatable)', collect, [])
    .option('--agent <name>', 'only this agent (repeatable)', collect, []))
    .action(async (version: string, o: AdminCliOptions & { canary: string; canaryPerRegion?: boolean; batch: string; wait: string; timeout: string; region: string[]; agent: string[] }) => {
      const spec: RolloutSpec = {
        version, canary: o.canary, canary_per_region: o.canaryPerRegion === true, batch: o.batch,
        wait_s: int(o.wait, '--wait'), timeout_s: int(o.timeout, '--timeout'),
        ...(o.region.length ? { regions: o.region } : {}), ...(o.agent.length ? { agents: o.agent } : {}),
      };
      await withAdmin(o, async (call) => printRollout(await call<Rollout>('POST', '/api/v1/rollouts', spec)));
    });

  adminOptions(release.command('status')
    .description('a rollout with each agent\'s wave and state (default: the latest)')
    .argument('[id]'))
    .action(async (id: string | undefined, o: AdminCliOptions) => {
      await withAdmin(o, async (call) => {
        const n = id ?? String((await call<{ rollouts: { id: number }[] }>('GET', '/api/v1/rollouts')).rollouts[0]?.id ?? '');
        if (!n) throw new SmokemeshError('SMOKEMESH_E_NOT_FOUND', 'no rollout yet');
        printRollout(await call<Rollout>('GET', `/api/v1/rollouts/${n}`));
      });
    });

  for (const action of ['pause', 'resume', 'abort', 'rollback'] as const) {
    adminOptions(release.command(action)
      .description(`${action} a rollout`)
      .argument('<id>'))
      .action(async (id: string, o: AdminCliOptions) => {
        await withAdmin(o, async (call) => printRollout(await call<Rollout>('POST', `/api/v1/rollouts/${int(id, 'id')}/${action}`)));
      });
  }
}

async function withAdmin(o: AdminCliOptions, f: (call: ReturnType<typeof adminClient>['call']) => Promise<void>): Promise<void> {
  const c = adminClient(o);
  try {
    await f(c.call);
  } finally {
    await c.close();
  }
}

function printRollout(r: Rollout): void {
  const lines = [`rollout ${r.id} of ${r.spec.version}: ${r.state}, wave ${r.wave + 1}/${r.waves}${r.reason ? ` (${r.reason})` : ''}`];
  for (const a of r.agents) lines.push(`  ${a.name.padEnd(20)} wave ${a.wave}  ${a.state.padEnd(12)} from ${a.from ?? '?'}${a.error ? `  ${a.error}` : ''}`);
  process.stdout.write(lines.join('\n') + '\n');
}
