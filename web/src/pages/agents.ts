import { api, type Agent, type RolloutSummary } from '../api.ts';
import { colorOf, type App, type Cleanup } from '../app.ts';
import { h, replace } from '../dom.ts';
import { fmtAgo } from '../format.ts';
import { t } from '../i18n.ts';
import { note } from '../layout.ts';

/** A remote agent's self-upgrade state, with its target and last error (docs/fleet.md). */
function upgradeCell(a: Agent): HTMLElement {
  const u = a.upgrade;
  if (!u) return h('td', {}, '–');
  const text = u.state === 'idle' || u.state === 'disabled' ? u.state : `${u.state}${u.target ? ` → ${u.target}` : ''}`;
  return h('td', { class: u.state === 'failed' ? 'upgrade failed' : 'upgrade', title: u.error ?? '' }, text, u.error && u.state === 'failed' ? h('div', { class: 'host' }, u.error) : null);
}

/** The active or last rollout, one line (nothing when there never was one). */
function rolloutLine(r: RolloutSummary | undefined): HTMLElement | null {
  if (!r) return null;
  const counts = Object.entries(r.agents).filter(([, n]) => n > 0).map(([s, n]) => `${s} ${n}`).join(', ');
  return h('p', { class: 'rollout', 'data-rollout': String(r.id) },
    t('rollout', { id: r.id, version: r.version, state: r.state, wave: r.wave + 1, waves: r.waves }), ` (${counts})`, r.reason ? ` — ${r.reason}` : '');
}

/** Every agent: name, region, addresses, version, self-upgrade, last seen, alive; the rollout above. */
export function agentsPage(main: HTMLElement, app: App): Cleanup {
  const body = h('div', { 'data-state': 'loading' }, note(t('loading')));
  replace(main, h('h1', {}, t('agents')), body);
  let live = true;
  Promise.all([api.agents(), api.rollouts().catch(() => ({ rollouts: [] }))]).then(([{ agents }, { rollouts }]) => {
    if (!live) return;
    app.agents = agents;
    replace(body, rolloutLine(rollouts[0]), h('div', { class: 'scroll' }, h('table', { class: 'agents' },
      h('thead', {}, h('tr', {}, h('th', {}, t('agent')), h('th', {}, t('region')), h('th', {}, t('address')),
        h('th', {}, t('version')), h('th', {}, t('upgrade')), h('th', {}, t('lastSeen')), h('th', {}, t('alive')))),
      h('tbody', {}, agents.map((a) => h('tr', { 'data-agent': a.name },
        h('td', {}, h('i', { class: 'swatch', style: `background:${colorOf(app, a.name)}` }), a.display_name ?? a.name,
          a.location ? h('span', { class: 'host' }, ` ${a.location}`) : null),
        h('td', {}, a.region), h('td', {}, a.addresses.join(', ')), h('td', {}, a.version ?? '–'), upgradeCell(a),
        h('td', {}, fmtAgo(a.last_seen)),
        h('td', {}, h('span', { class: a.alive ? 'dot up' : 'dot down' }), a.alive ? t('yes') : t('no'))))))));
    body.dataset.state = 'ready';
  }).catch((e: Error) => { replace(body, note(`${t('error')}: ${e.message}`, 'error')); });
  return () => { live = false; };
}
