// The cost on writes of numbering `smokemesh_agents_seen`'s rows (src/cluster/agents-seen-pg.ts):
// one connection upserts a server's share of N agents (every row an update, one statement, its
// own transaction, as writeSightings does) R times in each of four setups of the same table,
// on one Debian PostgreSQL on 127.0.0.1, the setups taken in turn ROUNDS times:
// - none: the table without the change column (main before issue 18);
// - row triggers: triggers number every row (the statement does not name the column);
// - writer: the statement takes nextval itself, the row triggers' WHEN is false (the branch);
// - writer, no index: the same without the index on `change`.
// Run: npx tsx bench/agents-seen-numbering.ts   env: N=33333 R=15 ROUNDS=3
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import pg from 'pg';
import { AGENTS_SCHEMA } from '../src/cluster/agents-pg.ts';
import { AGENTS_SEEN_SCHEMA } from '../src/cluster/agents-seen-pg.ts';
import { TASKS_SCHEMA } from '../src/cluster/tasks-pg.ts';
import { postgresBin, startPostgres } from '../test/postgres.ts';

const N = Number(process.env.N ?? 33_333);
const R = Number(process.env.R ?? 15);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const load = () => loadavg().map((x) => x.toFixed(1)).join(' ');
console.log(`command: N=${N} R=${R} ROUNDS=${ROUNDS} npx tsx bench/agents-seen-numbering.ts`);
console.log(`config: ${N} row upserts per statement, node ${process.version}, ${execFileSync(postgresBin('postgres'), ['--version'], { encoding: 'utf8' }).trim()}`);
console.log(`load average at start: ${load()}`);

const EVERY_ROW = AGENTS_SEEN_SCHEMA.replace('WHEN (NEW.change IS NULL) ', '').replace('WHEN (NEW.change IS NOT DISTINCT FROM OLD.change) ', '');
if (EVERY_ROW === AGENTS_SEEN_SCHEMA) throw new Error('the triggers\' WHEN clauses were not found');
const NO_INDEX = AGENTS_SEEN_SCHEMA.replace(/CREATE INDEX IF NOT EXISTS smokemesh_agents_seen_change_idx[^;]*;/, '');
const setups: { name: string; ddl: string; numbered: boolean }[] = [
  { name: 'none (no change column)', ddl: '', numbered: false },
  { name: 'row triggers number every row', ddl: EVERY_ROW, numbered: false },
  { name: 'writer numbers, WHEN false', ddl: AGENTS_SEEN_SCHEMA, numbered: true },
  { name: 'writer numbers, no index on change', ddl: NO_INDEX, numbered: true },
];

const postgres = await startPostgres();
const c = new pg.Client({ connectionString: postgres.url });
await c.connect();
const names = Array.from({ length: N }, (_, k) => `agent-${k}`);
const upsert = (numbered: boolean) => c.query(`INSERT INTO smokemesh_agents_seen (agent, server, seen_at, written_at, polling, polled_at, region, labels, builtin, intranet, public, version${numbered ? ', change' : ''})
    SELECT a, 's1', clock_timestamp(), clock_timestamp(), false, NULL, 'r1', '{"rack":"1"}', false, '10.0.0.1', NULL, '1.0.0'${numbered ? ", nextval('smokemesh_agents_seen_change')" : ''}
    FROM unnest($1::text[]) AS x(a)
    ON CONFLICT (agent, server) DO UPDATE SET seen_at = excluded.seen_at, written_at = excluded.written_at, polling = excluded.polling,
      polled_at = COALESCE(excluded.polled_at, smokemesh_agents_seen.polled_at), region = excluded.region, labels = excluded.labels, builtin = excluded.builtin,
      intranet = excluded.intranet, public = excluded.public, version = excluded.version${numbered ? ', change = excluded.change' : ''}`, [names]);
const fmt = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return `median ${s[Math.floor(s.length / 2)]!.toFixed(0)} ms, min ${s[0]!.toFixed(0)} ms`;
};
try {
  for (let round = 1; round <= ROUNDS; round++) {
    for (const setup of setups) {
      await c.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public');
      await c.query(TASKS_SCHEMA);
      await c.query(AGENTS_SCHEMA);
      if (setup.ddl) await c.query(setup.ddl);
      await upsert(setup.numbered); // the rows exist: every later upsert updates them all
      const times: number[] = [];
      for (let i = 0; i < R; i++) {
        const t0 = performance.now();
        await c.query('BEGIN');
        await upsert(setup.numbered);
        await c.query('COMMIT');
        times.push(performance.now() - t0);
      }
      console.log(`round ${round}, ${setup.name}: ${fmt(times)} of ${R}`);
    }
  }
  console.log(`load average at end: ${load()}`);
} finally {
  await c.end();
  await postgres.stop();
}
