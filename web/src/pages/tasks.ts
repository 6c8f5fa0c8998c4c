import './tasks.css';
import type { App, Cleanup } from '../app.ts';
import type { TreeNode } from '../api.ts';
import { h, replace } from '../dom.ts';
import { fmtTime } from '../time.ts';
import { t } from '../i18n.ts';
import { note } from '../layout.ts';
import { pageHref, type Route } from '../route.ts';
import { actionError, adminToken, tokenBar } from './alerts-admin.ts';
import { resultCards } from './task-results.ts';
import { taskApi, type KindsReply, type ParamSchema, type TaskRecord, type TaskRequest, type TaskSummary } from './tasks-api.ts';
import { tt } from './tasks-i18n.ts';

/**
 * The Tasks page: start a diagnostic (kind, target, agents, parameters; admin token), watch
 * each agent's result arrive side by side (`#/tasks?id=…`), and the recent tasks.
 */
export function tasksPage(main: HTMLElement, app: App, route: Route): Cleanup {
  const id = route.params.get('id');
  return id ? taskView(main, id) : taskHome(main, app);
}

/** One task, followed by long-poll until every agent's part is final. */
function taskView(main: HTMLElement, id: string): Cleanup {
  const abort = new AbortController();
  const body = h('div', { class: 'task-view', 'data-state': 'loading' }, note(t('loading')));
  replace(main, h('p', {}, h('a', { href: pageHref('tasks') }, tt('back'))), body);
  const show = (rec: TaskRecord) => {
    body.dataset.state = rec.state;
    replace(body,
      h('h1', {}, `${rec.kind} ${rec.host}`),
      h('p', { class: 'meta' }, `${tt('created')} ${fmtTime(rec.created)} · ${tt('by')} ${rec.created_by}`
        + `${rec.target ? ` · ${rec.target}` : ''} · ${rec.state}`),
      resultCards(rec));
  };
  void (async () => {
    let version: number | undefined;
    try {
      for (;;) {
        const rec = await taskApi.get(id, version, version === undefined ? undefined : 25, abort.signal);
        if (abort.signal.aborted) return;
        if (rec.version !== version) show(rec);
        version = rec.version;
        if (rec.state === 'finished') return;
      }
    } catch (e) {
      if (!abort.signal.aborted) replace(body, note(`${t('error')}: ${(e as Error).message}`, 'error'));
    }
  })();
  return () => abort.abort();
}

function taskHome(main: HTMLElement, app: App): Cleanup {
  let live = true;
  const formBox = h('div', {}, note(t('loading')));
  const list = h('div', { class: 'task-list', 'data-state': 'loading' }, note(t('loading')));
  replace(main, h('h1', {}, tt('tasks')), tokenBar(), h('h2', {}, tt('newTask')), formBox, h('h2', {}, tt('recent')), list);
  taskApi.kinds().then((k) => { if (live) replace(formBox, taskForm(app, k)); })
    .catch((e: Error) => replace(formBox, note(`${t('error')}: ${e.message}`, 'error')));
  taskApi.list({ limit: 50 }).then(({ tasks }) => {
    if (!live) return;
    replace(list, recentTable(tasks));
    list.dataset.state = 'ready';
  }).catch((e: Error) => replace(list, note(`${t('error')}: ${e.message}`, 'error')));
  return () => { live = false; };
}

/** Recent tasks: when, what, where, by whom, and how each agent's part ended. */
export function recentTable(tasks: TaskSummary[]): HTMLElement {
  if (!tasks.length) return note(tt('none'));
  return h('div', { class: 'scroll' }, h('table', {},
    h('thead', {}, h('tr', {}, [tt('created'), tt('task'), tt('origin'), tt('by'), tt('results')].map((c) => h('th', {}, c)))),
    h('tbody', {}, tasks.map((x) => h('tr', { 'data-task': x.id },
      h('td', {}, fmtTime(x.created)),
      h('td', {}, h('a', { href: pageHref('tasks', { id: x.id }) }, `${x.kind} ${x.host}`)),
      h('td', {}, x.origin), h('td', { class: 'wrap' }, x.created_by),
      h('td', { class: 'wrap' }, Object.entries(x.counts).map(([s, n]) => h('span', { class: `chip t-${s}` }, `${s} ${n}`)),
        Object.entries(x.summaries).map(([a, s]) => h('div', { class: 'host' }, `${a}: ${s}`))))))));
}

/** Hosts of the configured targets (suggestions for the target field) and the probed target paths. */
function targetsOf(root: TreeNode): { hosts: string[]; paths: string[] } {
  const hosts = new Set<string>();
  const paths: string[] = [];
  const walk = (n: TreeNode) => {
    if (n.host) { hosts.add(n.host); paths.push(n.path); }
    n.children.forEach(walk);
  };
  walk(root);
  return { hosts: [...hosts], paths };
}

/** The form: kind, target, agents (names, region, or those probing a target) and the kind's parameters. */
function taskForm(app: App, k: KindsReply): HTMLElement {
  if (!k.enabled) return note(tt('disabled'), 'error');
  const { hosts, paths } = targetsOf(app.tree);
  const kind = h('select', { name: 'kind' }, k.kinds.map((x) => h('option', { value: x.kind, title: x.summary }, x.kind)));
  const target = h('input', { name: 'target', list: 'task-hosts', required: true, autocomplete: 'off' });
  const names = app.agents.map((a) => h('label', { class: 'agent-check' }, h('input', { type: 'checkbox', name: 'agent', value: a.name }), a.name));
  const regions = [...new Set(app.agents.map((a) => a.region))];
  const region = h('select', { name: 'region' }, h('option', { value: '' }, tt('anyRegion')), regions.map((r) => h('option', { value: r }, r)));
  const probing = h('select', { name: 'probing' }, h('option', { value: '' }, tt('anyRegion')), paths.map((p) => h('option', { value: p }, p)));
  const paramsBox = h('div', { class: 'fields' });
  const msg = h('p', { class: 'form-msg', role: 'status' });
  const inputs = new Map<string, { el: HTMLInputElement | HTMLSelectElement; schema: ParamSchema }>();
  const drawParams = () => {
    inputs.clear();
    const info = k.kinds.find((x) => x.kind === kind.value)!;
    replace(paramsBox, Object.entries(info.params.properties).filter(([name]) => name !== 'host' && name !== 'url').map(([name, s]) => {
      let el: HTMLInputElement | HTMLSelectElement;
      if (s.enum) el = h('select', { name }, s.enum.map((v) => h('option', { value: v, selected: v === s.default }, v)));
      else if (s.type === 'boolean') el = h('input', { type: 'checkbox', name, checked: s.default === true });
      else el = h('input', { name, type: s.type === 'integer' || s.type === 'number' ? 'number' : 'text', step: s.type === 'number' ? 'any' : undefined,
        min: s.minimum, max: s.maximum, value: s.default === undefined ? '' : String(s.default) });
      inputs.set(name, { el, schema: s });
      return h('label', { class: 'field', title: s.description ?? '' }, h('span', {}, name), el);
    }));
  };
  kind.addEventListener('change', drawParams);
  drawParams();

  const submit = async (e: Event) => {
    e.preventDefault();
    const params: Record<string, unknown> = { [kind.value === 'http' ? 'url' : 'host']: target.value.trim() };
    for (const [name, { el, schema }] of inputs) {
      if (el instanceof HTMLInputElement && el.type === 'checkbox') params[name] = el.checked;
      else if (el.value !== '') params[name] = schema.type === 'integer' || schema.type === 'number' ? Number(el.value) : el.value;
    }
    const agents: TaskRequest['agents'] = {};
    const chosen = names.map((l) => l.querySelector('input')!).filter((i) => i.checked).map((i) => i.value);
    if (chosen.length) agents.names = chosen;
    if (region.value) agents.regions = [region.value];
    if (probing.value) agents.probing = probing.value;
    if (!chosen.length && !region.value && !probing.value) {
      msg.className = 'form-msg error';
      replace(msg, tt('chooseAgents'));
      return;
    }
    try {
      const rec = await taskApi.start({ kind: kind.value as TaskRequest['kind'], params, agents }, adminToken());
      location.hash = pageHref('tasks', { id: rec.id });
    } catch (err) {
      msg.className = 'form-msg error';
      replace(msg, actionError(err));
    }
  };
  const policy = [k.policy.targets ? tt('policyTargets') : '', ...k.policy.networks, ...k.policy.names].filter(Boolean).join(', ');
  return h('form', { class: 'task-form silence-form', onsubmit: (e: Event) => void submit(e) },
    h('datalist', { id: 'task-hosts' }, hosts.map((x) => h('option', { value: x }))),
    h('div', { class: 'fields' },
      h('label', { class: 'field' }, h('span', {}, tt('kindLabel')), kind),
      h('label', { class: 'field' }, h('span', {}, tt('targetLabel')), target),
      h('label', { class: 'field' }, h('span', {}, tt('byRegion')), region),
      h('label', { class: 'field' }, h('span', {}, tt('probing')), probing)),
    h('fieldset', { class: 'task-agents' }, h('legend', {}, tt('agentsLabel')), names),
    h('details', {}, h('summary', {}, tt('params')), paramsBox),
    h('p', { class: 'hint' }, tt('policy', { p: policy })),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, tt('start'))), msg);
}
