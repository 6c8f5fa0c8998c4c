/**
 * Helpers shared by the alert tests: a temp dir, a hook program that records its arguments
 * and environment, a real store, and rounds. Test-only; nothing here is used by the server.
 */
import { chmodSync, mkdtempSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { parseConfig, type Config } from '../config/loader.ts';
import { makeRound, type Round } from '../probes/round.ts';
import { openStore } from '../store/index.ts';

export const silentLog = pino({ level: 'silent' });

export function tempDir(prefix = 'smokemesh-alerts-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Writes an executable that appends one JSON line {args, event} per call to `<dir>/hook.log`. */
export function writeHook(dir: string): { path: string; calls(): { args: string[]; event: Record<string, unknown> }[] } {
  const path = join(dir, 'hook.sh');
  const log = join(dir, 'hook.log');
  // python3 quotes the arguments into JSON exactly; no shell sees them.
  writeFileSync(path, `#!/usr/bin/python3
import json, os, sys
with open(${JSON.stringify(log)}, "a") as f:
    f.write(json.dumps({"args": sys.argv[1:], "event": json.loads(os.environ["SMOKEMESH_EVENT"])}) + "\\n")
`);
  chmodSync(path, 0o755);
  return {
    path,
    calls: () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : []),
  };
}

/** Parses a YAML config written into `dir/smokemesh.yaml` (so relative paths resolve there). */
export function configIn(dir: string, yaml: string): Config {
  // `data_dir: ./data` means the test's own directory, whatever the process's cwd is.
  yaml = yaml.replaceAll('data_dir: ./data', `data_dir: ${JSON.stringify(join(dir, 'data'))}`);
  const file = join(dir, 'smokemesh.yaml');
  writeFileSync(file, yaml);
  return parseConfig(yaml, file);
}

export function storeIn(dir: string, config: Config) {
  return openStore(join(dir, 'data'), config.store, silentLog);
}

/** A round of `target` by `agent` with `lost` of `sent` pings lost and the others at `rtt` ms. */
export function round(target: string, agent: string, time: number, sent: number, lost: number, rtt = 10, step = 5): Round {
  return makeRound({ target, agent, probe: 'icmp', time, step }, { sent, rtts: Array.from({ length: sent - lost }, (_, i) => rtt + i * 0.001) });
}
