// Side-by-side graphs for docs/migrate.md: `npx tsx test/e2e/migrate-screenshots.ts` makes a
// SmokePing RRD with 361 days of synthetic rounds (a daily cycle, a route change 120 days
// ago, three lossy days 40 days ago, a 6-hour outage 5 days ago), has Debian's SmokePing CGI
// draw its detail graphs (in a namespace with only loopback), imports it with
// `smokemesh import-smokeping`, starts a smokemesh server on the result and screenshots the
// same target's 10-day and 360-day graphs. Writes docs/screenshots/migrate-*.png.
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig } from '../../src/server/config-sections.ts';
import { importSmokeping } from '../../src/import/smokeping/run.ts';
import { IsolatedNamespace, makeSmokepingRrd, smokepingConfig } from '../../src/import/smokeping/testkit.ts';
import { launchChromium } from './browser.ts';
import { ensureWebBuilt } from './real-server.ts';

const ROOT = join(import.meta.dirname, '../..');
const out = join(ROOT, 'docs/screenshots');
const dir = mkdtempSync(join(tmpdir(), 'smokemesh-migrate-shots-'));
const sp = join(dir, 'smokeping');
for (const d of ['data/Demo', 'cache', 'pid']) mkdirSync(join(sp, d), { recursive: true });
const DAY = 86400;
const end = Math.floor(Date.now() / 1000);

let seed = 42;
const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
await makeSmokepingRrd(join(sp, 'data/Demo/site.rrd'), {
  end, days: 361,
  round: (t) => {
    const age = (end - t) / DAY;
    const hour = new Date(t * 1000).getUTCHours();
    const busy = hour >= 1 && hour <= 14 ? 6 * Math.sin(((hour - 1) / 13) * Math.PI) : 0;
    const base = 18 + busy + (age < 120 ? 12 : 0);
    if (age > 4.75 && age < 5) return []; // outage
    const lossy = age > 40 && age < 43 ? 0.15 : 0.002;
    const rtts: number[] = [];
    for (let i = 0; i < 20; i++) if (rand() >= lossy) rtts.push(base + rand() * 3 + (rand() < 0.1 ? rand() * 25 : 0));
    return rtts;
  },
});
writeFileSync(join(sp, 'config'), smokepingConfig({ dir: sp, targets: `menu = Top
title = Demo
+ Demo
menu = Demo
title = Demo
++ site
menu = site
title = Imported site
host = 127.0.0.1
` }));

// SmokePing's own detail page draws the PNGs into imgcache.
const ns = new IsolatedNamespace();
try {
  ns.run('env', ['-i', 'PATH=/usr/bin:/bin', 'REQUEST_METHOD=GET', 'QUERY_STRING=target=Demo.site', 'SCRIPT_NAME=/smokeping.cgi',
    'SERVER_NAME=127.0.0.1', 'SERVER_PORT=80', 'GATEWAY_INTERFACE=CGI/1.1', '/usr/share/smokeping/smokeping.cgi', join(sp, 'config')], { cwd: sp });
} finally {
  ns.remove();
}
copyFileSync(join(sp, 'cache/Demo/site_last_864000.png'), join(out, 'migrate-smokeping-10d.png'));
copyFileSync(join(sp, 'cache/Demo/site_last_31104000.png'), join(out, 'migrate-smokeping-360d.png'));

const mesh = join(dir, 'mesh', 'smokemesh.yaml');
const summary = await importSmokeping({ config: join(sp, 'config'), out: mesh, agentName: 'smokeping', check: validateConfig });
console.log(`imported: ${summary.raw} raw rounds, buckets ${JSON.stringify(summary.buckets)}`);

ensureWebBuilt();
const server = spawn(process.execPath, [join(ROOT, 'bin/smokemesh.js'), 'server', '--config', mesh, '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
const url = await new Promise<string>((resolve, reject) => {
  let text = '';
  const timer = setTimeout(() => reject(new Error(`server did not start:\n${text}`)), 30_000);
  const onData = (b: Buffer) => {
    text += b.toString();
    for (const line of text.split('\n')) {
      try {
        const rec = JSON.parse(line) as { url?: string };
        if (rec.url) { clearTimeout(timer); resolve(rec.url); return; }
      } catch { /* not JSON */ }
    }
  };
  server.stdout!.on('data', onData);
  server.stderr!.on('data', onData);
});
const browser = await launchChromium();
try {
  for (const range of ['10d', '360d']) {
    const ctx = await browser.newContext({ viewport: { width: 1100, height: 620 } });
    await ctx.addInitScript(() => { localStorage.setItem('smokemesh.lang', 'en'); localStorage.setItem('smokemesh.theme', 'light'); });
    const page = await ctx.newPage();
    await page.goto(`${url}/#/t/Demo/site?range=${range}&agents=smokeping`);
    await page.waitForSelector('.graphs[data-state=ready]', { timeout: 30_000 });
    await page.screenshot({ path: join(out, `migrate-smokemesh-${range}.png`) });
    await ctx.close();
    console.log(`migrate-smokemesh-${range}.png`);
  }
} finally {
  await browser.close();
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
}
