import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './agents-kit.ts';
import { waitFor } from './wait.ts';

/** A running Prometheus (Debian's /usr/bin/prometheus) on 127.0.0.1. */
export interface Prometheus {
  url: string;
  /** What it printed on stderr (the tail), for failure messages. */
  stderr(): string;
  /** SIGTERM, and waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * Starts Prometheus with `config` (prometheus.yml) and its TSDB under `dir`, on a free loopback
 * port, optionally with its remote-write receiver; resolves once it answers /-/ready.
 */
export async function startPrometheus(dir: string, config: string, o: { remoteWriteReceiver?: boolean } = {}): Promise<Prometheus> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'prometheus.yml'), config);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = spawn('/usr/bin/prometheus', [
    `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`,
    `--web.listen-address=127.0.0.1:${port}`, ...(o.remoteWriteReceiver ? ['--web.enable-remote-write-receiver'] : []), '--log.level=warn',
  ], { stdio: ['ignore', 'ignore', 'pipe'], shell: false });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  await waitFor(`prometheus to be ready on ${url}`, async () => {
    if (proc.exitCode !== null) throw new Error(`prometheus exited ${proc.exitCode}: ${stderr}`);
    return (await fetch(`${url}/-/ready`)).ok;
  }, 30000, 200);
  return {
    url,
    stderr: () => stderr,
    stop: async () => {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      await exited;
    },
  };
}
