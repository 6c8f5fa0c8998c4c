import { compileMatcher, MatcherError } from '../../alerts/matchers.ts';
import { compilePattern, PatternError } from '../../alerts/pattern.ts';
import { value, type SmokepingModel } from './model.ts';
import type { Place } from './parser.ts';
import type { ImportReport } from './report.ts';

/**
 * `*** Alerts ***` → `alerts:` (the pattern language is SmokePing's, so patterns are copied
 * unchanged) and the channels its recipients need: mail addresses go through an `email`
 * notifier (SmokePing's mailhost, else the local MTA on localhost:25), `|/program` stays.
 */
export interface AlertsConversion {
  alerts?: Record<string, unknown>;
  /** The channels the recipients seen so far need (call after every recipient list was converted). */
  notifiers(): Record<string, unknown> | undefined;
  /** Alert names that made it (targets may only refer to these). */
  defined: Set<string>;
  /** Recipient lists as smokemesh takes them (drops what cannot be delivered, with a warning). */
  recipients(raw: string | undefined, at: Place | undefined): string[];
}

export interface AlertsOptions {
  /** Whether a file exists (mail templates must, or check-config refuses the config). */
  exists(file: string): boolean;
  /** Why a `|/program` recipient cannot be run here, or undefined (the server refuses a config naming one it cannot run). */
  programProblem(file: string): string | undefined;
  /** Resolves a path written in the SmokePing config (relative: from SmokePing's working directory, taken as the config's). */
  resolvePath(file: string): string;
}

/** Converts the alert section; every alert that cannot be checked as smokemesh checks it is dropped with a warning. */
export function convertAlerts(model: SmokepingModel, report: ImportReport, opts: AlertsOptions): AlertsConversion {
  let needsMail = false;
  const recipients = (raw: string | undefined, at: Place | undefined): string[] => {
    if (!raw) return [];
    const out: string[] = [];
    for (const r of raw.split(/\s*,\s*/).map((s) => s.trim()).filter(Boolean)) {
      if (r.startsWith('|')) {
        // SmokePing's programs live on its host: one missing here would make the config refused.
        const problem = opts.programProblem(r.slice(1));
        if (problem) report.warn(at, `program recipient "${r}": ${problem}; left out`, `install it on this host, then add "${r}" to to: again`);
        else out.push(r);
      }
      else if (/^(snpp|xmpp):/.test(r)) report.warn(at, `recipient "${r}": SmokePing's ${r.slice(0, 4)} delivery has no smokemesh channel; left out`, 'add a notifier (webhook, Slack, Telegram, …) under notifiers: and name it in to:');
      else if (/^(mailto:)?\S+@\S+$/.test(r)) { out.push(r); needsMail = true; }
      else report.warn(at, `recipient "${r}" is not a mail address or |/program; left out`);
    }
    return out;
  };

  const defined = new Set<string>();
  const a = model.alerts;
  const notifiers = () => (needsMail ? { email: mailNotifier(model, report) } : undefined);
  if (!a) return { defined, recipients, notifiers };
  const section: Record<string, unknown> = {};
  const to = recipients(value(a.vars, 'to'), a.vars.get('to')?.at);
  if (to.length) section.to = to;
  const from = value(a.vars, 'from');
  if (from) section.from = from;
  const edge = value(a.vars, 'edgetrigger');
  if (edge !== undefined) section.edgetrigger = edge === 'yes';
  const template = mailTemplate(value(a.vars, 'mailtemplate'), a.vars.get('mailtemplate')?.at, report, opts);
  if (template) section.mailtemplate = template;

  for (const def of a.list) {
    const v = (k: string) => value(def.vars, k);
    const type = v('type');
    const pattern = v('pattern');
    const where = `alert "${def.name}"`;
    if (!/^[-_0-9a-zA-Z.]+$/.test(def.name) || ['to', 'from', 'edgetrigger', 'mailtemplate'].includes(def.name)) {
      report.warn(def.at, `${where}: the name cannot be used in smokemesh; the alert is left out`, 'rename it (letters, digits, -, _, .) and add it by hand');
      continue;
    }
    if ((type !== 'loss' && type !== 'rtt' && type !== 'matcher') || !pattern) {
      report.warn(def.at, `${where} needs type (loss, rtt or matcher) and pattern; left out`);
      continue;
    }
    const problem = checkPattern(type, pattern);
    if (problem) {
      report.warn(def.vars.get('pattern')?.at ?? def.at, `${where}: ${problem}; the alert is left out (and removed from the targets that use it)`, 'fix the pattern (docs/alerts.md) and add the alert back');
      continue;
    }
    const rule: Record<string, unknown> = { type, pattern, comment: v('comment') ?? '' };
    const e = v('edgetrigger');
    if (e !== undefined) rule.edgetrigger = e === 'yes';
    const prio = v('priority');
    if (prio !== undefined) {
      if (/^-?\d+$/.test(prio)) rule.priority = Number(prio);
      else report.warn(def.vars.get('priority')?.at, `${where}: priority = ${prio} is not an integer; left out`);
    }
    const rto = recipients(v('to'), def.vars.get('to')?.at);
    if (rto.length) rule.to = rto;
    const t = mailTemplate(v('mailtemplate'), def.vars.get('mailtemplate')?.at, report, opts);
    if (t) rule.mailtemplate = t;
    for (const k of def.vars.keys()) {
      if (!['type', 'pattern', 'comment', 'edgetrigger', 'priority', 'to', 'mailtemplate'].includes(k)) {
        report.warn(def.vars.get(k)!.at, `${where}: variable "${k}" is not known; left out`);
      }
    }
    section[def.name] = rule;
    defined.add(def.name);
  }
  for (const k of a.vars.keys()) {
    if (!['to', 'from', 'edgetrigger', 'mailtemplate'].includes(k)) report.warn(a.vars.get(k)!.at, `*** Alerts *** variable "${k}" is not known; left out`);
  }
  return {
    alerts: section,
    defined,
    recipients,
    notifiers,
  };
}

/** The smokemesh check, so that an alert it would refuse is reported here rather than by check-config. */
function checkPattern(type: 'loss' | 'rtt' | 'matcher', pattern: string): string | undefined {
  try {
    if (type === 'matcher') compileMatcher(pattern);
    else compilePattern(type, pattern);
    return undefined;
  } catch (e) {
    if (e instanceof PatternError || e instanceof MatcherError) return e.message;
    throw e;
  }
}

function mailTemplate(file: string | undefined, at: Place | undefined, report: ImportReport, opts: AlertsOptions): string | undefined {
  if (!file) return undefined;
  const abs = opts.resolvePath(file);
  if (!opts.exists(abs)) {
    report.warn(at, `mail template ${abs} does not exist here; SmokePing's default mail is used`, 'copy the template to this machine and set mailtemplate');
    return undefined;
  }
  return abs;
}

/** SmokePing mails through `mailhost` (SMTP) or, without it, the `sendmail` program. */
function mailNotifier(model: SmokepingModel, report: ImportReport): Record<string, unknown> {
  const mailhost = value(model.general, 'mailhost');
  if (mailhost) {
    const m = /^(.*?)(?::(\d+))?$/.exec(mailhost)!;
    return { type: 'email', host: m[1], port: m[2] ? Number(m[2]) : 25 };
  }
  report.warn(model.general.get('sendmail')?.at ?? model.generalAt, 'SmokePing sent alert mail through the sendmail program; smokemesh speaks SMTP and uses localhost:25 (the local MTA)',
    'check that an MTA listens on localhost:25, or set notifiers.email (host, port, user, password_file)');
  return { type: 'email', host: 'localhost', port: 25 };
}
