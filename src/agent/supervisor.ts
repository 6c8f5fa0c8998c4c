import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { currentVersion, readUpgradeState, switchCurrent, writeUpgradeState, type InstallLayout } from './install-layout.ts';
import { EXIT_UPGRADED } from './upgrade.ts';

/** Set in the environment of the agent process a supervisor runs. */
export const WORKER_ENV = 'SMOKEMESH_AGENT_WORKER';

/**
 * Runs the agent of an installed release as a child process and outlives its upgrades: the
 * child is always `<prefix>/current/bin/smokemesh.js` with the same arguments, started again
 * when it exits with EXIT_UPGRADED (it switched `current`). When a version on trial exits
 * otherwise, `current` goes back to the previous version, the state records the failure (the
 * old version reports it) and that one starts. Any other exit ends the supervisor with the
 * same status (systemd's Restart=on-failure starts it again). SIGTERM and SIGINT are passed
 * on. The same under systemd and by hand: one code path, tested end to end.
 */
export async function superviseAgent(o: { layout: InstallLayout; args: string[]; log: Logger }): Promise<number> {
  const { layout, log } = o;
  let stopping = false;
  let child: ReturnType<typeof spawn> | undefined;
  const forward = (sig: NodeJS.Signals) => {
    stopping = true;
    child?.kill(sig);
  };
  process.on('SIGTERM', () => forward('SIGTERM'));
  process.on('SIGINT', () => forward('SIGINT'));
  let quickFailures = 0;
  for (;;) {
    const version = currentVersion(layout);
    const started = Date.now();
    child = spawn(process.execPath, [join(layout.current, 'bin/smokemesh.js'), ...o.args], {
      stdio: 'inherit',
      env: { ...process.env, [WORKER_ENV]: '1' },
    });
    log.info({ version, pid: child.pid }, `supervisor: agent ${version ?? '?'} started`);
    const code = await new Promise<number>((resolve) => {
      child!.once('exit', (c, sig) => resolve(c ?? (sig ? 128 + (sig === 'SIGTERM' ? 15 : sig === 'SIGINT' ? 2 : 9) : 1)));
      child!.once('error', (e) => {
        log.error({ err: e }, 'supervisor: cannot start the agent');
        resolve(1);
      });
    });
    if (stopping) return code === 143 || code === 130 ? 0 : code;
    if (code === EXIT_UPGRADED) {
      log.info({ from: version, to: currentVersion(layout) }, 'supervisor: the agent upgraded itself; starting the new version');
      quickFailures = 0;
      continue;
    }
    const st = readUpgradeState(layout);
    const s = st?.status;
    if (s && (s.state === 'trial' || (s.state === 'failed' && s.target === version)) && s.previous && s.previous !== version) {
      const error = s.state === 'trial' ? `${version} exited with status ${code} on trial` : s.error ?? `${version} failed`;
      log.error({ version, previous: s.previous, code }, `supervisor: ${error}; rolling back to ${s.previous}`);
      try {
        switchCurrent(layout, s.previous);
      } catch (e) {
        log.error({ err: e }, `supervisor: cannot roll back to ${s.previous}`);
        return code || 1;
      }
      const { previous: _p, ...rest } = s;
      writeUpgradeState(layout, { status: { ...rest, state: 'failed', error, at: Date.now() } });
      continue;
    }
    // A crash of a committed version: start it again a few times, then leave it to systemd.
    if (Date.now() - started < 10_000 && ++quickFailures >= 3) return code || 1;
    log.warn({ version, code }, 'supervisor: the agent exited; starting it again in 2 s');
    await new Promise((r) => setTimeout(r, 2000));
  }
}
