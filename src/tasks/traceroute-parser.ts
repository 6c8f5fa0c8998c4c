import { isIP } from 'node:net';
import type { TracerouteHop, TracerouteProbe, TracerouteReport } from './outputs.ts';

/**
 * Reads the text of traceroute 2.1.2 with `-n`: a header line (`traceroute to H (A), N hops
 * max, …`), then per hop `<ttl>  <addr>  <rtt> ms …` with `*` for a probe that got no answer.
 * One line may name several addresses (ECMP, or a path change during the run): each RTT belongs
 * to the address written before it. `!H`, `!N`, `!X`, `!<n>`… after an RTT are ICMP
 * unreachable answers and are kept as that probe's note.
 */


const HEADER = /^traceroute6? to (\S+) \(([^)]+)\), (\d+) hops max/;
const HOP = /^\s*(\d+)\s+(.*)$/;

/** Parses traceroute's output; throws an Error naming the line when it is not traceroute's. */
export function parseTraceroute(text: string): TracerouteReport {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const head = HEADER.exec(lines[0] ?? '');
  if (!head) throw new Error(`traceroute output: line 1 is not a "traceroute to HOST (ADDRESS), N hops max" header: ${JSON.stringify((lines[0] ?? '').slice(0, 120))}`);
  const report: TracerouteReport = { destination: head[1]!, address: head[2]!, max_hops: Number(head[3]), hops: [] };
  lines.slice(1).forEach((line, i) => {
    const m = HOP.exec(line);
    if (!m) throw new Error(`traceroute output: line ${i + 2} is not a hop line: ${JSON.stringify(line.slice(0, 120))}`);
    report.hops.push(parseHop(Number(m[1]), m[2]!, i + 2));
  });
  return report;
}

function parseHop(hop: number, rest: string, lineNo: number): TracerouteHop {
  const probes: TracerouteProbe[] = [];
  const addresses: string[] = [];
  let current: string | undefined;
  const tokens = rest.trim().split(/\s+/);
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i]!;
    if (tok === '*') {
      probes.push(null);
    } else if (isIP(tok)) {
      current = tok;
      if (!addresses.includes(tok)) addresses.push(tok);
    } else if (/^\d+(\.\d+)?$/.test(tok) && tokens[i + 1] === 'ms') {
      if (current === undefined) throw new Error(`traceroute output: line ${lineNo}: an RTT before any address`);
      probes.push({ address: current, rtt_ms: Number(tok) });
      i++;
    } else if (/^!\S*$/.test(tok) && probes.length && probes[probes.length - 1]) {
      probes[probes.length - 1]!.note = tok;
    } else {
      throw new Error(`traceroute output: line ${lineNo}: unexpected ${JSON.stringify(tok.slice(0, 60))} (run with -n: names are not parsed)`);
    }
  }
  return { hop, probes, addresses };
}
