/** Stable error codes; a message always says where and what to do. */
export type ErrorCode =
  | 'SMOKEMESH_E_CONFIG'
  | 'SMOKEMESH_E_AUTH'
  | 'SMOKEMESH_E_PROBE'
  | 'SMOKEMESH_E_STORE'
  | 'SMOKEMESH_E_PAYLOAD'
  | 'SMOKEMESH_E_NOTIFY'
  | 'SMOKEMESH_E_USAGE';

export class SmokemeshError extends Error {
  constructor(readonly code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SmokemeshError';
  }
}

/** One problem found in a config file, located as precisely as the parser allows. */
export interface ConfigIssue {
  file: string;
  line: number;
  column: number;
  /** Field path such as targets.children.Local.children.lo4.pings */
  path: string;
  message: string;
}

export class ConfigError extends SmokemeshError {
  constructor(readonly issues: ConfigIssue[]) {
    super('SMOKEMESH_E_CONFIG', issues.map(formatIssue).join('\n'));
  }
}

export function formatIssue(i: ConfigIssue): string {
  return `${i.file}:${i.line}:${i.column}: ${i.path ? i.path + ': ' : ''}${i.message}`;
}
