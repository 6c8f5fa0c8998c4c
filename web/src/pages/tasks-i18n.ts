import { currentLang } from '../i18n.ts';

/** The tasks page's strings, English and Simplified Chinese (kept beside the page). */
const en = {
  tasks: 'Tasks', newTask: 'New task', task: 'Task', kindLabel: 'Kind', targetLabel: 'Target (host, address or URL)',
  agentsLabel: 'Agents', byName: 'By name', byRegion: 'Region', probing: 'Agents probing target', anyRegion: '—',
  params: 'Parameters', start: 'Start', started: 'Task started.', recent: 'Recent tasks', none: 'No tasks yet',
  created: 'Created', by: 'Started by', state: 'State', results: 'Results', origin: 'Origin',
  hop: 'Hop', host: 'Host', lossPct: 'Loss %', sent: 'Sent', last: 'Last', avg: 'Avg', best: 'Best', worst: 'Worst', stdev: 'StDev',
  probes: 'Probes', waiting: 'waiting for the agent…', disabled: 'Tasks are disabled on this server (tasks.enabled: false).',
  policy: 'Allowed hosts: {p}', policyTargets: 'configured targets and their addresses', chooseAgents: 'Choose at least one agent, a region or a target.',
  traces: 'Path traces', allTasks: 'All tasks', back: '← tasks',
};
const zh: Record<keyof typeof en, string> = {
  tasks: '任务', newTask: '新任务', task: '任务', kindLabel: '类型', targetLabel: '目标（主机、地址或 URL）',
  agentsLabel: '探针', byName: '按名称', byRegion: '区域', probing: '探测此目标的探针', anyRegion: '—',
  params: '参数', start: '开始', started: '任务已开始。', recent: '最近的任务', none: '还没有任务',
  created: '创建时间', by: '发起者', state: '状态', results: '结果', origin: '来源',
  hop: '跳', host: '主机', lossPct: '丢包 %', sent: '发送', last: '最近', avg: '平均', best: '最好', worst: '最差', stdev: '标准差',
  probes: '探测', waiting: '等待探针…', disabled: '此服务器已关闭任务（tasks.enabled: false）。',
  policy: '允许的主机：{p}', policyTargets: '配置中的目标及其地址', chooseAgents: '请至少选择一个探针、区域或目标。',
  traces: '路径追踪', allTasks: '全部任务', back: '← 任务',
};
export type TaskKey = keyof typeof en;

/** A string of the tasks page in the current language, `{name}` filled. */
export function tt(key: TaskKey, vars: Record<string, string | number> = {}): string {
  const dict = currentLang() === 'zh-CN' ? zh : en;
  return dict[key].replace(/\{(\w+)\}/g, (_, k: string) => String(vars[k] ?? ''));
}
