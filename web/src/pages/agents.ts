import { api, type Agent, type ExportStatus, type RolloutSummary, type StoredRelease } from '../api.ts';
import { colorOf, type App, type Cleanup } from '../app.ts';
import { h, replace } from '../dom.ts';
import { fmtAgo } from '../format.ts';
import { t, type Key } from '../i18n.ts';
import { errorNote, note } from '../layout.ts';
import { rolloutActionsFor, type RolloutAction } from '../../../src/release/rollout-actions.ts';
import { actionError, adminToken, tokenBar } from './alerts-admin.ts';
import { fmtTime } from '../time.ts';

/** A remote agent's self-upgrade state, with its target and last error (docs/fleet.md). */
function upgradeCell(a: Agent): HTMLElement {
  const u = a.upgrade;
  if (!u) return h('td', {}, '–');
  const text = u.state === 'idle' || u.state === 'disabled' ? u.state : `${u.state}${u.target ? ` → ${u.target}` : ''}`;
  return h('td', { class: u.state === 'failed' ? 'upgrade failed' : 'upgrade', title: u.error ?? '' }, text, u.error && u.state === 'failed' ? h('div', { class: 'host' }, u.error) : null);
}

/**
 * The active or last rollout, one line, with the admin actions its state allows (pause, resume,
 * abort, roll back; the admin token from the bar below); nothing when there never was one.
 */
function rolloutLine(r: RolloutSummary | undefined, reload: () => void): HTMLElement | null {
  if (!r) return null;
  const counts = Object.entries(r.agents).filter(([, n]) => n > 0).map(([s, n]) => `${s} ${n}`).join(', ');
  const status = h('span', { class: 'rollout-status', role: 'status' });
  const act = (action: RolloutAction) => {
    const label = t(`ro_${action}` as Key);
    if (!window.confirm(t('roConfirm', { action: label, id: r.id, version: r.version }))) return;
    api.rolloutAction(r.id, action, adminToken()).then((x) => {
      replace(status, t('roDone', { id: r.id, state: x.state }));
      reload();
    }, (e: unknown) => replace(status, actionError(e)));
  };
  const actions = rolloutActionsFor(r.state);
  return h('div', { class: 'rollout', 'data-rollout': String(r.id), 'data-rollout-state': r.state },
    h('p', {}, t('rollout', { id: r.id, version: r.version, state: r.state, wave: r.wave + 1, waves: r.waves }), ` (${counts})`, r.reason ? ` — ${r.reason}` : ''),
    actions.length ? h('p', { class: 'rollout-actions' }, ...actions.map((a) => {
      const b = h('button', { type: 'button', 'data-action': a }, t(`ro_${a}` as Key));
      b.addEventListener('click', () => act(a));
      return b;
    }), status) : null);
}

/**
 * Starts a rollout of an uploaded release (admin token): version, canary, batches, the healthy
 * wait and optional regions, as POST /api/v1/rollouts takes them; the server's refusal is shown.
 */
function rolloutForm(releases: StoredRelease[], reload: () => void): HTMLElement {
  const versions = [...new Set(releases.map((r) => r.version))];
  const version = h('select', { name: 'version' }, versions.map((v) => h('option', { value: v }, v)));
  const canary = h('input', { name: 'canary', value: '1', size: 6 });
  const batch = h('input', { name: 'batch', value: '25%', size: 6 });
  const wait = h('input', { name: 'wait_s', type: 'number', min: 0, max: 86400, value: '60' });
  const regions = h('input', { name: 'regions', autocomplete: 'off' });
  const msg = h('p', { class: 'form-msg', role: 'status' });
  const field = (label: Key, el: HTMLElement) => h('label', { class: 'field' }, h('span', {}, t(label)), el);
  const submit = (e: Event) => {
    e.preventDefault();
    const picked = regions.value.split(',').map((x) => x.trim()).filter(Boolean);
    api.startRollout({ version: version.value, canary: canary.value.trim(), batch: batch.value.trim(), wait_s: Number(wait.value), ...(picked.length ? { regions: picked } : {}) }, adminToken())
      .then(reload, (err: unknown) => {
        msg.className = 'form-msg error';
        replace(msg, actionError(err));
      });
  };
  return h('form', { class: 'rollout-form silence-form', onsubmit: submit },
    h('h2', {}, t('newRollout')),
    h('div', { class: 'fields' }, field('roVersion', version), field('roCanary', canary), field('roBatch', batch), field('roWait', wait), field('roRegions', regions)),
    h('p', { class: 'hint' }, t('roHint')),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('roStart'))), msg);
}

/** The export destinations (remote write, CloudWatch), one line each with its counters and last error; nothing when none is configured. */
export function exportLines(s: ExportStatus): HTMLElement | null {
  const rows = [
    ...s.remote_write.map((r) => ({ to: `remote write ${r.url}`, sent: r.sent_rounds, dropped: r.dropped_rounds, failed: r.failed_requests, pending: r.pending, last_error: r.last_error })),
    ...s.cloudwatch.map((c) => ({ to: `CloudWatch ${c.region} ${c.namespace}`, sent: c.sent, dropped: c.dropped, failed: c.failed_requests, pending: c.pending, last_error: c.last_error })),
  ];
  if (!rows.length) return null;
  return h('section', { class: 'exports' }, h('h2', {}, t('exportTitle')), h('ul', {}, rows.map((r) =>
    h('li', { class: r.failed || r.dropped ? 'failing' : '', 'data-export': r.to },
      t('exportLine', { to: r.to, sent: r.sent, dropped: r.dropped, failed: r.failed, pending: r.pending }),
      r.last_error ? h('div', { class: 'error' }, t('lastErrorIs', { e: r.last_error })) : null))));
}

/** Link-local addresses (fe80::/10, 169.254/16): of no use to reach an agent from elsewhere. */
export function isLinkLocal(a: string): boolean {
  return /^fe[89ab][0-9a-f]:/i.test(a) || a.startsWith('169.254.');
}

/** The addresses worth showing first (routable ones, at most two) and the rest. */
export function splitAddresses(addresses: readonly string[], shown = 2): { first: string[]; rest: string[] } {
  const routable = addresses.filter((a) => !isLinkLocal(a));
  return { first: routable.slice(0, shown), rest: [...routable.slice(shown), ...addresses.filter(isLinkLocal)] };
}

/** Every agent: name, region, addresses (the first two; the rest folded), version, self-upgrade, last seen, alive; the rollout above, the export destinations below. */
export function agentsPage(main: HTMLElement, app: App): Cleanup {
  const body = h('div', { 'data-state': 'loading' }, note(t('loading')));
  replace(main, h('h1', {}, t('agents')), body);
  let live = true;
  const head = (keys: Key[]) => h('thead', {}, h('tr', {}, keys.map((k) => h('th', {}, t(k)))));
  const td = (label: Key, ...children: (Node | string | null)[]) => h('td', { 'data-label': t(label) }, ...children);
  const noExports: ExportStatus = { remote_write: [], cloudwatch: [] };
  const load = () => Promise.all([api.agents(), api.rollouts().catch(() => ({ rollouts: [] })), api.releases().catch(() => ({ releases: [] })), api.exports().catch(() => noExports)])
    .then(([{ agents }, { rollouts }, { releases }, exports]) => {
    if (!live) return;
    app.agents = agents;
    const active = rollouts[0] && (rollouts[0].state === 'running' || rollouts[0].state === 'paused');
    const line = rolloutLine(rollouts[0], load);
    const form = releases.length && !active ? rolloutForm(releases, load) : null;
    // One admin-token bar for the page: the rollout's buttons and the form share it.
    const acting = rollouts[0] ? rolloutActionsFor(rollouts[0].state).length > 0 : false;
    replace(body, line, form, acting || form ? tokenBar() : null, h('table', { class: 'agents stack' },
      head(['agent', 'region', 'address', 'version', 'upgrade', 'lastSeen', 'alive']),
      h('tbody', {}, agents.map((a) => {
        const { first, rest } = splitAddresses(a.addresses);
        const upgrade = upgradeCell(a);
        upgrade.dataset.label = t('upgrade');
        return h('tr', { 'data-agent': a.name },
          td('agent', h('i', { class: 'swatch', style: `background:${colorOf(app, a.name)}` }), a.display_name ?? a.name,
            a.location ? h('span', { class: 'host' }, ` ${a.location}`) : null),
          td('region', a.region),
          h('td', { 'data-label': t('address'), class: 'addresses' }, first.join(', ') || (rest.length ? '' : '–'),
            rest.length ? h('details', { class: 'more-addresses' }, h('summary', {}, t('moreAddresses', { n: rest.length })), h('span', {}, rest.join(', '))) : null),
          td('version', a.version ?? '–'), upgrade,
          h('td', { 'data-label': t('lastSeen'), title: a.last_seen ? fmtTime(a.last_seen) : '' }, fmtAgo(a.last_seen)),
          td('alive', h('span', { class: a.alive ? 'dot up' : 'dot down' }), a.alive ? t('yes') : t('no')));
      }))), exportLines(exports));
    body.dataset.state = 'ready';
  }).catch((e: unknown) => { if (live) replace(body, errorNote(e)); });
  void load();
  return () => { live = false; };
}
