import { commonParams, isYes, urlHost, type MapVars, type SmokepingProbeKind } from './kind.ts';

/** Text as a regular expression that matches exactly it (SmokePing's `expect` is plain text). */
function literal(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Curl, AnotherCurl, EchoPingHttp and EchoPingHttps → http. The smokemesh target's host is the
 * URL: Curl's `urlformat` with %host% replaced, or echoping's `url` on http(s)://host[:port].
 */
export const httpKind: SmokepingProbeKind = {
  modules: ['Curl', 'AnotherCurl', 'EchoPingHttp', 'EchoPingHttps'],
  map(v, host, module) {
    v.ignore('binary', 'forks', 'ssl2', 'extrare', 'require_zero_status');
    const params = commonParams(v);
    let url: string | undefined;
    if (module === 'Curl' || module === 'AnotherCurl') url = curl(v, host, params);
    else url = echoping(v, host, params, module === 'EchoPingHttps');
    return { type: 'http', params, ...(url !== undefined ? { host: url } : {}) };
  },
};

function curl(v: MapVars, host: string | undefined, params: Record<string, unknown>): string | undefined {
  const agent = v.get('agent');
  if (agent) params.headers = { 'User-Agent': agent.replace(/^(["'])(.*)\1$/, '$2') };
  if (isYes(v.get('insecure_ssl'))) params.tls_config = { insecure_skip_verify: true };
  params.follow_redirects = v.get('follow_redirects') === 'yes';
  if (v.get('include_redirects') === 'yes') v.note('include_redirects', 'include_redirects: smokemesh always times the redirects it follows');
  const expect = v.get('expect');
  if (expect) params.fail_if_body_not_matches_regexp = [literal(expect)];
  const extra = v.get('extraargs');
  if (extra) v.warn('extraargs', `curl arguments "${extra}" are not carried over`, 'set the matching http parameters (headers, tls_config, …) on the preset or target');
  const iface = v.get('interface');
  if (iface) v.warn('interface', `interface = ${iface} (curl --interface) has no http equivalent; the system's route is used`);
  const format = v.get('urlformat');
  if (host === undefined) return undefined;
  if (!format) {
    v.warn(undefined, `no urlformat for this Curl target; http://${host}/ is used`, 'set the URL as the target host');
    return `http://${urlHost(host)}/`;
  }
  return format.split('%host%').join(host);
}

function echoping(v: MapVars, host: string | undefined, params: Record<string, unknown>, tls: boolean): string | undefined {
  if (isYes(v.get('accept_redirects'))) params.follow_redirects = true;
  else params.follow_redirects = false;
  const ipv = v.get('ipversion');
  if (ipv === '6') params.preferred_ip_protocol = 'ip6';
  else if (ipv === '4') params.preferred_ip_protocol = 'ip4';
  for (const k of ['ignore_cache', 'revalidate_data']) {
    if (isYes(v.get(k))) v.note(k, `${k} (echoping's proxy cache options) has no equivalent; requests go straight to the server`);
  }
  const extra = v.get('extraopts');
  if (extra) v.warn('extraopts', `echoping options "${extra}" are not carried over`, 'set the matching http parameters on the preset or target');
  v.ignore('waittime', 'size', 'fill', 'priority', 'tos', 'udp', 'prot');
  const path = v.get('url') ?? '/';
  const port = v.get('port');
  if (host === undefined) return undefined;
  if (/^https?:\/\//.test(path)) {
    v.warn('url', `url = ${path} makes echoping ask ${host} as a proxy; smokemesh requests the URL directly`);
    return path;
  }
  return `${tls ? 'https' : 'http'}://${urlHost(host)}${port ? `:${port}` : ''}${path.startsWith('/') ? '' : '/'}${path}`;
}
