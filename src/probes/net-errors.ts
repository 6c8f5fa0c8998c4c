/** Socket, resolver and TLS error codes in the words blackbox_exporter's users know. */
const REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by peer',
  EHOSTUNREACH: 'no route to host',
  ENETUNREACH: 'network is unreachable',
  EADDRNOTAVAIL: 'address not available',
  EPIPE: 'connection closed by peer (broken pipe)',
  ETIMEDOUT: 'connection timed out',
  EPROTO: 'protocol error',
  ENOTFOUND: 'no such host',
  EAI_AGAIN: 'temporary failure in name resolution',
  ENODATA: 'no address of the requested family',
  EAI_NODATA: 'no address of the requested family',
  CERT_HAS_EXPIRED: 'certificate expired',
  CERT_NOT_YET_VALID: 'certificate is not yet valid',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'certificate is self-signed and not trusted',
  SELF_SIGNED_CERT_IN_CHAIN: 'certificate chain ends in an untrusted self-signed root',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'certificate signed by unknown authority',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'certificate signed by unknown authority',
  CERT_REVOKED: 'certificate revoked',
  ERR_TLS_CERT_ALTNAME_INVALID: 'certificate is not valid for this host name',
  ERR_SSL_WRONG_VERSION_NUMBER: 'TLS handshake failed: server did not answer with TLS',
  ECONNABORTED: 'connection aborted',
};

/**
 * A one-line, human reason for a network error: a known code becomes plain words
 * (e.g. "connection refused"), anything else keeps its own message. `what` names the
 * step that failed, e.g. "connect to 127.0.0.1:80".
 */
export function describeError(err: unknown, what?: string): string {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : undefined;
  let reason = code !== undefined ? REASONS[code] : undefined;
  if (reason === undefined && code?.startsWith('HPE_')) reason = `invalid HTTP response (${code})`;
  if (reason === undefined && code === 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA') reason = 'server rejected our client certificate (unknown CA)';
  if (reason === undefined && code?.startsWith('ERR_SSL_')) reason = `TLS handshake failed (${code})`;
  if (reason === undefined) reason = typeof e?.message === 'string' && e.message ? e.message : String(err);
  return what ? `${what}: ${reason}` : reason;
}
