/**
 * Which ICMP socket fping uses, and the command line that makes it use that one.
 *
 * - `raw`: fping's default when it may (root, or Debian's `cap_net_raw` file capability).
 *   Every raw ICMP socket of the host gets a copy of every ICMP packet the host receives, so
 *   N fping processes running at once each read and drop the others' replies: CPU grows
 *   with processes × packets.
 * - `ping`: a kernel ping socket (`SOCK_DGRAM`, `IPPROTO_ICMP`), allowed when
 *   `net.ipv4.ping_group_range` includes the process's group. The kernel hands each socket
 *   only the replies to its own echo identifier, so processes cost nothing to each other.
 *   fping opens one when it cannot open a raw socket; running it in a fresh user namespace
 *   (`unshare --user`) takes away its privilege over the host's network, whatever its file
 *   capability or user. fping 5.1 only learns the identifier the kernel gave its socket when
 *   it binds it (its issue #248), hence the `-S 0.0.0.0 -S ::` it is always given then.
 */
import { isIP } from 'node:net';
import type { ProgramNames } from './parser.ts';

export type SocketKind = 'raw' | 'ping';

/** What a user may ask for: one kind, or `auto` (ping sockets when the kernel allows them). */
export type SocketChoice = SocketKind | 'auto';

/** How one fping process is started: program, arguments before fping's own, argv[0]. */
export interface FpingCommand {
  kind: SocketKind;
  file: string;
  /** Arguments that come before fping's options (wrapper, unshare, the fping path). */
  prefix: string[];
  /** argv[0] of the spawned program when fping is run directly. */
  argv0?: string;
  /** Names that start fping's (and unshare's) own messages, e.g. `fping: …`. */
  programs: ProgramNames;
}

/**
 * The command that runs `fping` with the given socket kind. `wrap` is an argv prefix the
 * whole command runs under (`ip netns exec NS`, `ip vrf exec VRF`); `unshare` is the path
 * of util-linux's unshare, needed for `ping`.
 */
export function fpingCommand(fping: string, kind: SocketKind, unshare: string, wrap: readonly string[] = []): FpingCommand {
  const inner = kind === 'ping' ? [unshare, '--user', fping] : [fping];
  const argv = [...wrap, ...inner];
  // Run directly, fping is given argv[0] 'fping' so its messages read "fping: …"; behind a
  // wrapper or unshare its argv[0] is the path it was started by.
  const direct = argv.length === 1;
  return {
    kind,
    file: argv[0]!,
    prefix: argv.slice(1),
    ...(direct ? { argv0: 'fping' } : {}),
    programs: { fping: 'fping', [fping]: 'fping', ...(kind === 'ping' ? { unshare: 'unshare', [unshare]: 'unshare' } : {}) },
  };
}

/**
 * Options a socket kind needs. For `ping`, both sockets are bound (to the wildcard unless
 * `source` names that family) so that fping 5.1 reads back its echo identifiers.
 */
export function socketArgs(kind: SocketKind, source: string | undefined): string[] {
  const family = source === undefined ? 0 : isIP(source);
  const own = source === undefined ? [] : ['-S', source];
  if (kind === 'raw') return own;
  return [...own, ...(family === 4 ? [] : ['-S', '0.0.0.0']), ...(family === 6 ? [] : ['-S', '::'])];
}

/** Parses SMOKEMESH_FPING_SOCKET-style text; anything else is undefined. */
export function parseSocketChoice(text: string | undefined): SocketChoice | undefined {
  return text === 'auto' || text === 'raw' || text === 'ping' ? text : undefined;
}
