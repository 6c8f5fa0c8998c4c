// Screenshots of the UI over 30 days of synthetic history (for the README and docs/ui.md):
// `npx tsx test/e2e/screenshots.ts` writes docs/screenshots/*.png. The end-to-end test saves
// live-*.png from a real server when run with SMOKEMESH_SCREENSHOTS=1.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startDevServer } from './dev-server.ts';
import { demoConfig, demoRounds } from './demo-data.ts';
import { launchChromium } from './browser.ts';
import { ensureWebBuilt } from './real-server.ts';

const out = join(import.meta.dirname, '../../docs/screenshots');
mkdirSync(out, { recursive: true });
ensureWebBuilt();
const now = Date.now();
const srv = await startDevServer({
  configYaml: demoConfig(4, 300),
  rounds: demoRounds(4, now - 30 * 86_400_000, now, 300),
  agents: [
    { name: 'local', region: 'cn-east', location: 'Shanghai', labels: {}, addresses: ['127.0.0.1'], alive: true, builtin: true, version: '0.1.0', last_seen: now - 4000 },
    { name: 'tokyo', region: 'jp', labels: {}, addresses: ['127.0.0.9'], alive: true, builtin: false, color: '#ff8800', version: '0.1.0', last_seen: now - 31_000 },
  ],
});
const browser = await launchChromium();
async function shot(name: string, hash: string, ready: string, opts: { width?: number; height?: number; lang?: string; theme?: string; full?: boolean } = {}) {
  const ctx = await browser.newContext({ viewport: { width: opts.width ?? 1280, height: opts.height ?? 860 }, deviceScaleFactor: opts.width && opts.width < 500 ? 2 : 1 });
  await ctx.addInitScript(([lang, theme]) => {
    localStorage.setItem('smokemesh.lang', lang!);
    localStorage.setItem('smokemesh.theme', theme!);
  }, [opts.lang ?? 'en', opts.theme ?? 'light']);
  const page = await ctx.newPage();
  await page.goto(`${srv.url}/${hash}`);
  await page.waitForSelector(ready, { timeout: 30_000 });
  await page.screenshot({ path: join(out, `${name}.png`), fullPage: opts.full ?? false });
  await ctx.close();
  console.log(`${name}.png`);
}
await shot('overview', '#/', '.overview[data-state=ready]');
await shot('detail', '#/t/Backbone/t1?agents=local', '.graphs[data-state=ready]', { full: true });
await shot('detail-overlay-10d', '#/t/Backbone/t0?range=10d', '.graphs[data-state=ready]');
await shot('detail-dark-zh', `#/t/${encodeURIComponent('华东 East')}/${encodeURIComponent('t1-上海')}?range=3h`, '.graphs[data-state=ready]', { lang: 'zh-CN', theme: 'dark' });
await shot('http', '#/t/Web/t0?range=3h&view=split', '.graphs[data-state=ready]', { full: true });
await shot('charts', '#/charts?range=3h', '.chart-sections[data-state=ready]');
await shot('compare', `#/compare?s=${encodeURIComponent('/Backbone/t0')}~local&s=${encodeURIComponent('/Backbone/t0')}~tokyo&s=${encodeURIComponent('/Backbone/t2')}~local&range=30h`, '.graphs[data-state=ready]');
await shot('mobile', '#/t/Backbone', '.overview[data-state=ready]', { width: 375, height: 760 });
await browser.close();
await srv.close();
