import { getJson } from '../api.ts';
import type { Cleanup } from '../app.ts';
import { h, replace } from '../dom.ts';
import { currentLang } from '../i18n.ts';
import { note } from '../layout.ts';
import { pageHref, targetHref, type Route } from '../route.ts';

/**
 * The region × region matrix (`#/regions?probe=icmp`): one cell per (source region, target
 * region), coloured by loss and latency, from GET /api/v1/regions/matrix; a click shows the
 * pair (GET /api/v1/regions/pair): each agent's view and each target, linked to its smoke graph.
 */

interface Cell {
  source_region: string;
  target_region: string;
  status: 'ok' | 'degraded' | 'down';
  median: number | null;
  loss_pct: number | null;
  jitter: number | null;
  agents_ok: number;
  agents_total: number;
  target?: string;
  agents?: { agent: string; ok: boolean; loss_pct: number; median: number | null; jitter: number | null }[];
}

// Own strings (English / Simplified Chinese) so that this page stays in one file.
const STR = {
  en: { title: 'Regions', source: 'source ↓ / target →', agents: 'agents ok', pair: 'Pair', noData: 'No region data yet: it appears once agents of two regions probe each other (see docs/mesh.md).', loading: 'Loading…', error: 'Error', agent: 'Agent', target: 'Target', median: 'median', loss: 'loss', jitter: 'jitter', status: 'status' },
  zh: { title: '区域', source: '源区域 ↓ / 目标区域 →', agents: '正常探针', pair: '区域对', noData: '暂无区域数据：两个区域的探针互测后出现（见 docs/mesh.md）。', loading: '加载中…', error: '错误', agent: '探针', target: '目标', median: '中位数', loss: '丢包', jitter: '抖动', status: '状态' },
};
const s = () => (currentLang() === 'zh-CN' ? STR.zh : STR.en);

const ms = (v: number | null) => (v === null ? '–' : v < 10 ? v.toFixed(2) : v.toFixed(1));
const pct = (v: number | null) => (v === null ? '–' : `${v < 1 && v > 0 ? v.toFixed(2) : v.toFixed(0)} %`);

/** Background by loss first (SmokePing's loss colours), then by latency. */
export function cellColor(c: Pick<Cell, 'loss_pct' | 'median' | 'status'>): string {
  const loss = c.loss_pct ?? 100;
  if (c.status === 'down' || loss >= 20) return '#d9534f';
  if (loss >= 5 || c.status === 'degraded') return '#f0ad4e';
  if (loss > 0) return '#e6d450';
  if ((c.median ?? 0) >= 200) return '#9fc5e8';
  return '#5cb85c';
}

/** The page's name in the navigation, in the current language. */
export function regionsLabel(): string {
  return s().title;
}

export function regionsPage(main: HTMLElement, route: Route): Cleanup {
  const probe = route.params.get('probe') ?? 'icmp';
  const pickSource = route.params.get('source');
  const pickTarget = route.params.get('target');
  const tabs = h('div', { class: 'tabs' }, ['icmp', 'tcp', 'http'].map((p) =>
    h('a', { href: pageHref('regions', { probe: p }), class: p === probe ? 'active' : '' }, p.toUpperCase(), ' ')));
  const matrixBox = h('div', { 'data-state': 'loading' }, note(s().loading));
  const pairBox = h('div', {});
  replace(main, h('h1', {}, s().title), tabs, matrixBox, pairBox);
  let live = true;

  const load = async () => {
    try {
      const m = await getJson<{ regions: string[]; cells: Cell[] }>('v1/regions/matrix', { probe });
      if (!live) return;
      if (!m.cells.length) {
        replace(matrixBox, note(s().noData));
        matrixBox.dataset.state = 'empty';
        return;
      }
      const sources = [...new Set(m.cells.map((c) => c.source_region))].sort();
      const targets = [...new Set(m.cells.map((c) => c.target_region))].sort();
      const at = new Map(m.cells.map((c) => [`${c.source_region}\n${c.target_region}`, c]));
      replace(matrixBox, h('div', { class: 'scroll' }, h('table', { class: 'matrix' },
        h('thead', {}, h('tr', {}, h('th', {}, s().source), targets.map((t) => h('th', {}, t)))),
        h('tbody', {}, sources.map((src) => h('tr', {}, h('th', {}, src), targets.map((tgt) => {
          const c = at.get(`${src}\n${tgt}`);
          if (!c) return h('td', {}, '');
          return h('td', {
            'data-source': src, 'data-target': tgt, 'data-status': c.status,
            style: `background:${cellColor(c)};color:#111;cursor:pointer;text-align:center`,
            title: `${src} → ${tgt}: ${s().median} ${ms(c.median)} ms, ${s().loss} ${pct(c.loss_pct)}, ${s().jitter} ${ms(c.jitter)} ms, ${s().agents} ${c.agents_ok}/${c.agents_total}`,
            onclick: () => { location.hash = pageHref('regions', { probe, source: src, target: tgt }); },
          }, h('div', {}, `${ms(c.median)} ms`), h('small', {}, `${pct(c.loss_pct)} · ${c.agents_ok}/${c.agents_total}`));
        })))))));
      matrixBox.dataset.state = 'ready';
    } catch (e) {
      if (live) replace(matrixBox, note(`${s().error}: ${(e as Error).message}`, 'error'));
    }
  };

  const loadPair = async (source: string, target: string) => {
    try {
      const p = await getJson<{ cell: Cell; targets: Cell[] }>('v1/regions/pair', { probe, source, target });
      if (!live) return;
      const row = (c: { agent: string; ok: boolean; loss_pct: number; median: number | null; jitter: number | null }) =>
        h('tr', { 'data-agent': c.agent }, h('td', {}, c.agent), h('td', {}, c.ok ? '✔' : '✘'), h('td', {}, `${ms(c.median)} ms`), h('td', {}, pct(c.loss_pct)), h('td', {}, `${ms(c.jitter)} ms`));
      replace(pairBox,
        h('h2', {}, `${s().pair}: ${source} → ${target} (${p.cell.status}, ${s().agents} ${p.cell.agents_ok}/${p.cell.agents_total})`),
        h('table', { class: 'agents' }, h('thead', {}, h('tr', {}, [s().agent, s().status, s().median, s().loss, s().jitter].map((x) => h('th', {}, x)))),
          h('tbody', {}, (p.cell.agents ?? []).map(row))),
        h('table', { class: 'agents' }, h('thead', {}, h('tr', {}, [s().target, s().status, s().median, s().loss, s().agents].map((x) => h('th', {}, x)))),
          h('tbody', {}, p.targets.map((t) => h('tr', {},
            h('td', {}, h('a', { href: targetHref(t.target!) }, t.target!)), h('td', {}, t.status),
            h('td', {}, `${ms(t.median)} ms`), h('td', {}, pct(t.loss_pct)), h('td', {}, `${t.agents_ok}/${t.agents_total}`))))));
    } catch (e) {
      if (live) replace(pairBox, note(`${s().error}: ${(e as Error).message}`, 'error'));
    }
  };

  void load();
  if (pickSource && pickTarget) void loadPair(pickSource, pickTarget);
  const timer = window.setInterval(() => {
    void load();
    if (pickSource && pickTarget) void loadPair(pickSource, pickTarget);
  }, 15000);
  return () => {
    live = false;
    clearInterval(timer);
  };
}
