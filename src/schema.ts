import Type, { type TUnsafe } from 'typebox';

/**
 * A number or null, written as `type: [number, null]` rather than anyOf: fastify's serializer
 * then writes it directly instead of trying each branch for every value (a series answer has
 * thousands), and ajv reports one plain message for it. Options (minimum, description…) apply
 * to the number.
 */
export function NullableNumber(options: Record<string, unknown> = {}): TUnsafe<number | null> {
  return Type.Unsafe<number | null>({ ...options, type: ['number', 'null'] } as never);
}
