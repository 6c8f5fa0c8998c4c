import { chromium, type Browser, type Page } from 'playwright-core';

/**
 * Chromium flags that keep it quiet and off the network. Even with background networking off,
 * Chromium looks up Google's hosts (autofill, accounts, component updates) through the machine's
 * DNS server; the resolver rule answers every name "not found" inside the browser, so nothing
 * leaves this machine. The rules apply to IP literals too, hence the loopback exclusions (pages
 * are opened at 127.0.0.1); a failed lookup would also start Chromium's DNS probe, which asks
 * public resolvers about google.com.
 */
export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', '--disable-default-apps', '--disable-extensions',
  '--disable-features=AutofillServerCommunication,OptimizationHints,MediaRouter,Translate',
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE [::1]',
];

/** Debian's chromium, headless, with CHROMIUM_ARGS. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

/** How a test page is opened: window width, language, theme, time zone of the browser and of the page. */
export interface OpenOptions {
  width?: number;
  lang?: 'en' | 'zh-CN';
  theme?: 'light' | 'dark';
  /** The browser's own time zone (Chromium's emulation). */
  timezoneId?: string;
  /** The page's time zone setting (browser, server, UTC). */
  zone?: string;
  /** Device pixels per CSS pixel (a phone's 2 or 3). */
  scale?: number;
}

/**
 * Opens `base/hash` in a fresh context with the UI's settings in localStorage, waits for
 * `ready` and fails on any page error. Close it with `page.context().close()`.
 */
export async function openPage(browser: Browser, base: string, hash: string, ready: string, o: OpenOptions = {}): Promise<Page> {
  const ctx = await browser.newContext({ viewport: { width: o.width ?? 1200, height: 900 }, acceptDownloads: true, deviceScaleFactor: o.scale ?? 1, ...(o.timezoneId ? { timezoneId: o.timezoneId } : {}) });
  await ctx.addInitScript(([lang, theme, zone]) => {
    localStorage.setItem('smokemesh.lang', lang!);
    localStorage.setItem('smokemesh.theme', theme!);
    if (zone) localStorage.setItem('smokemesh.tz', zone);
  }, [o.lang ?? 'en', o.theme ?? 'light', o.zone ?? '']);
  const page = await ctx.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${base}/${hash}`);
  await page.waitForSelector(ready, { timeout: 30_000 });
  if (errors.length) throw new Error(`page errors on ${hash}: ${errors.join('; ')}`);
  return page;
}
