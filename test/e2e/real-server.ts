import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Builds web/dist with vite when it is missing or older than a source file under web/. */
export function ensureWebBuilt(): void {
  const r = spawnSync(process.execPath, [join(ROOT, 'web/build-if-stale.mjs')], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('vite build of web/ failed');
}

export interface RealServer {
  url: string;
  dir: string;
  proc: ChildProcess;
  /** Everything the server printed so far (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Runs `node bin/smokemesh.js server` on a config (listen 127.0.0.1:0, temp data dir) and
 * resolves with its URL once it logs that it listens; rejects with its output on exit or timeout.
 */
export async function startRealServer(configYaml: string, timeoutMs = 90_000): Promise<RealServer> {
  const dir = mkdtempSync(join(tmpdir(), 'smokemesh-e2e-'));
  const cfg = join(dir, 'smokemesh.yaml');
  writeFileSync(cfg, configYaml);
  const proc = spawn(process.execPath, [join(ROOT, 'bin/smokemesh.js'), 'server', '--config', cfg, '--listen', '127.0.0.1:0', '--data-dir', join(dir, 'data')],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  // The output's tail is kept for failure messages; the URL comes from the "listening" log line.
  let out = '';
  const keep = (b: Buffer) => { out = (out + b.toString()).slice(-20_000); };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  const url = await new Promise<string>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`server did not start in ${timeoutMs} ms:\n${out}`)), timeoutMs);
    const onExit = (code: number | null) => { clearTimeout(timer); rej(new Error(`server exited with ${code}:\n${out}`)); };
    const onData = () => {
      for (const line of out.split('\n')) {
        try {
          const rec = JSON.parse(line) as { url?: string };
          if (rec.url) {
            clearTimeout(timer);
            proc.stdout!.off('data', onData);
            proc.stderr!.off('data', onData);
            proc.off('exit', onExit);
            res(rec.url);
            return;
          }
        } catch { /* not a JSON log line */ }
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.once('exit', onExit);
  });
  return {
    url, dir, proc,
    output: () => out,
    async stop() {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls `check` until it returns a value (not undefined), or throws after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) { last = e; }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}
