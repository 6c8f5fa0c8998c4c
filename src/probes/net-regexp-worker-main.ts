/**
 * The regexp worker's side (see net-regexp-worker.ts): a registry of pure checks, each
 * plain data in, plain data out. Rules are compiled here too; the compile cache of
 * net-regexp.ts makes that once per pattern.
 */
import { parentPort } from 'node:worker_threads';
import { checkAnswerRrs, compileAnswerRules, type AnswerRuleParams } from './dns-checks.ts';
import { checkResponse, compileRules, type FinalResponse, type RuleParams } from './http-checks.ts';

const CHECKS = {
  /** HTTP: the reason the final response fails its module's rules, or undefined. */
  httpResponse: (x: { res: FinalResponse; rules: RuleParams }): string | undefined => checkResponse(x.res, compileRules(x.rules)),
  /** DNS: the reason the answer RRs fail validate_answer_rrs, or undefined. */
  dnsAnswers: (x: { rrs: string[]; rules: AnswerRuleParams }): string | undefined => checkAnswerRrs(x.rrs, compileAnswerRules(x.rules)),
};

/** The checks the worker runs, by name. */
export type Checks = typeof CHECKS;

parentPort?.on('message', (m: { id: number; name: keyof Checks; input: never }) => {
  try {
    parentPort!.postMessage({ id: m.id, ok: true, value: CHECKS[m.name](m.input) });
  } catch (e) {
    parentPort!.postMessage({ id: m.id, ok: false, error: e instanceof Error ? e.message : String(e) });
  }
});
parentPort?.postMessage({ ready: true });
