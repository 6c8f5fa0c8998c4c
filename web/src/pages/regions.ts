import type { RegionCell } from '../../../src/plan/region.ts';
import { getJson } from '../api.ts';
import type { Cleanup } from '../app.ts';
import { h, replace } from '../dom.ts';
import { currentLang } from '../i18n.ts';
import { fmtMs } from '../format.ts';
import { errorNote, note } from '../layout.ts';
import { pageHref, targetHref, type Route } from '../route.ts';

/**
 * The region × region matrix (`#/regions?probe=icmp`): one cell per (source region, target
 * region), coloured by loss and latency, from GET /api/v1/regions/matrix; a click shows the
 * pair (GET /api/v1/regions/pair): each agent's view and each target, linked to its smoke graph.
 */

type Cell = RegionCell;

// Own strings (English / Simplified Chinese) so that this page stays in one file.
const STR = {
  en: { title: 'Regions', source: 'source ↓ / target →', agents: 'agents ok', agentsOk: '{ok} of {n} agents OK', key: 'Each cell: the median and loss of the source region\'s agents toward the target region, and how many of those agents see it fine (the majority decides). Green: no loss; yellow: some; orange: ≥ 5 % or a tie; red: ≥ 20 % or down; blue: no loss but ≥ 200 ms.', pair: 'Pair', noData: 'No region data yet: it appears once agents of two regions probe each other (see docs/mesh.md).', loading: 'Loading…', error: 'Error', agent: 'Agent', target: 'Target', median: 'median', loss: 'loss', jitter: 'jitter', status: 'status' },
  zh: { title: '区域', source: '源区域 ↓ / 目标区域 →', agents: '正常探针', agentsOk: '{n} 个探针中 {ok} 个正常', key: '每格：源区域探针到目标区域的中位延迟与丢包，以及其中正常的探针数（多数决定）。绿：无丢包；黄：少量；橙：≥ 5 % 或持平；红：≥ 20 % 或不可达；蓝：无丢包但 ≥ 200 ms。', pair: '区域对', noData: '暂无区域数据：两个区域的探针互测后出现（见 docs/mesh.md）。', loading: '加载中…', error: '错误', agent: '探针', target: '目标', median: '中位数', loss: '丢包', jitter: '抖动', status: '状态' },
};
const s = () => (currentLang() === 'zh-CN' ? STR.zh : STR.en);

const ms = fmtMs;
const agentsOk = (c: { agents_ok: number; agents_total: number }) => s().agentsOk.replace('{ok}', String(c.agents_ok)).replace('{n}', String(c.agents_total));
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
      replace(matrixBox, h('p', { class: 'hint' }, s().key), h('div', { class: 'scroll' }, h('table', { class: 'matrix' },
        h('thead', {}, h('tr', {}, h('th', {}, s().source), targets.map((t) => h('th', {}, t)))),
        h('tbody', {}, sources.map((src) => h('tr', {}, h('th', {}, src), targets.map((tgt) => {
          const c = at.get(`${src}\n${tgt}`);
          if (!c) return h('td', {}, '');
          return h('td', {
            'data-source': src, 'data-target': tgt, 'data-status': c.status,
            style: `background:${cellColor(c)};color:#111;cursor:pointer;text-align:center`,
            title: `${src} → ${tgt}: ${s().median} ${ms(c.median)}, ${s().loss} ${pct(c.loss_pct)}, ${s().jitter} ${ms(c.jitter)}, ${agentsOk(c)}`,
            onclick: () => { location.hash = pageHref('regions', { probe, source: src, target: tgt }); },
          }, h('div', {}, ms(c.median)), h('small', {}, `${pct(c.loss_pct)} · ${agentsOk(c)}`));
        })))))));
      matrixBox.dataset.state = 'ready';
    } catch (e) {
      if (live) replace(matrixBox, errorNote(e));
    }
  };

  const loadPair = async (source: string, target: string) => {
    try {
      const p = await getJson<{ cell: Cell; targets: Cell[] }>('v1/regions/pair', { probe, source, target });
      if (!live) return;
      const row = (c: { agent: string; ok: boolean; loss_pct: number; median: number | null; jitter: number | null }) =>
        h('tr', { 'data-agent': c.agent }, h('td', {}, c.agent), h('td', {}, c.ok ? '✔' : '✘'), h('td', {}, ms(c.median)), h('td', {}, pct(c.loss_pct)), h('td', {}, ms(c.jitter)));
      replace(pairBox,
        h('h2', {}, `${s().pair}: ${source} → ${target} (${p.cell.status}, ${agentsOk(p.cell)})`),
        h('table', { class: 'agents' }, h('thead', {}, h('tr', {}, [s().agent, s().status, s().median, s().loss, s().jitter].map((x) => h('th', {}, x)))),
          h('tbody', {}, (p.cell.agents ?? []).map(row))),
        h('table', { class: 'agents' }, h('thead', {}, h('tr', {}, [s().target, s().status, s().median, s().loss, s().agents].map((x) => h('th', {}, x)))),
          h('tbody', {}, p.targets.map((t) => h('tr', {},
            h('td', {}, h('a', { href: targetHref(t.target!) }, t.target!)), h('td', {}, t.status),
            h('td', {}, ms(t.median)), h('td', {}, pct(t.loss_pct)), h('td', {}, agentsOk(t)))))));
    } catch (e) {
      if (live) replace(pairBox, errorNote(e));
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
