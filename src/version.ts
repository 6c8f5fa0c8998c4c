/** Set by the bundler (src/release/bundle.ts) to the version being built; absent when run from source. */
declare const SMOKEMESH_BUILD_VERSION: string | undefined;

/** The version of package.json, as run from a source checkout. */
export const SOURCE_VERSION = '0.1.0';

/** The smokemesh version, reported by the CLI, the API and agents (a release's own version once built). */
export const VERSION: string = typeof SMOKEMESH_BUILD_VERSION === 'string' ? SMOKEMESH_BUILD_VERSION : SOURCE_VERSION;
