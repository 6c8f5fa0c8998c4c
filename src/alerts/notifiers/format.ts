/**
 * The one human rendering of an alert event that every chat channel sends: a title line and
 * a list of facts (target, agent, alert, loss and rtt history, time, link), written out as
 * plain text or in one of the markup dialects the chat vendors accept.
 */
import type { AlertEvent } from './notifier.ts';

/** Markup dialects: Slack mrkdwn, the Markdown subset of DingTalk/WeCom/Feishu, Telegram HTML. */
export type Dialect = 'text' | 'slack' | 'markdown' | 'telegram-html';

export interface Fact {
  label: string;
  value: string;
  /** A link: markup dialects show `value` as a hyperlink to it, plain text shows the URL. */
  href?: string;
  /** Render the value as code (patterns, hosts). */
  code?: boolean;
}

const STATE_WORD: Record<AlertEvent['state'], string> = { raised: 'RAISED', cleared: 'CLEARED', firing: 'FIRING', updated: 'UPDATED' };

/**
 * `[RAISED] someloss: /Net/Router from agent-a` — short enough for a subject or a push title.
 * A localization cause: `[RAISED] cdn: destination idc=bj-1 (confirmed)`; a quorum alert names no agent.
 */
export function formatTitle(e: AlertEvent): string {
  if (e.cause) return `[${STATE_WORD[e.state]}] ${e.target.dotted}`;
  return `[${STATE_WORD[e.state]}] ${e.alert.name}: ${e.target.path}${e.quorum ? '' : ` from ${e.agent}`}`;
}

/** The evidence of a localization cause as facts (docs/localize.md explains each). */
function causeFacts(e: AlertEvent): Fact[] {
  const c = e.cause!;
  const facts: Fact[] = [
    { label: 'Cause', value: `${c.title} (${c.kind}, ${c.confidence})` },
    { label: 'Scope', value: c.scope },
    { label: 'Rule', value: c.rule },
    { label: 'Series bad', value: `${c.series.bad} of ${c.series.total}` },
  ];
  if (c.items) facts.push({ label: 'Items bad', value: `${c.items.bad} of ${c.items.total}` });
  if (c.cells_count) facts.push({ label: 'Cells bad', value: `${c.cells_count.bad} of ${c.cells_count.total}` });
  if (c.networks) facts.push({ label: 'Seen bad by', value: `${c.networks.seeing.join(', ')} (${c.networks.seeing.length} of ${c.networks.total})` });
  if (c.agents.length) facts.push({ label: 'Agents', value: c.agents.join(', ') });
  facts.push({ label: 'First bad round', value: formatTime(c.first_bad) });
  if (c.loss_pct !== null) facts.push({ label: 'Loss', value: `${Math.round(c.loss_pct)}%` });
  if (c.median !== null) facts.push({ label: 'Median', value: `${Math.round(c.median)} ms` });
  if (c.bad_cells.length) {
    const shown = c.bad_cells.slice(0, 5).map((x) => `${x.vantage} → ${x.destination} ${x.bad}/${x.total}`).join('; ');
    facts.push({ label: 'Bad cells', value: shown + (c.bad_cells.length > 5 ? `; … ${c.bad_cells.length - 5} more` : '') });
  }
  for (const [k, m] of Object.entries(c.affected)) facts.push({ label: `Affected ${k}`, value: Object.entries(m).map(([v, n]) => `${v} (${n})`).join(', ') });
  facts.push({ label: 'Time', value: formatTime(e.time) });
  if (e.url) facts.push({ label: 'Link', value: 'open in smokemesh', href: e.url });
  return facts;
}

/** The facts of an event, in display order; optional ones are left out when empty. */
export function formatFacts(e: AlertEvent): Fact[] {
  if (e.cause) return causeFacts(e);
  const facts: Fact[] = [];
  const title = e.target.title && e.target.title !== e.target.path.split('/').pop() ? ` (${e.target.title})` : '';
  facts.push({ label: 'Target', value: `${e.target.path}${title}` });
  if (e.target.host) facts.push({ label: 'Host', value: e.target.host, code: true });
  facts.push(e.quorum ? { label: 'Agents', value: `${e.quorum.matching.join(', ') || 'none'} (need ${e.quorum.need})` } : { label: 'Agent', value: e.agent });
  facts.push({ label: 'Alert', value: `${e.alert.name} (${e.alert.type}${e.alert.edgetrigger ? ', edge-triggered' : ''})` });
  // Patterns hold `*` and `_`, which Markdown would read as emphasis: show them as code.
  if (e.alert.pattern) facts.push({ label: 'Pattern', value: e.alert.pattern, code: true });
  if (e.alert.comment) facts.push({ label: 'Comment', value: e.alert.comment });
  if (e.alert.priority !== undefined) facts.push({ label: 'Priority', value: String(e.alert.priority) });
  facts.push({ label: 'Loss', value: history(e.loss) });
  facts.push({ label: 'RTT', value: history(e.rtt) });
  facts.push({ label: 'Time', value: formatTime(e.time) });
  if (e.trace) {
    facts.push({ label: 'Trace', value: e.trace.summary });
    if (e.trace.changes.length) facts.push({ label: 'Changed', value: e.trace.changes.join('; ') });
    if (e.trace.url) facts.push({ label: 'Trace link', value: 'hop table in smokemesh', href: e.trace.url });
  }
  if (e.url) facts.push({ label: 'Link', value: 'open in smokemesh', href: e.url });
  return facts;
}

/** The whole message (title, then one fact per line) in the given dialect. */
export function formatMessage(e: AlertEvent, dialect: Dialect): string {
  const title = formatTitle(e);
  const lines = formatFacts(e).map((f) => formatFact(f, dialect));
  switch (dialect) {
    case 'text':
      return [title, ...lines].join('\n');
    case 'slack':
      return [`*${escapeSlack(title)}*`, ...lines].join('\n');
    case 'markdown':
      // Two trailing spaces would be eaten by some clients; a blank line between facts is what
      // DingTalk and WeCom render reliably as separate lines.
      return [`### ${title}`, ...lines].join('\n\n');
    case 'telegram-html':
      return [`<b>${escapeHtml(title)}</b>`, ...lines].join('\n');
  }
}

/** One fact line in the given dialect. */
export function formatFact(f: Fact, dialect: Dialect): string {
  switch (dialect) {
    case 'text':
      return `${f.label}: ${f.href ?? f.value}`;
    case 'slack': {
      const v = f.href ? `<${f.href}|${escapeSlack(f.value)}>` : f.code ? `\`${escapeSlack(f.value)}\`` : escapeSlack(f.value);
      return `*${f.label}:* ${v}`;
    }
    case 'markdown': {
      const v = f.href ? `[${f.value}](${f.href})` : f.code ? `\`${f.value}\`` : f.value;
      return `**${f.label}:** ${v}`;
    }
    case 'telegram-html': {
      const v = f.href ? `<a href="${escapeHtml(f.href)}">${escapeHtml(f.value)}</a>`
        : f.code ? `<code>${escapeHtml(f.value)}</code>` : escapeHtml(f.value);
      return `<b>${f.label}:</b> ${v}`;
    }
  }
}

/** `0%, 5%, 100%` oldest → newest, as SmokePing writes it; `-` when there is none. */
function history(values: string[]): string {
  return values.length ? values.join(', ') : '-';
}

/** Local time of the server with its UTC offset, e.g. `2026-11-23 09:23:10 +08:00`. */
export function formatTime(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} `
    + `${sign}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
}

/** Slack's three control characters (https://api.slack.com/reference/surfaces/formatting#escaping). */
export function escapeSlack(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Telegram's HTML parse mode needs &, <, > (and " inside attributes) escaped. */
export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Cuts `s` to at most `max` characters (code points), marking the cut with an ellipsis. */
export function truncate(s: string, max: number): string {
  const chars = [...s];
  return chars.length <= max ? s : chars.slice(0, max - 1).join('') + '…';
}

/** Cuts `s` so that its UTF-8 encoding fits `maxBytes`, never inside a character. */
export function truncateBytes(s: string, maxBytes: number): string {
  if (Buffer.byteLength(s, 'utf8') <= maxBytes) return s;
  let out = '';
  let used = 3; // the ellipsis
  for (const ch of s) {
    const n = Buffer.byteLength(ch, 'utf8');
    if (used + n > maxBytes) break;
    out += ch;
    used += n;
  }
  return out + '…';
}
