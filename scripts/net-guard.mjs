// Counts new outbound flows on the default-route interfaces while the tests run (root + nftables
// only). Tests may talk only to loopback and to network namespaces they create, so the count
// should stay 0; anything else is reported with the kernel log prefix to look for. It counts and
// logs, it never drops: a background flow of the machine's own must not break a test run.
import { spawnSync } from 'node:child_process';

const TABLE = 'smokemesh_net_guard';
const run = (args, input) => spawnSync(args[0], args.slice(1), { encoding: 'utf8', input });

/** Starts counting; returns a function that stops and returns the count, or undefined when unavailable. */
export function startNetGuard() {
  if (process.getuid?.() !== 0 || process.env.SMOKEMESH_NET_GUARD === '0') return undefined;
  const routes = run(['ip', '-j', 'route', 'show', 'default']);
  if (routes.status !== 0) return undefined;
  const devs = [...new Set(JSON.parse(routes.stdout || '[]').map((r) => r.dev).filter(Boolean))];
  if (devs.length === 0) return undefined;
  run(['nft', 'delete', 'table', 'inet', TABLE]);
  const rules = `table inet ${TABLE} {\n chain out {\n  type filter hook output priority 0; policy accept;\n`
    + `  oifname { ${devs.map((d) => `"${d}"`).join(', ')} } ct state new counter log prefix "smokemesh-net-guard: "\n }\n}\n`;
  if (run(['nft', '-f', '-'], rules).status !== 0) return undefined;
  const stop = () => {
    const out = run(['nft', 'list', 'table', 'inet', TABLE]).stdout ?? '';
    run(['nft', 'delete', 'table', 'inet', TABLE]);
    const m = /counter packets (\d+)/.exec(out);
    return { flows: m ? Number(m[1]) : 0, devs };
  };
  for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => { stop(); process.exit(1); });
  return stop;
}
