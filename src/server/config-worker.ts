/**
 * The thread on which the server validates its config on reload (src/server/config-thread.ts
 * starts it): parsing and checking a big config never blocks the server's event loop.
 * Answers each request with the verdict, the config as plain data.
 */
import { parentPort } from 'node:worker_threads';
import { toData } from '../config/positions.ts';
import { validateConfig, type ConfigOverrides } from './config-sections.ts';

parentPort!.on('message', ({ id, file, overrides }: { id: number; file: string; overrides: ConfigOverrides }) => {
  const verdict = validateConfig(file, overrides);
  parentPort!.postMessage({ id, issues: verdict.issues, warnings: verdict.warnings, config: verdict.config ? toData(verdict.config) : undefined });
});
