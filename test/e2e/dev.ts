// Serves the built UI and the read API over synthetic history: `npx tsx test/e2e/dev.ts [days]`.
import { startDevServer } from './dev-server.ts';
import { demoConfig, demoRounds } from './demo-data.ts';

const days = Number(process.argv[2] ?? 30);
const now = Date.now();
const srv = await startDevServer({
  configYaml: demoConfig(4, 300),
  rounds: demoRounds(4, now - days * 86_400_000, now, 300),
  agents: [
    { name: 'local', region: 'default', labels: {}, addresses: ['127.0.0.1'], alive: true, builtin: true, version: '0.1.0', last_seen: now },
    { name: 'tokyo', region: 'jp', labels: {}, addresses: ['127.0.0.9'], alive: true, builtin: false, color: '#ff8800', version: '0.1.0', last_seen: now - 30_000 },
  ],
});
console.log(srv.url);
process.on('SIGINT', () => void srv.close().then(() => process.exit(0)));
process.on('SIGTERM', () => void srv.close().then(() => process.exit(0)));
