import Type, { type Static } from 'typebox';

/**
 * The `presentation:` section (SmokePing's `*** Presentation ***`): what the web UI shows by
 * default. Every viewer can still pick another time zone in the UI.
 */

/** A time span as SmokePing writes it: a number and a unit (m, h, d, w, y), e.g. 30h or 360d. */
const SPAN = '^[1-9][0-9]{0,5}[mhdwy]$';
const SPAN_HELP = 'a time span: a number and m, h, d, w or y (e.g. 3h, 30h, 10d, 360d)';

export const PresentationSchema = Type.Object({
  time_zone: Type.Enum(['browser', 'server', 'UTC'], {
    default: 'browser',
    description: "times shown in each viewer's browser zone, the server's zone, or UTC (a viewer can switch)",
  }),
  overview: Type.Object({
    range: Type.String({ pattern: SPAN, default: '10h', description: `range of the small graphs: ${SPAN_HELP}` }),
  }, { additionalProperties: false, default: {} }),
  detail: Type.Object({
    ranges: Type.Record(Type.String(), Type.Union([Type.String(), Type.Null()]), {
      propertyNames: { pattern: SPAN, description: SPAN_HELP },
      minProperties: 1,
      maxProperties: 8,
      default: { '3h': null, '30h': null, '10d': null, '360d': null },
      description: 'the graphs of the detail page, top to bottom: span → title (empty: "Last <span>" in the viewer\'s language)',
    }),
  }, { additionalProperties: false, default: {} }),
  charts: Type.Object({
    count: Type.Integer({ minimum: 1, maximum: 50, default: 8, description: 'small graphs per sorter on the Charts page' }),
  }, { additionalProperties: false, default: {} }),
}, { additionalProperties: false, default: {} });

export type PresentationConfig = Static<typeof PresentationSchema>;

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000, y: 365 * 86_400_000 };

/** Milliseconds of a span the schema accepted ("30h" → 108 000 000). */
export function spanMs(span: string): number {
  return Number(span.slice(0, -1)) * UNIT_MS[span.slice(-1)]!;
}
