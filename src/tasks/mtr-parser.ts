import Type, { type Static } from 'typebox';
import { validate } from '../config/validate.ts';
import type { MtrHop, MtrReport } from './outputs.ts';

/**
 * Reads the JSON report of mtr 0.95 (`mtr --json -n`, ui/report.c): `report.mtr` (source host,
 * destination, cycles) and `report.hubs[]`, one per hop: `count` (1-based hop number), `host`
 * (an address, or "???" when nothing answered), `Loss%`, `Snt`, `Last/Avg/Best/Wrst/StDev` in
 * ms, and `ASN` with `-z`. The report names one address per hop (the last that answered), so
 * ECMP and a path change within a run do not show in it; traceroute's text lists them all.
 */

const Num = Type.Number();
const RawHubSchema = Type.Object({
  count: Type.Integer({ minimum: 1 }),
  host: Type.String(),
  'Loss%': Num, Snt: Type.Integer({ minimum: 0 }),
  Last: Num, Avg: Num, Best: Num, Wrst: Num, StDev: Num,
  ASN: Type.Optional(Type.String()),
});
const RawReportSchema = Type.Object({
  report: Type.Object({
    mtr: Type.Object({ src: Type.String(), dst: Type.String(), tests: Type.Integer() }),
    hubs: Type.Array(RawHubSchema, { maxItems: 255 }),
  }),
});
type RawReport = Static<typeof RawReportSchema>;


/** Parses mtr's JSON report; throws an Error naming the field at fault when it is not one. */
export function parseMtrJson(text: string): MtrReport {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`mtr output is not JSON: ${(e as Error).message}`);
  }
  const issues = validate(RawReportSchema, raw);
  if (issues.length) throw new Error(`mtr JSON report: ${issues[0]!.path.join('.') || 'report'}: ${issues[0]!.message}`);
  const r = (raw as RawReport).report;
  const hops = r.hubs.map((h): MtrHop => {
    const answered = h.host !== '???';
    const ms = (v: number) => (answered ? v : null);
    const hop: MtrHop = {
      hop: h.count, host: answered ? h.host : null, loss_pct: h['Loss%'], sent: h.Snt,
      last: ms(h.Last), avg: ms(h.Avg), best: ms(h.Best), worst: ms(h.Wrst), stdev: ms(h.StDev),
    };
    if (h.ASN !== undefined && h.ASN !== '' && h.ASN !== 'AS???') hop.asn = h.ASN;
    return hop;
  });
  return { destination: r.mtr.dst, cycles: r.mtr.tests, hops };
}
