import Type, { type Static, type TSchema } from 'typebox';

/**
 * One interface for every diagnostic task (mtr, traceroute, ping, dns, http, tcp), one file per
 * kind beside its parameter schema, and a registry (./index.ts), as src/probes/ does for probes.
 * A kind runs a fixed program with an argument array or our own probe code; never a shell.
 */

/** The task kinds; each has one file in src/tasks/. */
export const TASK_KINDS = ['mtr', 'traceroute', 'ping', 'dns', 'http', 'tcp'] as const;
export type TaskKindName = (typeof TASK_KINDS)[number];

/**
 * A host name or address literal as a task parameter. No leading "-" (it could pass for an
 * option of the program), no whitespace, no shell or URL syntax: only what a host can be.
 */
export const HostParam = Type.String({
  minLength: 1,
  maxLength: 253,
  pattern: '^(\\[[0-9A-Fa-f:.]+\\]|[0-9A-Za-z_:][-0-9A-Za-z_.:]*)$',
  description: 'host name, IPv4 or IPv6 address (what the task policy judges)',
});

/** ip_version of the tracing tools: `auto` lets the system's address choice decide. */
export const IpVersionParam = Type.Enum(['auto', '4', '6'], { default: 'auto', description: 'address family (-4 / -6)' });

/** What one run of a task gave: the kind's own output, or why it could not run. */
export type TaskOutcome = { ok: true; output: unknown } | { ok: false; error: string; output?: unknown };

/** Limits the runner puts on every task, whatever its kind. */
export interface RunLimits {
  /** Largest output a program may print (bytes); past it the program is killed. */
  maxOutputBytes: number;
}

export interface TaskKind<P = Record<string, unknown>> {
  readonly kind: TaskKindName;
  /** One line for the API and the UI. */
  readonly summary: string;
  /** JSON schema of the parameters, with defaults and ranges; values out of range are refused. */
  readonly paramsSchema: TSchema;
  /** The host the task contacts (what the task policy judges); for http, the URL's host. */
  target(params: P): string;
  /** Longest a run may take in ms; the runner aborts it then. */
  timeoutMs(params: P): number;
  /** Runs the task once; never throws (a failure is `{ ok: false, error }`); returns promptly on abort. */
  run(params: P, signal: AbortSignal, limits: RunLimits): Promise<TaskOutcome>;
}

/** A task as the server hands it to one agent (the agent API's task long-poll). */
export const TaskAssignmentSchema = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64 }),
  kind: Type.Enum(TASK_KINDS),
  params: Type.Record(Type.String(), Type.Unknown()),
  /** ms the agent lets the task run before aborting it. */
  timeout_ms: Type.Integer({ minimum: 1 }),
  max_output_bytes: Type.Integer({ minimum: 1024 }),
});
export type TaskAssignment = Static<typeof TaskAssignmentSchema>;

/** What an agent reports for one task it ran. */
export const TaskReportSchema = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64 }),
  ok: Type.Boolean(),
  started: Type.Integer({ minimum: 0 }),
  finished: Type.Integer({ minimum: 0 }),
  output: Type.Optional(Type.Unknown()),
  error: Type.Optional(Type.String({ maxLength: 4096 })),
});
export type TaskReport = Static<typeof TaskReportSchema>;
