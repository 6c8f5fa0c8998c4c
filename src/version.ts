/** The smokemesh version, reported by the CLI, the API and agents. */
export const VERSION = '0.1.0';
