/**
 * Runs validateConfig on a worker thread (src/server/config-thread.ts starts it): parsing
 * and checking a big config never blocks the server's event loop. Posts back the verdict
 * with the config as plain data.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { toData } from '../config/positions.ts';
import { validateConfig, type ConfigOverrides } from './config-sections.ts';

const { file, overrides } = workerData as { file: string; overrides: ConfigOverrides };
const verdict = validateConfig(file, overrides);
parentPort!.postMessage({ issues: verdict.issues, warnings: verdict.warnings, config: verdict.config ? toData(verdict.config) : undefined });
