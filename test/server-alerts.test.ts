import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { generalSection, startServerIn } from './server-kit.ts';
import { waitFor } from './wait.ts';
import { closedPort } from './fixtures/ports.ts';

const dir = mkdtempSync(join(tmpdir(), 'smokemesh-server-alerts-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('rounds reach the alert engine: an edge-triggered alert runs its hook and shows as active', async () => {
  const hook = join(dir, 'hook.sh');
  const out = join(dir, 'hook.out');
  writeFileSync(hook, `#!/bin/sh\nprintf '%s|' "$@" >> ${out}\necho >> ${out}\n`);
  chmodSync(hook, 0o755);
  const server = await startServerIn(dir, `${generalSection(dir, { step: 1, pings: 2 })}alerts:
  portdown:
    type: loss
    pattern: ">50%,>50%"
    edgetrigger: true
    comment: the port stopped answering
    to: ["|${hook}"]
targets:
  alerts: [portdown]
  children:
    svc: { probe: tcp, host: 127.0.0.1, port: ${await closedPort()}, interval: 10, timeout: 200 }
`);
  try {
    const line = await waitFor('the hook to run', () => (existsSync(out) ? readFileSync(out, 'utf8').split('\n')[0] : undefined), 30000);
    const args = line.split('|');
    assert.equal(args[0], 'portdown');
    assert.equal(args[1], 'svc');
    assert.match(args[2]!, /^loss: 100%, 100%/);
    assert.equal(args[4], '127.0.0.1');
    assert.equal(args[5], '1', 'edgetrigger: the sixth argument says raised');
    const active = await (await fetch(`${server.url}/api/v1/alerts/active`)).json() as unknown[];
    assert.match(JSON.stringify(active), /portdown/);
  } finally {
    await server.close();
  }
});
