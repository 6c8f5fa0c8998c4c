import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { emailKind, fillTemplate, perlLocaltime } from './email.ts';
import type { AlertEvent } from './notifier.ts';
import { tempDir } from '../testkit.ts';

const event: AlertEvent = {
  version: 1, id: 'e1', state: 'raised',
  alert: { name: 'bigloss', type: 'loss', pattern: '==0%,>20%', comment: 'loss after none', edgetrigger: true },
  target: { path: '/Net/link', dotted: 'Net.link', host: '192.0.2.1', title: 'Link', labels: {} },
  agent: 'srv', time: Date.UTC(2026, 0, 2, 3, 4, 5), loss: ['0%', '40%'], rtt: ['10ms', '12ms'],
  url: 'http://ui.example/?target=%2FNet%2Flink', recipients: ['ops@example.org'],
};

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, ms = 15000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const canConnect = (port: number) => new Promise<true | undefined>((r) => {
  const s = connect(port, '127.0.0.1', () => { s.destroy(); r(true); });
  s.on('error', () => r(undefined));
});

test('email: fills SmokePing placeholders', () => {
  const text = fillTemplate('Subject: <##ALERT##> <##WHAT##> on <##LINE##>\n\n<##URL##>|<##PAT##>|<##LOSS##>|<##RTT##>|<##COMMENT##>|<##STAMP##>', event);
  assert.equal(text, `Subject: bigloss was raised on Net.link\n\nhttp://ui.example/?target=%2FNet%2Flink|==0%,>20%|loss: 0%, 40%|rtt: 10ms, 12ms|loss after none|${perlLocaltime(event.time)}`);
  assert.match(perlLocaltime(event.time), /^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d 2026$/);
});

test('email: delivered over STARTTLS to a real SMTP server, with the mail template', async (t) => {
  const dir = tempDir();
  const maildir = join(dir, 'mail');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  const port = await freePort();
  const smtp = spawn('/usr/bin/python3', ['-m', 'aiosmtpd', '-n', '-l', `127.0.0.1:${port}`,
    '--tlscert', join(dir, 'cert.pem'), '--tlskey', join(dir, 'key.pem'), '-c', 'aiosmtpd.handlers.Mailbox', maildir], { stdio: 'ignore' });
  t.after(() => { smtp.kill(); });
  await waitFor('the SMTP server', () => canConnect(port));

  const template = join(dir, 'mail.tmpl');
  writeFileSync(template, 'Subject: [smokemesh] <##ALERT##> <##WHAT##> on <##LINE##>\nX-Smokemesh-Test: yes\n\nLoss: <##LOSS##>\nSee <##URL##>\n');
  const notifier = emailKind.create('mail', {
    host: '127.0.0.1', port, secure: false, require_tls: true, tls_reject_unauthorized: true,
    ca_file: join(dir, 'cert.pem'), from: 'smokemesh@example.org', to: ['noc@example.org'],
  });
  await notifier.send({ ...event, alert: { ...event.alert, mailtemplate: template } }, AbortSignal.timeout(15000));

  const file = await waitFor('the delivered message', () => {
    const d = join(maildir, 'new');
    const files = existsSync(d) ? readdirSync(d) : [];
    return files[0] ? join(d, files[0]) : undefined;
  });
  const msg = readFileSync(file, 'utf8');
  assert.match(msg, /^Subject: \[smokemesh\] bigloss was raised on Net\.link$/m);
  assert.match(msg, /^X-Smokemesh-Test: yes$/m);
  assert.match(msg, /^From: smokemesh@example\.org$/m);
  assert.match(msg, /^To: noc@example\.org, ops@example\.org$/m);
  assert.match(msg, /Loss: loss: 0%, 40%/);
  assert.match(msg, /See http:\/\/ui\.example\/\?target=%2FNet%2Flink/);
});

test('email: a refused connection is a delivery error', async () => {
  const port = await freePort();
  const notifier = emailKind.create('mail', { host: '127.0.0.1', port, secure: false, require_tls: false, tls_reject_unauthorized: true, from: 'a@example.org' });
  await assert.rejects(notifier.send(event, AbortSignal.timeout(15000)), (e: Error & { detail?: string }) =>
    /^email notifier "mail": ESOCKET from 127\.0\.0\.1:\d+$/.test(e.message) && /ECONNREFUSED/.test(e.detail ?? ''));
});
