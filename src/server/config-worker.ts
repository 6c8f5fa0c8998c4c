/**
 * The thread on which the server validates its config on reload (src/server/config-thread.ts
 * starts it): parsing and checking a big config never blocks the server's event loop.
 * Answers a request with the verdict and the config's head, then sends the tree in slices,
 * one each time the server asks for the next (so it takes them at its own pace).
 */
import { parentPort } from 'node:worker_threads';
import { SLICE, toData, type NodeShell } from '../config/positions.ts';
import { validateConfig, type ConfigOverrides } from './config-sections.ts';

let shells: NodeShell[] = [];

parentPort!.on('message', (m: { id: number; file: string; overrides: ConfigOverrides } | { id: number; slice: number }) => {
  if ('slice' in m) {
    parentPort!.postMessage({ id: m.id, slice: shells.slice(m.slice * SLICE, (m.slice + 1) * SLICE) });
    if ((m.slice + 1) * SLICE >= shells.length) shells = [];
    return;
  }
  const verdict = validateConfig(m.file, m.overrides);
  const data = verdict.config ? toData(verdict.config) : undefined;
  shells = data?.shells ?? [];
  parentPort!.postMessage({ id: m.id, issues: verdict.issues, warnings: verdict.warnings, head: data?.head });
});
