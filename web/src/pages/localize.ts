import { getJson } from '../api.ts';
import type { Cleanup } from '../app.ts';
import { h, replace } from '../dom.ts';
import { fmtMs, fmtPct } from '../format.ts';
import { fmtTime } from '../time.ts';
import { note } from '../layout.ts';
import { pageHref, targetHref, type Route } from '../route.ts';
import type { Cause, MatrixCell } from '../../../src/localize/types.ts';
import { fill, s, type Str } from './localize-i18n.ts';
import { cellColor } from './regions.ts';

/**
 * Fault localization (`#/localize/<scope>?row=&col=`): per scope, the current causes with
 * their evidence and the target alerts each suppressed, the vantage × destination matrix
 * coloured by loss and latency with the cells of a cause outlined (a click lists the series
 * behind a cell), and a timeline of the causes of the last day. Data: GET /api/v1/localize,
 * /api/v1/localize/history, /api/v1/localize/cell.
 */

type ScopeCause = Cause & { suppressed: { count: number; recent: { id: string; time: number; target: string; agent: string; alert: string; state: string }[] } };
interface Scope {
  name: string;
  title: string;
  comment: string;
  step_s: number;
  targets: number;
  roles: { vantage: string[]; destination: string[]; item: string; site: string };
  raise_after: number;
  clear_after: number;
  last_step: number | null;
  counts: { series: number; bad: number; excluded: number; stale: number; unlabelled: number; unexplained: number } | null;
  causes: ScopeCause[];
  matrix: { rows: string[]; columns: string[]; cells: MatrixCell[] };
}
interface HistoryEvent { id: string; time: number; state: 'raised' | 'cleared'; cause: Cause | null }
interface CellSeries { target: string; agent: string; time: number; loss_pct: number; median: number | null; bad: boolean; explained_by: string | null }

/** A stable outline colour per cause (so a cause's cells can be told apart from another's). */
const OUTLINES = ['#d62728', '#1f77b4', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2'];
function outlineOf(id: string, ids: string[]): string {
  const i = ids.indexOf(id);
  return OUTLINES[(i < 0 ? 0 : i) % OUTLINES.length]!;
}

export function localizePage(main: HTMLElement, route: Route): Cleanup {
  const wanted = route.path.split('/').filter(Boolean)[0];
  const pickRow = route.params.get('row');
  const pickCol = route.params.get('col');
  const box = h('div', { 'data-state': 'loading' }, note(s().loading));
  replace(main, h('h1', {}, s().title), box);
  let live = true;

  const load = async () => {
    try {
      const { scopes } = await getJson<{ scopes: Scope[] }>('v1/localize');
      if (!live) return;
      if (!scopes.length) {
        replace(box, note(s().none));
        box.dataset.state = 'empty';
        return;
      }
      const scope = scopes.find((x) => x.name === wanted) ?? scopes[0]!;
      const history = await getJson<{ events: HistoryEvent[] }>('v1/localize/history', { scope: scope.name, limit: 500 });
      if (!live) return;
      const tabs = scopes.length > 1 ? h('div', { class: 'tabs' }, scopes.map((x) => h('a', { href: `#/localize/${encodeURIComponent(x.name)}`, class: x.name === scope.name ? 'active' : '' }, x.title, ' '))) : null;
      const cellBox = h('div', { class: 'localize-cell' });
      replace(box, tabs, header(scope), causesView(scope), matrixView(scope), cellBox, timelineView(history.events));
      box.dataset.state = 'ready';
      if (pickRow !== null && pickCol !== null) void loadCell(scope.name, pickRow, pickCol, cellBox);
    } catch (e) {
      if (live) replace(box, note(`${s().error}: ${(e as Error).message}`, 'error'));
    }
  };

  const loadCell = async (scope: string, row: string, col: string, into: HTMLElement) => {
    try {
      const c = await getJson<{ series: CellSeries[] }>('v1/localize/cell', { scope, row, column: col });
      if (!live) return;
      replace(into, h('h2', {}, `${s().cell} ${row} → ${col}`), h('div', { class: 'scroll' }, h('table', { class: 'agents', 'data-cell': `${row}\n${col}` },
        h('thead', {}, h('tr', {}, [s().target, s().agent, s().loss, s().median, s().bad, s().explained].map((x) => h('th', {}, x)))),
        h('tbody', {}, c.series.map((x) => h('tr', { 'data-bad': x.bad ? '1' : '0' },
          h('td', {}, h('a', { href: targetHref(x.target, { agents: x.agent }) }, x.target)), h('td', {}, x.agent),
          h('td', {}, fmtPct(x.loss_pct)), h('td', {}, fmtMs(x.median)), h('td', {}, x.bad ? '✘' : '✔'), h('td', {}, x.explained_by ?? '–')))))));
    } catch (e) {
      if (live) replace(into, note(`${s().error}: ${(e as Error).message}`, 'error'));
    }
  };

  void load();
  const timer = window.setInterval(() => void load(), 15000);
  return () => {
    live = false;
    clearInterval(timer);
  };

  function header(scope: Scope): HTMLElement {
    const c = scope.counts;
    return h('div', { class: 'localize-head' },
      h('h2', {}, scope.title),
      scope.comment ? h('p', {}, scope.comment) : null,
      h('p', { class: 'muted' }, fill(s().roles, { v: scope.roles.vantage.join(' × '), d: scope.roles.destination.join(' × '), i: scope.roles.item, s: scope.step_s, k: scope.raise_after, c: scope.clear_after })),
      c ? h('p', { class: 'muted' }, fill(s().counts, c), scope.last_step ? ` · ${s().lastStep} ${fmtTime(scope.last_step)}` : '') : null);
  }

  function causesView(scope: Scope): HTMLElement {
    const ids = scope.causes.map((c) => c.id);
    if (!scope.causes.length) return h('section', { class: 'localize-causes' }, h('h2', {}, s().causes), note(s().noCauses));
    return h('section', { class: 'localize-causes' }, h('h2', {}, s().causes), scope.causes.map((c) => {
      const str = s();
      const facts: [string, string][] = [
        [str.rule, c.rule],
        [str.firstBad, fmtTime(c.first_bad)],
        [str.series, `${c.series.bad} / ${c.series.total}`],
      ];
      if (c.items) facts.push([str.items, `${c.items.bad} / ${c.items.total}`]);
      if (c.cells_count) facts.push([str.cells, `${c.cells_count.bad} / ${c.cells_count.total}`]);
      if (c.networks) facts.push([str.networks, `${c.networks.seeing.join(', ')} (${c.networks.seeing.length} / ${c.networks.total})`]);
      if (c.peers) facts.push([str.peers, `${c.peers.bad} / ${c.peers.total}`]);
      if (c.others_bad_pct !== undefined) facts.push([str.others, fmtPct(c.others_bad_pct)]);
      facts.push([str.loss, fmtPct(c.loss_pct)], [str.median, fmtMs(c.median)]);
      for (const [k, m] of Object.entries(c.affected)) facts.push([`${str.affected} (${k})`, Object.entries(m).map(([v, n]) => `${v} ${n}`).join(', ')]);
      const state = c.raised === null ? str.pending : `${str.raised} ${fmtTime(c.raised)}`;
      return h('article', { class: 'cause', 'data-cause': c.id, 'data-kind': c.kind, style: `border-left:6px solid ${outlineOf(c.id, ids)}` },
        h('h3', {}, `${c.title} `, h('small', {}, `${str[`kind_${c.kind}` as keyof Str]} · ${c.confidence} · ${state}`)),
        h('dl', {}, facts.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
        c.trace ? traceView(c.trace) : null,
        h('details', {}, h('summary', {}, `${str.suppressed}: ${c.suppressed.count}`),
          h('ul', { class: 'suppressed' }, c.suppressed.recent.map((e) => h('li', {}, `${fmtTime(e.time)} ${e.alert} ${e.state}: `, h('a', { href: targetHref(e.target) }, e.target), ` [${e.agent}]`)))));
    }));
  }

  /** The cause's evidence trace: who traced toward what, the verdict per agent, and a link to the hop tables. */
  function traceView(tr: NonNullable<Cause['trace']>): HTMLElement {
    const str = s();
    const from = tr.agents && tr.target ? fill(str.traceFrom, { agents: tr.agents.join(', '), target: tr.target }) : '';
    return h('div', { class: 'cause-trace', 'data-task': tr.task ?? '' },
      h('strong', {}, `${str.trace}: `), from ? `${from} · ` : '',
      tr.summary === 'trace running' ? str.traceRunning : tr.summary,
      tr.task ? [' ', h('a', { href: pageHref('tasks', { id: tr.task }) }, str.hops)] : null,
      tr.changes.length ? h('div', { class: 'muted' }, `${str.changed}: ${tr.changes.join('; ')}`) : null);
  }

  function matrixView(scope: Scope): HTMLElement {
    const ids = scope.causes.map((c) => c.id);
    const at = new Map(scope.matrix.cells.map((c) => [`${c.row}\n${c.column}`, c]));
    const vantage = scope.roles.vantage.join(' × ');
    const dest = scope.roles.destination.join(' × ');
    return h('section', {}, h('h2', {}, s().matrix), h('div', { class: 'scroll' }, h('table', { class: 'matrix localize-matrix' },
      h('thead', {}, h('tr', {}, h('th', {}, `${vantage} ↓ / ${dest} →`), scope.matrix.columns.map((col) => h('th', {}, col)))),
      h('tbody', {}, scope.matrix.rows.map((row) => h('tr', {}, h('th', {}, row), scope.matrix.columns.map((col) => {
        const c = at.get(`${row}\n${col}`);
        if (!c) return h('td', {}, '');
        const status = c.bad === 0 ? 'ok' : c.bad * 2 > c.series ? 'down' : 'degraded';
        const outline = c.cause ? `outline:3px solid ${outlineOf(c.cause, ids)};outline-offset:-3px;` : '';
        return h('td', {
          'data-row': row, 'data-col': col, 'data-bad': c.bad, ...(c.cause ? { 'data-cause': c.cause } : {}),
          style: `background:${cellColor({ loss_pct: c.loss_pct, median: c.median, status })};color:#111;cursor:pointer;text-align:center;${outline}`,
          title: `${row} → ${col}: ${s().median} ${fmtMs(c.median)}, ${s().loss} ${fmtPct(c.loss_pct)}, ${s().bad} ${c.bad}/${c.series}${c.cause ? ` · ${c.cause}` : ''}`,
          onclick: () => { location.hash = `#/localize/${encodeURIComponent(scope.name)}?${new URLSearchParams({ row, col })}`; },
        }, h('div', {}, fmtMs(c.median)), h('small', {}, `${fmtPct(c.loss_pct)} · ${c.bad}/${c.series}`));
      })))))));
  }

  /** One bar per cause over the last 24 hours, from its raise to its clear (or now). */
  function timelineView(events: HistoryEvent[]): HTMLElement {
    const now = Date.now();
    const from = now - 24 * 3600_000;
    const spans = new Map<string, { title: string; kind: string; start: number; end: number | null }>();
    // Oldest first: a clear closes the open span of its cause.
    for (const e of [...events].reverse()) {
      if (!e.cause) continue;
      const id = e.cause.id;
      if (e.state === 'raised') spans.set(`${id}\n${e.time}`, { title: e.cause.title, kind: e.cause.kind, start: e.time, end: null });
      else for (const [k, sp] of spans) if (k.startsWith(`${id}\n`) && sp.end === null) sp.end = e.time;
    }
    const list = [...spans.values()].filter((x) => (x.end ?? now) >= from).sort((a, b) => a.start - b.start);
    if (!list.length) return h('section', {}, h('h2', {}, s().timeline), note(s().noHistory));
    const pos = (t: number) => `${(100 * (Math.max(t, from) - from)) / (now - from)}%`;
    return h('section', { class: 'localize-timeline' }, h('h2', {}, s().timeline), list.map((x) => h('div', { class: 'tl-row', 'data-kind': x.kind },
      h('span', { class: 'tl-label' }, x.title),
      h('span', { class: 'tl-track' }, h('span', {
        class: 'tl-bar', style: `left:${pos(x.start)};width:calc(${pos(x.end ?? now)} - ${pos(x.start)} + 2px)`,
        title: `${x.title}: ${fmtTime(x.start)} → ${x.end ? fmtTime(x.end) : s().ongoing}`,
      })),
      h('span', { class: 'tl-when' }, `${fmtTime(x.start)} → ${x.end ? fmtTime(x.end) : s().ongoing}`))));
  }
}
