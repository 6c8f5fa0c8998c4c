/**
 * `email`: SMTP through nodemailer (implicit TLS or STARTTLS, auth), the message rendered
 * from SmokePing's mail template: a file whose first line is `Subject: …`, header lines up
 * to the first empty line, then the body; placeholders <##ALERT##> <##WHAT##> <##LINE##>
 * <##URL##> <##STAMP##> <##PAT##> <##LOSS##> <##RTT##> <##COMMENT##>.
 * Recipients: the block's own `to` plus the addresses the alert resolved to.
 */
import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import type { Transporter } from 'nodemailer';
import Type, { type Static } from 'typebox';
import { SmokemeshError } from '../../errors.ts';
import { lazyModule } from '../../lazy-module.ts';

/** nodemailer, loaded at the first mail (servers without an email notifier never load it). */
const nodemailer = lazyModule(() => import('nodemailer'));
import type { AlertEvent, Notifier, NotifierKind } from './notifier.ts';

export const EmailConfigSchema = Type.Object({
  host: Type.String({ minLength: 1, default: 'localhost', description: 'SMTP server' }),
  port: Type.Integer({ minimum: 1, maximum: 65535, default: 25 }),
  secure: Type.Boolean({ default: false, description: 'TLS from the start (port 465); otherwise STARTTLS when offered' }),
  require_tls: Type.Boolean({ default: false, description: 'fail unless STARTTLS succeeds' }),
  tls_reject_unauthorized: Type.Boolean({ default: true }),
  ca_file: Type.Optional(Type.String({ minLength: 1, description: 'PEM file of the CA that signed the server certificate' })),
  user: Type.Optional(Type.String({ minLength: 1 })),
  password: Type.Optional(Type.String()),
  password_file: Type.Optional(Type.String({ minLength: 1 })),
  from: Type.Optional(Type.String({ minLength: 1, description: 'sender; default: alerts.from' })),
  to: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'always mailed, besides the alert recipients' })),
}, { additionalProperties: false });
export type EmailConfig = Static<typeof EmailConfigSchema>;

/** SmokePing's default mail, used when no mailtemplate is set. */
export const DEFAULT_TEMPLATE = `Subject: [SmokeAlert] <##ALERT##> <##WHAT##> on <##LINE##>

<##STAMP##>

Alert "<##ALERT##>" <##WHAT##> for <##URL##>

Pattern
-------
<##PAT##>

Data (old --> now)
------------------
<##LOSS##>
<##RTT##>

Comment
-------
<##COMMENT##>

`;

const WHAT: Record<AlertEvent['state'], string> = { raised: 'was raised', cleared: 'was cleared', firing: 'is active', updated: 'was updated' };
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Perl's `scalar localtime`: `Thu Sep  9 12:00:00 2021`. */
export function perlLocaltime(ms: number): string {
  const d = new Date(ms);
  const p2 = (n: number) => String(n).padStart(2, '0');
  return `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())} ${d.getFullYear()}`;
}

/** Fills SmokePing's placeholders of a template with the event. */
export function fillTemplate(template: string, e: AlertEvent): string {
  const values: Record<string, string> = {
    ALERT: e.alert.name,
    WHAT: WHAT[e.state],
    LINE: e.target.dotted,
    URL: e.url ?? '',
    STAMP: perlLocaltime(e.time),
    PAT: e.alert.pattern ?? '',
    LOSS: `loss: ${e.loss.join(', ')}`,
    RTT: `rtt: ${e.rtt.join(', ')}`,
    COMMENT: e.alert.comment,
  };
  return template.replace(/<##([A-Z]+)##>/g, (all, key: string) => values[key] ?? all);
}

/** Splits a filled template into its headers (Subject first) and body. */
export function splitMail(text: string): { subject: string; headers: Record<string, string>; body: string } {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  const headers: Record<string, string> = {};
  let subject = '';
  let i = 0;
  for (; i < lines.length && lines[i] !== ''; i++) {
    const h = /^([A-Za-z][-A-Za-z0-9]*):\s?(.*)$/.exec(lines[i]!);
    if (!h) break;
    if (h[1]!.toLowerCase() === 'subject') subject = h[2]!;
    else headers[h[1]!] = h[2]!;
  }
  if (lines[i] === '') i++;
  return { subject, headers, body: lines.slice(i).join('\n') };
}

export const emailKind: NotifierKind<EmailConfig> = {
  kind: 'email',
  configSchema: EmailConfigSchema,
  create(name, c): Notifier {
    const password = c.password_file ? readFileSync(c.password_file, 'utf8').trim() : c.password;
    const options = {
      host: c.host,
      port: c.port,
      secure: c.secure,
      requireTLS: c.require_tls,
      tls: { rejectUnauthorized: c.tls_reject_unauthorized, ...(c.ca_file ? { ca: readFileSync(c.ca_file) } : {}) },
      ...(c.user ? { auth: { user: c.user, pass: password ?? '' } } : {}),
      connectionTimeout: 10000,
      greetingTimeout: 10000,
      socketTimeout: 20000,
    };
    let transport: Transporter | undefined;
    return {
      name,
      kind: 'email',
      async send(event, signal) {
        const to = [...new Set([...(c.to ?? []), ...event.recipients.filter((r) => r.includes('@')).map((r) => r.replace(/^mailto:/, ''))])];
        if (to.length === 0) throw new SmokemeshError('SMOKEMESH_E_NOTIFY', `email notifier "${name}": no recipients`);
        if (!c.from) throw new SmokemeshError('SMOKEMESH_E_NOTIFY', `email notifier "${name}": no sender; set from: here or alerts.from`);
        let template = DEFAULT_TEMPLATE;
        if (event.alert.mailtemplate) {
          try {
            template = await readFile(event.alert.mailtemplate, 'utf8');
          } catch {
            // SmokePing's own fallback when the template cannot be read.
            template = `Subject: smokemesh failed to open mailtemplate '${event.alert.mailtemplate}'\n\nsee subject\n`;
          }
        }
        const mail = splitMail(fillTemplate(template, event));
        signal.throwIfAborted();
        transport ??= (await nodemailer()).createTransport(options);
        const sending = transport.sendMail({ from: c.from, to, subject: mail.subject, text: mail.body, headers: mail.headers, date: new Date(event.time) });
        // nodemailer takes no AbortSignal: give up waiting (the transport times out on its own).
        await new Promise<void>((resolvePromise, reject) => {
          const onAbort = () => reject(new SmokemeshError('SMOKEMESH_E_NOTIFY', `email notifier "${name}": ${String(signal.reason ?? 'aborted')}`));
          signal.addEventListener('abort', onAbort, { once: true });
          sending.then(() => resolvePromise(), (err: Error) => reject(smtpError(name, `${c.host}:${c.port}`, err)))
            .finally(() => signal.removeEventListener('abort', onAbort));
        });
      },
    };
  },
};

/**
 * A failed SMTP delivery in safe words: nodemailer's code (EAUTH, EENVELOPE, ECONNECTION…) and
 * the SMTP reply code, with the server; the server's reply text goes to `detail` (debug log).
 */
function smtpError(name: string, where: string, err: Error): SmokemeshError {
  const e = err as Error & { code?: string; responseCode?: number };
  const parts = [e.code, e.responseCode !== undefined ? `SMTP ${e.responseCode}` : undefined].filter(Boolean);
  return new SmokemeshError('SMOKEMESH_E_NOTIFY', `email notifier "${name}": ${parts.length ? parts.join(' ') : 'sending failed'} from ${where}`, { cause: err, detail: err.message });
}
