/**
 * Strings as PostgreSQL takes them. It refuses a NUL in text (`invalid byte sequence`) and the
 * escape `\u0000` in jsonb, and one such string fails its whole statement: a relayed round, a
 * copied alert event or a delivery error carrying a NUL (from a probe's error, a webhook's
 * answer) would then block that copy for good. Every parameter the cluster sends passes
 * through `pgSafe`: a NUL becomes U+FFFD, and so does an escaped one in JSON text (`\u0000`
 * preceded by an even number of backslashes; the same six characters in plain text too).
 */
import type pg from 'pg';

const ESCAPED_NUL = /(?<!\\)((?:\\\\)*)\\u0000/g;

/** The string with every NUL, raw or JSON-escaped, replaced by U+FFFD. */
export function pgText(s: string): string {
  if (s.includes('\u0000')) s = s.replace(/\u0000/g, '\ufffd');
  return s.includes('\\u0000') ? s.replace(ESCAPED_NUL, '$1\\ufffd') : s;
}

/** A query parameter made safe (strings, and strings inside arrays, as unnest takes them). */
export function pgSafe(v: unknown): unknown {
  if (typeof v === 'string') return pgText(v);
  if (Array.isArray(v)) return v.some((x) => typeof x === 'string' || Array.isArray(x)) ? v.map(pgSafe) : v;
  return v;
}

/** The client with every query's parameters passed through pgSafe. */
export function safeClient<C extends pg.ClientBase>(client: C): C {
  const query = (...args: unknown[]): unknown => {
    const [first, values, ...rest] = args;
    if (Array.isArray(values)) return (client.query as (...a: unknown[]) => unknown)(first, values.map(pgSafe), ...rest);
    if (first && typeof first === 'object' && Array.isArray((first as pg.QueryConfig).values)) {
      const q = first as pg.QueryConfig;
      return (client.query as (...a: unknown[]) => unknown)({ ...q, values: q.values!.map(pgSafe) }, ...args.slice(1));
    }
    return (client.query as (...a: unknown[]) => unknown)(...args);
  };
  return new Proxy(client, {
    get(target, prop, receiver) {
      if (prop === 'query') return query;
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
