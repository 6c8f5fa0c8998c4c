/** English and Simplified Chinese strings; the choice is remembered in localStorage. */
const en = {
  overview: 'Overview', charts: 'Charts', agents: 'Agents', alerts: 'Alerts', search: 'Search',
  searchPlaceholder: 'Search name, host, label…', targets: 'Targets', theme: 'Theme', light: 'Light', dark: 'Dark',
  last3h: 'Last 3 Hours', last30h: 'Last 30 Hours', last10d: 'Last 10 Days', last360d: 'Last 360 Days', custom: 'Custom',
  from: 'From', to: 'To', apply: 'Apply', resetZoom: 'Reset zoom', loading: 'Loading…', noData: 'No data yet',
  notFound: 'Not found', error: 'Error', median: 'median', loss: 'loss', avg: 'avg', min: 'min', max: 'max', now: 'now',
  stddev: 'std dev', pingsEvery: '{n} pings every {s} s', agent: 'Agent', target: 'Target', value: 'Value',
  region: 'Region', address: 'Address', version: 'Version', lastSeen: 'Last seen', alive: 'Alive', yes: 'yes', no: 'no',
  never: 'never', noAlerts: 'No alerts', alertsUnavailable: 'The alert engine is not enabled on this server.',
  topLoss: 'Top loss', topMedian: 'Top median', topMax: 'Top max', topStddev: 'Top std dev',
  lastRound: 'Last round', lastHour: 'Last hour', overlay: 'Overlay', perAgent: 'Per agent', view: 'View',
  phases: 'HTTP phases', status: 'Status codes', rounds: 'rounds', sent: 'sent', lost: 'lost', results: 'results',
  noResults: 'No matching targets', moreTargets: '{n} more targets not shown', menu: 'Menu', state: 'State',
  since: 'Since', message: 'Message', hidden: 'hidden', probe: 'Probe', host: 'Host', time: 'Time',
  dragToZoom: 'Drag to zoom, double-click to reset', matching: 'matching', resolution: 'resolution', group: 'Group', language: 'Language',
};
export type Key = keyof typeof en;

const zh: Record<Key, string> = {
  overview: '概览', charts: '排行', agents: '探针', alerts: '告警', search: '搜索',
  searchPlaceholder: '搜索名称、主机、标签…', targets: '目标', theme: '主题', light: '浅色', dark: '深色',
  last3h: '最近 3 小时', last30h: '最近 30 小时', last10d: '最近 10 天', last360d: '最近 360 天', custom: '自定义',
  from: '开始', to: '结束', apply: '应用', resetZoom: '重置缩放', loading: '加载中…', noData: '暂无数据',
  notFound: '未找到', error: '错误', median: '中位数', loss: '丢包', avg: '平均', min: '最小', max: '最大', now: '当前',
  stddev: '标准差', pingsEvery: '每 {s} 秒 {n} 次探测', agent: '探针', target: '目标', value: '数值',
  region: '区域', address: '地址', version: '版本', lastSeen: '最后上报', alive: '在线', yes: '是', no: '否',
  never: '从未', noAlerts: '没有告警', alertsUnavailable: '此服务器未启用告警引擎。',
  topLoss: '丢包最高', topMedian: '中位延迟最高', topMax: '最大延迟最高', topStddev: '抖动最大',
  lastRound: '最近一轮', lastHour: '最近一小时', overlay: '叠加', perAgent: '分探针', view: '视图',
  phases: 'HTTP 阶段', status: '状态码', rounds: '轮', sent: '发送', lost: '丢失', results: '结果',
  noResults: '没有匹配的目标', moreTargets: '还有 {n} 个目标未显示', menu: '菜单', state: '状态',
  since: '开始于', message: '消息', hidden: '隐藏', probe: '探测', host: '主机', time: '时间',
  dragToZoom: '拖动缩放，双击复原', matching: '持续匹配', resolution: '分辨率', group: '分组', language: '语言',
};

export type Lang = 'en' | 'zh-CN';
const dicts: Record<Lang, Record<Key, string>> = { en, 'zh-CN': zh };

let lang: Lang = readLang();

function readLang(): Lang {
  const saved = localStorage.getItem('smokemesh.lang');
  if (saved === 'en' || saved === 'zh-CN') return saved;
  return navigator.language.toLowerCase().startsWith('zh') ? 'zh-CN' : 'en';
}

/** The current language. */
export function currentLang(): Lang {
  return lang;
}

/** Switches the language and remembers it. */
export function setLang(l: Lang): void {
  lang = l;
  localStorage.setItem('smokemesh.lang', l);
  document.documentElement.lang = l;
}

/** The string for a key in the current language, with `{name}` placeholders filled. */
export function t(key: Key, vars: Record<string, string | number> = {}): string {
  return dicts[lang][key].replace(/\{(\w+)\}/g, (_, k: string) => String(vars[k] ?? ''));
}
