import { getJson, sendJson } from '../api.ts';
import type { TaskRecord, TaskRequest, TaskSummary } from '../../../src/tasks/record.ts';
import type { AttemptsOutput, DnsTaskOutput, HttpTaskOutput, MtrReport, TracerouteReport } from '../../../src/tasks/outputs.ts';

export type { TaskRecord, TaskRequest, TaskSummary, MtrReport, TracerouteReport, AttemptsOutput, DnsTaskOutput, HttpTaskOutput };

/** A parameter's JSON schema, as GET /api/v1/tasks/kinds gives it (the form builds its inputs from it). */
export interface ParamSchema {
  type?: string;
  enum?: string[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  description?: string;
}
export interface TaskKindInfo {
  kind: string;
  summary: string;
  params: { properties: Record<string, ParamSchema>; required?: string[] };
}
export interface KindsReply {
  enabled: boolean;
  policy: { targets: boolean; networks: string[]; names: string[] };
  kinds: TaskKindInfo[];
}

/** The task API (/api/v1/tasks…). */
export const taskApi = {
  kinds: () => getJson<KindsReply>('v1/tasks/kinds'),
  list: (params: { target?: string; origin?: string; limit?: number } = {}) => getJson<{ tasks: TaskSummary[] }>('v1/tasks', params),
  get: (id: string, version?: number, wait?: number, signal?: AbortSignal) => getJson<TaskRecord>(`v1/tasks/${encodeURIComponent(id)}`, { version, wait }, signal),
  start: (req: TaskRequest, token?: string) => sendJson<TaskRecord>('POST', 'v1/tasks', req, token),
};
