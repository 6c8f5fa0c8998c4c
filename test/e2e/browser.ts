import { chromium, type Browser } from 'playwright-core';

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
