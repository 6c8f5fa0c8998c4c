import { api, type Silence, type SilenceRequest } from '../api.ts';
import { h, replace } from '../dom.ts';
import { timeInput, timeInputValue } from '../time-input.ts';
import { fmtTime } from '../time.ts';
import { t } from '../i18n.ts';
import { actionError, adminToken } from './alerts-admin.ts';

const HOUR = 3600_000;

/** Parses "k=v, k2=v2" into labels; undefined when a pair has no `=` or an empty key. */
export function parseLabels(text: string): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const i = part.indexOf('=');
    if (i <= 0) return undefined;
    out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return out;
}

/** A message line under a form: info or error, announced to screen readers. */
function message(el: HTMLElement, text: string, kind: 'ok' | 'error'): void {
  el.className = `form-msg ${kind}`;
  el.dataset.kind = kind;
  replace(el, text);
}

/**
 * The form that creates a silence: matchers the API supports (target glob, agent, alert,
 * labels), start/end (default now → +2 h) and a comment. Calls `done` after a creation.
 */
export function silenceForm(rules: string[], done: () => void): HTMLElement {
  const now = Date.now();
  const target = h('input', { name: 'target', placeholder: '/Group/**', autocomplete: 'off' });
  const agent = h('input', { name: 'agent', placeholder: t('any'), autocomplete: 'off' });
  const alert = h('select', { name: 'alert' }, h('option', { value: '' }, t('anyAlert')), rules.map((r) => h('option', { value: r }, r)));
  const labels = h('input', { name: 'labels', placeholder: 'site=fra, role=core', autocomplete: 'off' });
  const starts = timeInput('starts', now, t('startsAt'));
  const ends = timeInput('ends', now + 2 * HOUR, t('endsAt'));
  const comment = h('input', { name: 'comment', autocomplete: 'off' });
  const msg = statusLine();
  const submit = h('button', { type: 'submit' }, t('createSilence'));
  const field = (label: string, input: HTMLElement, hint?: string) =>
    h('label', { class: 'field' }, h('span', {}, label), input, hint ? h('small', { class: 'hint' }, hint) : null);

  const onSubmit = async (e: Event) => {
    e.preventDefault();
    const lab = parseLabels(labels.value);
    if (!lab) return message(msg, t('badLabels'), 'error');
    // Fields left as they were filled in mean "now" and "2 h from now" when the form is sent,
    // not when the page was opened.
    const untouched = starts.value === starts.defaultValue && ends.value === ends.defaultValue;
    const s = untouched ? Date.now() : timeInputValue(starts);
    const en = untouched ? s + 2 * HOUR : timeInputValue(ends);
    if (!Number.isFinite(s) || !Number.isFinite(en) || en <= s) return message(msg, t('badTime'), 'error');
    const body: SilenceRequest = { starts: s, ends: en, comment: comment.value.trim() };
    if (target.value.trim()) body.target = target.value.trim();
    if (agent.value.trim()) body.agent = agent.value.trim();
    if (alert.value) body.alert = alert.value;
    if (Object.keys(lab).length) body.labels = lab;
    if (!body.target && !body.agent && !body.alert && !body.labels) return message(msg, t('needMatcher'), 'error');
    submit.disabled = true;
    try {
      const created = await api.createSilence(body, adminToken());
      message(msg, t('silenceCreated'), 'ok');
      msg.dataset.silence = created.id;
      done();
    } catch (err) {
      message(msg, actionError(err), 'error');
    } finally {
      submit.disabled = false;
    }
  };
  return h('form', { class: 'silence-form', onsubmit: (e: Event) => void onSubmit(e) },
    h('div', { class: 'fields' },
      field(t('silenceTarget'), target, t('silenceTargetHint')), field(t('agent'), agent), field(t('alertName'), alert),
      field(t('labelsField'), labels), field(t('startsAt'), starts), field(t('endsAt'), ends), field(t('comment'), comment)),
    h('div', { class: 'actions' }, submit), msg);
}

function matchers(s: Silence): HTMLElement {
  const parts: string[] = [];
  if (s.target) parts.push(`${t('target')}: ${s.target}`);
  if (s.agent) parts.push(`${t('agent')}: ${s.agent}`);
  if (s.alert) parts.push(`${t('alertName')}: ${s.alert}`);
  for (const [k, v] of Object.entries(s.labels ?? {})) parts.push(`${k}=${v}`);
  return h('span', { class: 'matchers' }, parts.map((p) => h('code', {}, p)));
}

/** The status line shown under the silence list (kept across refreshes of the list). */
export function statusLine(): HTMLElement {
  return h('p', { class: 'form-msg', role: 'status' });
}

/**
 * Active and scheduled silences with an "expire" button each; expired ones (kept so that the
 * history naming them resolves) folded below. Expiry results go to `msg`; `done` runs after one.
 */
export function silenceList(silences: Silence[], msg: HTMLElement, done: () => void): HTMLElement {
  const now = Date.now();
  const live = silences.filter((s) => s.ends > now);
  const old = silences.filter((s) => s.ends <= now).sort((a, b) => b.ends - a.ends).slice(0, 20);
  const row = (s: Silence, canExpire: boolean) => {
    const state = s.ends <= now ? 'expired' : s.starts <= now ? 'active' : 'scheduled';
    const btn = canExpire ? h('button', { type: 'button', class: 'expire', 'data-silence': s.id }, t('expire')) : null;
    btn?.addEventListener('click', () => {
      btn.disabled = true;
      api.expireSilence(s.id, adminToken())
        .then(() => { message(msg, t('silenceExpired'), 'ok'); done(); })
        .catch((err: unknown) => { message(msg, actionError(err), 'error'); btn.disabled = false; });
    });
    return h('tr', { 'data-silence': s.id, 'data-state': state },
      h('td', {}, h('span', { class: `chip s-${state}` }, t(state === 'active' ? 'silenceActive' : state === 'scheduled' ? 'silenceScheduled' : 'expired'))),
      h('td', {}, matchers(s)), h('td', {}, fmtTime(s.starts)), h('td', {}, fmtTime(s.ends)),
      h('td', { class: 'wrap' }, s.comment || '–'), h('td', {}, btn));
  };
  const table = (rows: Silence[], canExpire: boolean) => h('div', { class: 'scroll' }, h('table', { class: 'silences' },
    h('thead', {}, h('tr', {}, h('th', {}, t('state')), h('th', {}, t('matchers')), h('th', {}, t('startsAt')), h('th', {}, t('endsAt')),
      h('th', {}, t('comment')), h('th', {}))),
    h('tbody', {}, rows.map((s) => row(s, canExpire)))));
  return h('div', { class: 'silence-list' },
    live.length ? table(live, true) : h('p', { class: 'note' }, t('noSilences')),
    old.length ? h('details', { class: 'expired-silences' }, h('summary', {}, `${t('expired')} (${old.length})`), table(old, false)) : null);
}
