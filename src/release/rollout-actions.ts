/**
 * Which admin action a rollout in a given state takes: the one rule the server's rolloutAction
 * enforces and the agents page offers buttons by. No imports: the web bundle uses it as it is.
 */
export type RolloutAction = 'pause' | 'resume' | 'abort' | 'rollback';

const ALLOWED: Record<RolloutAction, readonly string[]> = {
  pause: ['running'],
  resume: ['paused'],
  abort: ['running', 'paused'],
  rollback: ['running', 'paused', 'done', 'aborted'],
};

/** The actions that make sense for a rollout in `state`, in the order a page shows them. */
export function rolloutActionsFor(state: string): RolloutAction[] {
  return (Object.keys(ALLOWED) as RolloutAction[]).filter((a) => ALLOWED[a].includes(state));
}
