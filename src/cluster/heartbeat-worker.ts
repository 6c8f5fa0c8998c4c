/**
 * The heartbeat thread's side (see heartbeat-thread.ts): one PostgreSQL connection of its own,
 * a beat every heartbeat_s with the statements of heartbeat-pg.ts, while the main thread has
 * run within the stall bound (`mayBeat`). The time of each successful beat, taken before its
 * query, goes into the shared buffer, and so does the time of a beat that ended a gap the
 * others may have counted this server dead in (`endsGap`); the rows read go to the main thread as a message, which
 * it applies when its event loop runs. A failure drops the connection (the next beat connects
 * again) and is reported; the main thread logs it.
 */
import { parentPort } from 'node:worker_threads';
import pg from 'pg';
import { BeatClock, endsGap, mayBeat } from './heartbeat.ts';
import { heartbeatApplication, writeBeat } from './heartbeat-pg.ts';
import { safeClient } from './pg-text.ts';
import type { BeatReport, BeatSetup } from './heartbeat-thread.ts';

const port = parentPort!;

function post(r: BeatReport): void {
  port.postMessage(r);
}

let stopping = false;
let wake: (() => void) | undefined;
let running = false;

async function run(setup: BeatSetup): Promise<void> {
  const clock = new BeatClock(setup.buffer);
  let client: pg.Client | undefined;
  const drop = () => {
    const c = client;
    client = undefined;
    void c?.end().catch(() => {});
  };
  // Reported once per stall (the main thread reads it when it runs again).
  let held = false;
  while (!stopping) {
    const started = Date.now();
    try {
      if (!client) {
        const c = new pg.Client({
          connectionString: setup.coordination, connectionTimeoutMillis: setup.connectTimeoutMs, query_timeout: setup.queryTimeoutMs,
          application_name: heartbeatApplication(setup.server),
        });
        // A connection that breaks while idle (the database restarted) fails the next beat, which connects again.
        c.on('error', () => {});
        client = c;
        await c.connect();
      }
      const at = Date.now();
      if (!mayBeat(at, clock.progress, setup.stallMs)) {
        if (!held) post({ held: at - clock.progress });
        held = true;
      } else {
        held = false;
        const r = await writeBeat(safeClient(client), setup.server, setup.url);
        // The gap first: the main thread reads lastBeat, then gapEnd.
        if (endsGap(clock.lastBeat, Date.now(), setup.deadAfterMs)) clock.gapEnd = at;
        clock.lastBeat = at;
        post({ beat: { ...r, at } });
      }
    } catch (e) {
      drop();
      post({ error: (e as Error).message });
    }
    if (stopping) break;
    await new Promise<void>((res) => {
      const t = setTimeout(res, Math.max(0, setup.heartbeatMs - (Date.now() - started)));
      wake = () => { clearTimeout(t); res(); };
    });
    wake = undefined;
  }
  await client?.end().catch(() => {});
  post({ stopped: true });
}

port.on('message', (m: BeatSetup | { stop: true }) => {
  if ('stop' in m) {
    stopping = true;
    wake?.();
    // Stopped before it was set up: nothing to end.
    if (!running) post({ stopped: true });
    return;
  }
  if (running || stopping) return;
  running = true;
  void run(m);
});
post({ ready: true });
