import Type, { type Static } from 'typebox';

/** Largest `tasks.max_output_bytes` (the agent API's task-results route takes one such output). */
export const MAX_TASK_OUTPUT_BYTES = 16 * 1024 * 1024;

/**
 * The `tasks:` section: on-demand diagnostics (mtr, traceroute, ping, dns, http, tcp) run by
 * agents for an admin, and the traces alerts ask for. The policy says which hosts tasks may
 * be sent to; by default only the targets of the config and their addresses.
 */
export const TasksSectionSchema = Type.Object({
  enabled: Type.Boolean({ default: true, description: 'false: no task is accepted (alert traces included)' }),
  allow: Type.Object({
    targets: Type.Boolean({ default: true, description: 'the hosts of the configured targets and the addresses they resolve to' }),
    networks: Type.Array(Type.String({ minLength: 1 }), { default: [], description: 'more addresses: CIDR blocks or single addresses, IPv4 or IPv6' }),
    names: Type.Array(Type.String({ minLength: 1, pattern: '^(\\*\\.)?[-0-9A-Za-z_.]+$' }), { default: [], description: 'more host names: exact, or "*.example.net" for any name under it' }),
  }, { additionalProperties: false, default: {} }),
  per_agent: Type.Object({
    concurrency: Type.Integer({ minimum: 1, maximum: 32, default: 2, description: 'tasks running at once on one agent; more wait in its queue' }),
    per_minute: Type.Integer({ minimum: 1, maximum: 600, default: 30, description: 'tasks one agent is given per minute; more are refused' }),
    queue: Type.Integer({ minimum: 0, maximum: 1000, default: 20, description: 'tasks waiting for one agent; more are refused' }),
  }, { additionalProperties: false, default: {} }),
  pickup_s: Type.Integer({ minimum: 1, maximum: 3600, default: 30, description: 'a live agent that does not fetch a queued task within this time gets it marked timed out' }),
  max_output_bytes: Type.Integer({ minimum: 4096, maximum: MAX_TASK_OUTPUT_BYTES, default: 1048576, description: 'largest output of one task on one agent' }),
  retention_days: Type.Number({ exclusiveMinimum: 0, default: 30, description: 'days tasks and their results are kept' }),
  auto_trace: Type.Object({
    min_interval_s: Type.Integer({ minimum: 1, default: 600, description: 'at most one trace per series (target × agent) in this time' }),
    count: Type.Integer({ minimum: 1, maximum: 100, default: 10, description: 'mtr probes per hop' }),
    interval: Type.Number({ minimum: 0.1, maximum: 10, default: 1, description: 'seconds between mtr probes (below 1 needs root on the agent)' }),
    grace: Type.Number({ minimum: 0.1, maximum: 30, default: 5, description: 'seconds mtr waits for late answers' }),
    max_wait_s: Type.Integer({ minimum: 1, maximum: 3600, default: 120, description: 'longest a notification waits for its trace' }),
  }, { additionalProperties: false, default: {} }),
}, { additionalProperties: false, default: {} });

export type TasksConfig = Static<typeof TasksSectionSchema>;
