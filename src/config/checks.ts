import type { ConfigIssue } from '../errors.ts';
import type { Config } from './loader.ts';

/**
 * Checks of config sections owned by other concerns (alerts, agents…), run by check-config
 * and on reload after the core schema passed. Each returns located issues.
 */
export const configChecks: ((config: Config) => ConfigIssue[])[] = [];
