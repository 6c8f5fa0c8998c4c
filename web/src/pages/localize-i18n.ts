import { currentLang } from '../i18n.ts';

/** The localization page's strings, English and Simplified Chinese (kept beside the page; the navigation takes its title). */
const STR = {
  en: {
    title: 'Fault localization', none: 'No localization scope is configured (see docs/localize.md: the localize: section).',
    causes: 'Causes', noCauses: 'No cause: every bad series is explained or nothing is bad.', pending: 'pending', raised: 'raised',
    firstBad: 'first bad round', rule: 'rule', series: 'series bad', items: 'items bad', cells: 'cells bad', networks: 'seen bad by',
    peers: 'peers also bad', others: 'others bad', affected: 'affected', suppressed: 'target alerts suppressed', matrix: 'Matrix',
    timeline: 'Cause timeline (24 h)', noHistory: 'No cause in the last day.', cell: 'Series of', target: 'Target', agent: 'Agent',
    loss: 'loss', median: 'median', bad: 'bad', explained: 'explained by', counts: '{series} series judged, {bad} bad, {unexplained} unexplained, {excluded} excluded (whitelist, maintenance), {stale} stale, {unlabelled} unlabelled',
    roles: 'rows: {v} · columns: {d} · items: {i} · step {s} s · raise after {k} steps, clear after {c}', lastStep: 'last step',
    kind_vantage: 'vantage point (our probe)', kind_network: 'network', kind_destination: 'destination', kind_path: 'path', kind_region_pair: 'region pair', kind_cell: 'cell', kind_item: 'item',
    loading: 'Loading…', error: 'Error', since: 'since', cleared: 'cleared', ongoing: 'ongoing',
    trace: 'Evidence trace', traceFrom: 'mtr from {agents} to {target}', traceRunning: 'running…', hops: 'hop table', changed: 'changed',
  },
  zh: {
    title: '故障定位', none: '未配置定位范围（见 docs/localize.md 的 localize: 配置段）。',
    causes: '故障', noCauses: '没有故障：坏序列都已解释，或没有坏序列。', pending: '待确认', raised: '已告警',
    firstBad: '首个坏轮次', rule: '规则', series: '坏序列', items: '坏条目', cells: '坏单元', networks: '看到故障的网络',
    peers: '同单元也坏', others: '其他探针坏', affected: '影响', suppressed: '已抑制的目标告警', matrix: '矩阵',
    timeline: '故障时间线（24 小时）', noHistory: '最近一天没有故障。', cell: '序列：', target: '目标', agent: '探针',
    loss: '丢包', median: '中位数', bad: '坏', explained: '归因于', counts: '判定 {series} 个序列，{bad} 个坏，{unexplained} 个未解释，{excluded} 个排除（白名单、维护），{stale} 个过期，{unlabelled} 个缺标签',
    roles: '行：{v} · 列：{d} · 条目：{i} · 步长 {s} 秒 · 连续 {k} 步告警，{c} 步恢复', lastStep: '最近一步',
    kind_vantage: '探测点（我们的探针）', kind_network: '网络', kind_destination: '目的地', kind_path: '路径', kind_region_pair: '区域对', kind_cell: '单元', kind_item: '条目',
    loading: '加载中…', error: '错误', since: '开始于', cleared: '已恢复', ongoing: '持续中',
    trace: '证据路由追踪', traceFrom: '从 {agents} 到 {target} 的 mtr', traceRunning: '进行中…', hops: '逐跳表', changed: '变化',
  },
};
export type Str = typeof STR.en;
export const s = (): Str => (currentLang() === 'zh-CN' ? STR.zh : STR.en);
export const fill = (text: string, v: Record<string, string | number>) => text.replace(/\{(\w+)\}/g, (_m, k: string) => String(v[k] ?? ''));

/** The page's name in the navigation, in the current language. */
export function localizeLabel(): string {
  return s().title;
}

