/**
 * A module loaded at its first use, once: `const ec2 = lazyModule(() => import('@aws-sdk/client-ec2'))`,
 * then `(await ec2()).EC2Client`. For big packages that only some configs use (the AWS SDK,
 * nodemailer, undici): the build splits a dynamic import into its own chunk, so a server or
 * agent that never uses them never parses or keeps them (bench/server-memory.ts).
 */
export function lazyModule<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () => {
    loading ??= load().then(namedExports);
    // A failed load is tried again at the next use.
    loading.catch(() => { loading = undefined; });
    return loading;
  };
}

/**
 * The module's exports by name. Node gives a CommonJS package's exports by name as well as
 * `default`; the built bundle (esbuild) gives only `default` (its `module.exports`).
 */
function namedExports<T>(ns: T): T {
  const keys = Object.keys(ns as object);
  return keys.length === 1 && keys[0] === 'default' ? (ns as { default: T }).default : ns;
}
