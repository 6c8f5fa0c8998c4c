import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Exposition, escapeLabel, labelString } from '../src/export/exposition.ts';
import { ExportState, RTT_BOUNDS_S } from '../src/export/state.ts';
import { renderMetrics } from '../src/export/metrics.ts';
import { aggregateRegions } from '../src/plan/region.ts';
import { makeRound } from '../src/probes/round.ts';

test('label values are escaped as the text format requires', () => {
  assert.equal(escapeLabel('a"b\\c\nd'), 'a\\"b\\\\c\\nd');
  assert.equal(labelString({ target: '/G/"x"', agent: 'a' }), '{target="/G/\\"x\\"",agent="a"}');
});

test('histograms are cumulative, end in +Inf and count every RTT', () => {
  const state = new ExportState(() => 'eu', () => 'us');
  const now = Date.now();
  // 0.3 ms, 0.7 ms, 3 ms, 7 s (beyond the last bound).
  state.write([makeRound({ target: '/t', agent: 'a', probe: 'icmp', time: now, step: 60 }, { sent: 5, rtts: [0.3, 0.7, 3, 7000] })]);
  const h = state.series.get('/t\0a')!.hist;
  assert.deepEqual([...h.counts], [1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  const x = new Exposition().family('h', 'histogram', 'help').histogram('h', 'a="1"', RTT_BOUNDS_S, h.counts, h.sum).text();
  assert.match(x, /^h_bucket\{a="1",le="0.0005"\} 1$/m);
  assert.match(x, /^h_bucket\{a="1",le="0.001"\} 2$/m);
  assert.match(x, /^h_bucket\{a="1",le="0.005"\} 3$/m);
  assert.match(x, /^h_bucket\{a="1",le="5"\} 3$/m);
  assert.match(x, /^h_bucket\{a="1",le="\+Inf"\} 4$/m);
  assert.match(x, /^h_count\{a="1"\} 4$/m);
  assert.match(x, /^h_sum\{a="1"\} 7.004/m);
});

test('the page passes promtool and carries one sample per family and label set', () => {
  const now = Date.now();
  const state = new ExportState((a) => ({ a1: 'eu', a2: 'eu' } as Record<string, string>)[a], () => 'us');
  state.write([
    makeRound({ target: '/M/us/x', agent: 'a1', probe: 'icmp', time: now - 1000, step: 60 }, { sent: 4, rtts: [10, 11, 12, 13] }),
    makeRound({ target: '/M/us/x', agent: 'a2', probe: 'icmp', time: now - 1000, step: 60 }, { sent: 4, rtts: [20, 21] }),
    { ...makeRound({ target: '/W/us/site', agent: 'a1', probe: 'http', time: now - 1000, step: 60 }, { sent: 1, rtts: [], status: 500, error: 'status 500 "x"' }) },
  ]);
  const snapshot = aggregateRegions({ rounds: state.latest(), agents: new Map([['a1', 'eu'], ['a2', 'eu']]), targetRegion: () => 'us', now, withTargets: (p) => p === 'http' });
  const text = renderMetrics({
    state, snapshot, seriesHistograms: true, probeSelf: true, tasksEnabled: false, hostOf: (t) => `http://127.0.0.1${t}`,
    agents: [{ name: 'a1', region: 'eu', alive: true, builtin: false, ip: '10.0.0.1', version: '1.0' }, { name: 'a2', region: 'eu', alive: false, builtin: false }],
    health: { rounds_by_agent: { a1: 2, a2: 1 }, sink_errors: {}, store: { rounds_written: 3, refused: 0, write_failures: 0, unavailable: false, series: 3, file_bytes: 4096 }, notifier_failures: { slack: 2 } },
  });
  const check = spawnSync('/usr/bin/promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', shell: false });
  assert.doesNotMatch(check.stdout + check.stderr, /parsing error|error while linting/i);
  assert.match(text, /^prober_icmp_packet_loss_rate\{source_region="eu",target_region="us"\} 0.25$/m, 'tie of one ok and one bad agent: everyone pooled, 2 of 8 lost');
  assert.match(text, /^smokemesh_region_healthy\{probe="icmp",source_region="eu",target_region="us"\} 0.5$/m, 'a1 fine, a2 lost 50 %: a tie is degraded');
  // Each family's samples follow its own TYPE line (the text format's grouping rule).
  const order = text.split('\n').filter((line) => line && !line.startsWith('#')).map((line) => line.replace(/(_bucket|_sum|_count)?[{ ].*$/, ''));
  const seen = new Set<string>();
  for (let i = 0; i < order.length; i++) {
    if (i > 0 && order[i] !== order[i - 1]) assert.ok(!seen.has(order[i]!), `${order[i]} samples are split`);
    seen.add(order[i]!);
  }
  assert.match(text, /^prober_http_failed\{source_region="eu",target_region="us",target_addr="http:\/\/127.0.0.1\/W\/us\/site",failed_reason="status 500 \\"x\\""\} 1$/m);
  assert.match(text, /^prober_http_status_code\{.*\} 500$/m);
  assert.match(text, /^prober_agent_is_alive\{region="eu",ip="",version="",agent="a2"\} 0$/m);
  assert.match(text, /^prober_server_probe_self_enabled 1$/m);
  assert.match(text, /^smokemesh_notifier_failures_total\{channel="slack"\} 2$/m);
  assert.match(text, /^smokemesh_series_loss_ratio\{target="\/M\/us\/x",agent="a2",probe="icmp"\} 0.5$/m);
});
