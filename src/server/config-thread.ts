import { Worker } from 'node:worker_threads';
import { fromData, type ConfigData } from '../config/positions.ts';
import type { ConfigVerdict } from '../config/section.ts';
import type { ConfigIssue } from '../errors.ts';
import type { ConfigOverrides } from './config-sections.ts';

/**
 * validateConfig on a worker thread: the same verdict, while the event loop keeps
 * serving. Resolves (never rejects) when the thread answered or died.
 */
export function validateConfigOffThread(file: string, overrides: ConfigOverrides = {}): Promise<ConfigVerdict> {
  return new Promise((resolve) => {
    const worker = new Worker(new URL('./config-worker.mjs', import.meta.url), { workerData: { file, overrides } });
    let settled = false;
    const failed = (why: string) => {
      if (settled) return;
      settled = true;
      const issue: ConfigIssue = { file, line: 0, column: 0, path: '', message: `the config could not be checked: ${why}` };
      resolve({ issues: [issue], warnings: [] });
    };
    worker.once('message', (m: { issues: ConfigIssue[]; warnings: ConfigIssue[]; config?: ConfigData }) => {
      settled = true;
      const verdict: ConfigVerdict = { issues: m.issues, warnings: m.warnings };
      if (m.config) verdict.config = fromData(m.config);
      resolve(verdict);
      void worker.terminate();
    });
    worker.once('error', (e) => failed(e.message));
    worker.once('exit', (code) => failed(`its thread exited with code ${code}`));
  });
}
