/** English and Simplified Chinese strings; the choice is remembered in localStorage. */
const en = {
  overview: 'Overview', charts: 'Charts', agents: 'Agents', regions: 'Regions', alerts: 'Alerts', search: 'Search',
  searchPlaceholder: 'Search name, host, label…', targets: 'Targets', theme: 'Theme', light: 'Light', dark: 'Dark',
  last3h: 'Last 3 Hours', last30h: 'Last 30 Hours', last10d: 'Last 10 Days', last360d: 'Last 360 Days', custom: 'Custom',
  from: 'From', to: 'To', apply: 'Apply', resetZoom: 'Reset zoom', loading: 'Loading…', noData: 'No data yet',
  notFound: 'Not found', error: 'Error', median: 'median', loss: 'loss', avg: 'avg', min: 'min', max: 'max', now: 'now',
  stddev: 'std dev', pingsEvery: '{n} pings every {s} s', agent: 'Agent', target: 'Target', value: 'Value',
  region: 'Region', address: 'Address', version: 'Version', lastSeen: 'Last seen', alive: 'Alive', yes: 'yes', no: 'no',
  upgrade: 'Upgrade', rollout: 'Rollout {id} of {version}: {state}, wave {wave} of {waves}',
  ro_pause: 'Pause', ro_resume: 'Resume', ro_abort: 'Abort', ro_rollback: 'Roll back',
  roConfirm: '{action} rollout {id} of {version}?', roDone: 'Rollout {id}: {state}.',
  newRollout: 'New rollout', roVersion: 'Version', roCanary: 'Canary (agents or %)', roBatch: 'Batches (agents or %)',
  roWait: 'Healthy for (s)', roRegions: 'Regions (comma-separated, empty: all)', roStart: 'Start rollout',
  roHint: 'Releases are uploaded with `smokemesh release upload` or the API; the canary goes first, then the batches, each once the previous is healthy.',
  never: 'never', noAlerts: 'No alerts', alertsUnavailable: 'The alert engine is not enabled on this server.',
  topLoss: 'Top loss', topMedian: 'Top median', topMax: 'Top max', topStddev: 'Top std dev',
  lastRound: 'Last round', lastHour: 'Last hour', overlay: 'Overlay', perAgent: 'Per agent', view: 'View',
  phases: 'HTTP phases', status: 'Status codes', rounds: 'rounds', sent: 'sent', lost: 'lost', results: 'results',
  noResults: 'No matching targets', menu: 'Menu', state: 'State',
  since: 'Since', message: 'Message', hidden: 'hidden', probe: 'Probe', host: 'Host', time: 'Time',
  dragToZoom: 'Drag across a graph to zoom; double-click to go back to the range', matching: 'matching', resolution: 'resolution', group: 'Group', language: 'Language',
  // Alerts page
  activeAlerts: 'Active alerts', channels: 'Channels', channel: 'Channel', kind: 'Kind', queued: 'Queued',
  lastOk: 'Last sent', lastError: 'Last error', failedAttempts: 'Failed attempts', failing: 'failing', ok: 'ok',
  busy: 'sending', noChannels: 'No channels configured', history: 'History', noHistory: 'No alert events yet',
  deliveries: 'Deliveries', noDeliveries: 'No deliveries yet', attempts: 'Attempts', retried: 'retried ×{n}',
  event: 'Event', muted: 'Muted', attemptLog: 'Attempts', alertName: 'Alert',
  ev_raised: 'raised', ev_cleared: 'cleared', ev_firing: 'firing', ev_updated: 'updated',
  ds_pending: 'pending', ds_sent: 'sent', ds_failed: 'failed', ds_silenced: 'silenced', ds_suppressed: 'suppressed', ds_held: 'held',
  ao_sent: 'sent', ao_retry: 'retry', ao_failed: 'failed',
  silencedBy: 'silenced: {c}', priorityMuted: 'suppressed by priority',
  silences: 'Silences', newSilence: 'New silence', silenceTarget: 'Target path (glob)',
  silenceTargetHint: '* within a segment, ** across: /Core/**', labelsField: 'Labels (key=value, …)', any: 'any',
  anyAlert: 'any alert', startsAt: 'Starts', endsAt: 'Ends', comment: 'Comment', createSilence: 'Create silence',
  expire: 'Expire', expired: 'Expired', silenceActive: 'active', silenceScheduled: 'scheduled', matchers: 'Matches',
  noSilences: 'No active or scheduled silences', silenceCreated: 'Silence created.', silenceExpired: 'Silence expired.',
  badLabels: 'Labels: write key=value pairs separated by commas.',
  badTime: 'Give a valid start and end; the end must be after the start.',
  needMatcher: 'Give at least one of target, agent, alert or labels.',
  adminToken: 'Admin token', tokenSet: 'set (…{tail})', tokenUnset: 'not set', save: 'Save', clear: 'Clear',
  tokenHint: 'Needed for actions that change state (silences, tasks, rollouts); kept in this browser only. On the server it is in <data_dir>/admin.token.',
  tokenRequired: 'The server needs the admin token for this: enter it under "Admin token" (the file <data_dir>/admin.token on the server).',
  tokenRejected: 'The server refused the admin token: check it under "Admin token".',
  // Detail, compare, charts, time
  allRanges: 'All ranges', zoom: 'Zoom', compare: 'Compare', compareEmpty: 'Pick targets above: each median gets its own colour on one graph.',
  add: 'Add', remove: 'Remove', allAgents: 'all agents', targetPath: 'Target path', shareLink: 'Link to this comparison',
  overlayColors: 'Overlay, agent colours', savePng: 'Save the graph as PNG (legend included)', saveCsv: 'Save the data as CSV',
  lossKey: 'loss (lost of {n} pings):', tierRaw: 'raw rounds', tierBuckets: 'buckets',
  unitSec: 's', unitMin: 'min', unitHour: 'h', unitDay: 'd',
  spanMinutes: 'Last {n} Minutes', spanHours: 'Last {n} Hours', spanDays: 'Last {n} Days', spanWeeks: 'Last {n} Weeks', spanYears: 'Last {n} Years',
  timeZone: 'Time zone', zoneBrowser: 'Browser', zoneServer: 'Server',
  failures: 'Failures', statusAndFailures: 'Status codes and failures', result: 'Result', lastSeenAt: 'Last',
  replies: 'replies', answered: 'answered', noReply: 'no reply (timeout)', failedNoReason: 'failed (no reason given)',
  topChange: 'Largest change', overSpan: 'Last {span}',
  sortLoss: 'Highest average loss over the last {span}.', sortMedian: 'Highest average median over the last {span}.',
  sortStddev: 'Most jitter (std dev of the RTTs) over the last {span}.', sortChange: 'Median of the last {span} against the {span} before: the largest moves either way (graphs show both periods).',
  sortMax: 'Highest single RTT over the last {span}.',
  // Agents, alerts lists, access
  moreAddresses: '+{n} more', forDuration: 'for {d}', filter: 'Filter', reset: 'Reset', newer: 'Newer', older: 'Older', previousPage: 'Previous', nextPage: 'Next',
  rowsOf: '{a}–{b} of {n}',
  authRequired: 'This server needs you to sign in before it shows anything (HTTP 401). Sign in, or ask its operator for access.',
  exportTitle: 'Export', exportLine: '{to}: {sent} sent, {dropped} dropped, {failed} failed requests, {pending} waiting',
  lastErrorIs: 'last error: {e}',
};
export type Key = keyof typeof en;

const zh: Record<Key, string> = {
  overview: '概览', charts: '排行', agents: '探针', regions: '区域', alerts: '告警', search: '搜索',
  searchPlaceholder: '搜索名称、主机、标签…', targets: '目标', theme: '主题', light: '浅色', dark: '深色',
  last3h: '最近 3 小时', last30h: '最近 30 小时', last10d: '最近 10 天', last360d: '最近 360 天', custom: '自定义',
  from: '开始', to: '结束', apply: '应用', resetZoom: '重置缩放', loading: '加载中…', noData: '暂无数据',
  notFound: '未找到', error: '错误', median: '中位数', loss: '丢包', avg: '平均', min: '最小', max: '最大', now: '当前',
  stddev: '标准差', pingsEvery: '每 {s} 秒 {n} 次探测', agent: '探针', target: '目标', value: '数值',
  region: '区域', address: '地址', version: '版本', lastSeen: '最后上报', alive: '在线', yes: '是', no: '否',
  upgrade: '升级', rollout: '发布 {id}（{version}）：{state}，第 {wave}/{waves} 批',
  ro_pause: '暂停', ro_resume: '继续', ro_abort: '中止', ro_rollback: '回滚',
  roConfirm: '对发布 {id}（{version}）执行“{action}”？', roDone: '发布 {id}：{state}。',
  newRollout: '新建发布', roVersion: '版本', roCanary: '金丝雀（台数或 %）', roBatch: '每批（台数或 %）',
  roWait: '健康持续（秒）', roRegions: '区域（逗号分隔，留空为全部）', roStart: '开始发布',
  roHint: '用 `smokemesh release upload` 或 API 上传版本；先升级金丝雀，再逐批升级，每批在前一批健康后开始。',
  never: '从未', noAlerts: '没有告警', alertsUnavailable: '此服务器未启用告警引擎。',
  topLoss: '丢包最高', topMedian: '中位延迟最高', topMax: '最大延迟最高', topStddev: '抖动最大',
  lastRound: '最近一轮', lastHour: '最近一小时', overlay: '叠加', perAgent: '分探针', view: '视图',
  phases: 'HTTP 阶段', status: '状态码', rounds: '轮', sent: '发送', lost: '丢失', results: '结果',
  noResults: '没有匹配的目标', menu: '菜单', state: '状态',
  since: '开始于', message: '消息', hidden: '隐藏', probe: '探测', host: '主机', time: '时间',
  dragToZoom: '在图上拖动可缩放；双击回到原来的范围', matching: '持续匹配', resolution: '分辨率', group: '分组', language: '语言',
  activeAlerts: '当前告警', channels: '通知渠道', channel: '渠道', kind: '类型', queued: '排队',
  lastOk: '最近成功', lastError: '最近错误', failedAttempts: '失败次数', failing: '失败中', ok: '正常',
  busy: '发送中', noChannels: '未配置通知渠道', history: '历史', noHistory: '暂无告警事件',
  deliveries: '投递记录', noDeliveries: '暂无投递', attempts: '尝试次数', retried: '重试 {n} 次',
  event: '事件', muted: '静默', attemptLog: '尝试记录', alertName: '告警规则',
  ev_raised: '触发', ev_cleared: '恢复', ev_firing: '持续', ev_updated: '更新',
  ds_pending: '等待中', ds_sent: '已发送', ds_failed: '失败', ds_silenced: '已静默', ds_suppressed: '已抑制', ds_held: '等待判定',
  ao_sent: '成功', ao_retry: '重试', ao_failed: '失败',
  silencedBy: '已静默：{c}', priorityMuted: '因优先级抑制',
  silences: '静默', newSilence: '新建静默', silenceTarget: '目标路径（通配）',
  silenceTargetHint: '* 匹配一级，** 匹配多级：/Core/**', labelsField: '标签（键=值，…）', any: '任意',
  anyAlert: '任意告警', startsAt: '开始', endsAt: '结束', comment: '备注', createSilence: '创建静默',
  expire: '使失效', expired: '已失效', silenceActive: '生效中', silenceScheduled: '未开始', matchers: '匹配条件',
  noSilences: '没有生效中或计划中的静默', silenceCreated: '静默已创建。', silenceExpired: '静默已失效。',
  badLabels: '标签格式：键=值，用逗号分隔。',
  badTime: '请填写有效的开始与结束时间，结束须晚于开始。',
  needMatcher: '请至少填写目标、探针、告警规则或标签之一。',
  adminToken: '管理令牌', tokenSet: '已设置（…{tail}）', tokenUnset: '未设置', save: '保存', clear: '清除',
  tokenHint: '执行改变状态的操作（静默、任务、发布）时需要；只保存在此浏览器中。服务器上位于 <data_dir>/admin.token。',
  tokenRequired: '此操作需要管理令牌：请在“管理令牌”中填写（服务器上的 <data_dir>/admin.token 文件）。',
  tokenRejected: '服务器拒绝了此管理令牌，请在“管理令牌”中检查。',
  allRanges: '全部范围', zoom: '缩放', compare: '对比', compareEmpty: '在上方选择目标：每条中位线各用一种颜色画在同一张图上。',
  add: '添加', remove: '移除', allAgents: '全部探针', targetPath: '目标路径', shareLink: '此对比的链接',
  overlayColors: '叠加（探针颜色）', savePng: '保存图为 PNG（含图例）', saveCsv: '保存数据为 CSV',
  lossKey: '丢包（{n} 次探测中丢失）：', tierRaw: '原始数据', tierBuckets: '汇总',
  unitSec: '秒', unitMin: '分钟', unitHour: '小时', unitDay: '天',
  spanMinutes: '最近 {n} 分钟', spanHours: '最近 {n} 小时', spanDays: '最近 {n} 天', spanWeeks: '最近 {n} 周', spanYears: '最近 {n} 年',
  timeZone: '时区', zoneBrowser: '浏览器', zoneServer: '服务器',
  failures: '失败', statusAndFailures: '状态码与失败', result: '结果', lastSeenAt: '最近一次',
  replies: '有回复', answered: '有应答', noReply: '无回复（超时）', failedNoReason: '失败（无原因）',
  topChange: '变化最大', overSpan: '最近 {span}',
  sortLoss: '最近 {span} 平均丢包最高。', sortMedian: '最近 {span} 平均中位延迟最高。',
  sortStddev: '最近 {span} 抖动（RTT 标准差）最大。', sortChange: '最近 {span} 的中位延迟与之前 {span} 相比变化最大（图中包含两个时段）。',
  sortMax: '最近 {span} 单次 RTT 最高。',
  moreAddresses: '另外 {n} 个', forDuration: '持续 {d}', filter: '筛选', reset: '重置', newer: '较新', older: '较早', previousPage: '上一页', nextPage: '下一页',
  rowsOf: '第 {a}–{b} 条，共 {n} 条',
  authRequired: '此服务器需要先登录才能查看（HTTP 401）。请登录，或向管理员申请访问权限。',
  exportTitle: '数据导出', exportLine: '{to}：已发送 {sent}，丢弃 {dropped}，失败请求 {failed}，等待 {pending}',
  lastErrorIs: '最近错误：{e}',
};

export type Lang = 'en' | 'zh-CN';
const dicts: Record<Lang, Record<Key, string>> = { en, 'zh-CN': zh };

let lang: Lang = readLang();

function readLang(): Lang {
  // Outside a browser (the UI's logic tested in Node): English.
  if (typeof localStorage === 'undefined') return 'en';
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
