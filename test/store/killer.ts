import { spawn } from 'node:child_process';
import { join } from 'node:path';

const CHILD = join(import.meta.dirname, 'writer-child.ts');

/**
 * Runs writer-child.ts with `args` and kills it with SIGKILL after `killAt` acknowledged
 * batches; each acknowledged batch (first time → rounds) is added to `acked`.
 */
export async function writeUntilKilled(args: string[], killAt: number, acked: Map<number, number>): Promise<void> {
  const p = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let buf = '';
  let stderr = '';
  p.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  let lines = 0;
  await new Promise<void>((resolve, reject) => {
    p.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const [first, count] = buf.slice(0, nl).split(' ').map(Number);
        buf = buf.slice(nl + 1);
        acked.set(first!, count!);
        if (++lines === killAt) p.kill('SIGKILL');
      }
    });
    p.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`child exited ${code}: ${stderr}`))));
  });
}
