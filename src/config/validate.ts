import { Ajv, type ErrorObject } from 'ajv';
import * as addFormatsModule from 'ajv-formats';
import type { TSchema } from 'typebox';
import { compileUserRegexp } from '../probes/net-regexp.ts';

// ajv-formats ships CommonJS; under NodeNext its default export is the module object.
const addFormats = (addFormatsModule as unknown as { default: (a: Ajv) => Ajv }).default;

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false, coerceTypes: false });
addFormats(ajv);
// `re2: true` on a string schema: the value is a user regexp and must compile with the engine
// that will run it (src/probes/net-regexp.ts), so a bad one is refused at load with its place.
ajv.addKeyword({
  keyword: 're2',
  type: 'string',
  schemaType: 'boolean',
  errors: true,
  validate: function re2(this: unknown, on: boolean, data: string): boolean {
    if (!on) return true;
    const c = compileUserRegexp(data);
    if (c.ok) return true;
    (re2 as unknown as { errors: unknown[] }).errors = [{ keyword: 're2', message: `invalid regexp ${JSON.stringify(data)}: ${c.error}`, params: {} }];
    return false;
  },
});
const cache = new WeakMap<object, ReturnType<Ajv['compile']>>();

export interface SchemaIssue {
  /** JSON path segments to the offending value. */
  path: (string | number)[];
  message: string;
}

/**
 * Validates `value` against `schema` in place (defaults are filled in) and returns the
 * problems in words a user understands, each with the path of the offending value.
 */
export function validate(schema: TSchema, value: unknown): SchemaIssue[] {
  let check = cache.get(schema);
  if (!check) {
    check = ajv.compile(schema as object);
    cache.set(schema, check);
  }
  if (check(value)) return [];
  return simplify(check.errors ?? []);
}

function simplify(errors: ErrorObject[]): SchemaIssue[] {
  // A failed union reports every branch; keep the most specific messages only.
  const out = new Map<string, SchemaIssue>();
  for (const e of errors) {
    // A key refused by propertyNames is reported once, by the inner error that names it.
    if (e.keyword === 'propertyNames') continue;
    const path = e.instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
    if (e.propertyName !== undefined) path.push(e.propertyName);
    let message: string;
    switch (e.keyword) {
      case 'additionalProperties':
        path.push(String(e.params.additionalProperty));
        message = `unknown field "${e.params.additionalProperty}"`;
        break;
      case 'required':
        message = `missing required field "${e.params.missingProperty}"`;
        break;
      case 'enum':
      case 'const':
        message = `must be ${JSON.stringify(e.params.allowedValues ?? e.params.allowedValue)}`;
        break;
      case 'anyOf':
        message = 'does not match any allowed form' + (e.schema && Array.isArray(e.schema) ? describeUnion(e.schema) : '');
        break;
      case 'pattern':
        message = `must match ${e.params.pattern}` + (e.parentSchema?.description ? ` (${e.parentSchema.description})` : '');
        break;
      default:
        message = e.message ?? 'is invalid';
        if (e.parentSchema?.description && e.keyword !== 'type') message += ` (${e.parentSchema.description})`;
    }
    const key = path.join('.');
    // Prefer the first concrete message over a generic union failure at the same place.
    const prev = out.get(key);
    if (!prev || prev.message.startsWith('does not match')) out.set(key, { path, message });
  }
  // A union failure whose branches reported deeper details adds nothing.
  return [...out.values()];
}

function describeUnion(branches: unknown[]): string {
  const forms = branches.map((b) => {
    const s = b as { const?: unknown; type?: string };
    return s.const !== undefined ? JSON.stringify(s.const) : s.type ?? 'object';
  });
  return `: one of ${forms.join(', ')}`;
}
