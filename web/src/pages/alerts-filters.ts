import { h } from '../dom.ts';
import { t, type Key } from '../i18n.ts';
import { pageHref } from '../route.ts';
import { timeInput, timeInputValue } from '../time-input.ts';

/** Rows per page of the history and the deliveries. */
export const PAGE_SIZE = 50;

/** A filter field: a text box (with suggestions), a choice, or a time. */
export interface Field {
  name: string;
  label: Key;
  kind: 'text' | 'select' | 'time';
  options?: { value: string; label: string }[];
  suggestions?: string[];
}

/**
 * A list's filters and page as they stand in the URL (`<prefix>.<field>=…`, `<prefix>.page=N`),
 * and the API query they make (times in ms, offset from the page).
 */
export function listState(params: URLSearchParams, prefix: string, fields: Field[]): { values: Record<string, string>; page: number; query: Record<string, string | number> } {
  const values: Record<string, string> = {};
  const query: Record<string, string | number> = {};
  for (const f of fields) {
    const v = params.get(`${prefix}.${f.name}`);
    if (!v) continue;
    values[f.name] = v;
    query[f.name] = f.kind === 'time' ? Number(v) : v;
  }
  const page = Math.max(1, Math.floor(Number(params.get(`${prefix}.page`)) || 1));
  return { values, page, query: { ...query, limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE } };
}

/** The URL of the alerts page with one list's filters and page changed, the rest kept. */
function withList(params: URLSearchParams, prefix: string, values: Record<string, string>, page: number): string {
  const next: Record<string, string> = {};
  for (const [k, v] of params) if (!k.startsWith(`${prefix}.`)) next[k] = v;
  for (const [k, v] of Object.entries(values)) if (v) next[`${prefix}.${k}`] = v;
  if (page > 1) next[`${prefix}.page`] = String(page);
  return pageHref('alerts', next);
}

/** The filter form of a list: applying it goes to its first page; Reset clears it. */
export function filterForm(params: URLSearchParams, prefix: string, fields: Field[]): HTMLElement {
  const { values } = listState(params, prefix, fields);
  const inputs = fields.map((f) => {
    let input: HTMLInputElement | HTMLSelectElement;
    if (f.kind === 'select') {
      input = h('select', { name: f.name }, h('option', { value: '' }, t('any')), (f.options ?? []).map((o) => h('option', { value: o.value }, o.label)));
      input.value = values[f.name] ?? '';
    } else if (f.kind === 'time') {
      input = timeInput(f.name, values[f.name] ? Number(values[f.name]) : undefined, t(f.label));
    } else {
      const list = f.suggestions?.length ? `${prefix}-${f.name}-list` : undefined;
      input = h('input', { name: f.name, autocomplete: 'off', value: values[f.name] ?? '', ...(list ? { list } : {}) });
    }
    return { f, input };
  });
  const form = h('form', {
    class: 'list-filter', 'data-list': prefix,
    onsubmit: (e: Event) => {
      e.preventDefault();
      const next: Record<string, string> = {};
      for (const { f, input } of inputs) {
        const v = input.value.trim();
        if (!v) continue;
        const ms = f.kind === 'time' ? timeInputValue(input as HTMLInputElement) : NaN;
        if (f.kind === 'time' && !Number.isFinite(ms)) continue;
        next[f.name] = f.kind === 'time' ? String(ms) : v;
      }
      location.hash = withList(params, prefix, next, 1);
    },
  },
  inputs.map(({ f, input }) => h('label', { class: 'field' }, h('span', {}, t(f.label)), input,
    f.suggestions?.length ? h('datalist', { id: `${prefix}-${f.name}-list` }, f.suggestions.map((s) => h('option', { value: s }))) : null)),
  h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('filter')),
    h('a', { href: withList(params, prefix, {}, 1), class: 'reset' }, t('reset'))));
  return form;
}

/** "1–50 of 1,234" with links to the newer and older pages. */
export function pager(params: URLSearchParams, prefix: string, fields: Field[], total: number): HTMLElement {
  const { values, page } = listState(params, prefix, fields);
  const first = total ? (page - 1) * PAGE_SIZE + 1 : 0;
  const last = Math.min(total, page * PAGE_SIZE);
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  return h('nav', { class: 'pager', 'data-list': prefix, 'data-total': total, 'data-page': page },
    page > 1 ? h('a', { href: withList(params, prefix, values, page - 1), class: 'newer' }, `‹ ${t('newer')}`) : h('span', { class: 'newer disabled' }, `‹ ${t('newer')}`),
    h('span', { class: 'range' }, t('rowsOf', { a: first, b: last, n: total.toLocaleString() })),
    page < pages ? h('a', { href: withList(params, prefix, values, page + 1), class: 'older' }, `${t('older')} ›`) : h('span', { class: 'older disabled' }, `${t('older')} ›`));
}
