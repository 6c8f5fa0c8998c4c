// Child process of durability.test.ts: writes batches forever and prints each acknowledged
// batch (first time and count) on stdout only after write() returned.
import { makeRound } from '../../src/probes/round.ts';
import { openStore } from '../../src/store/index.ts';

const [dir, startArg] = process.argv.slice(2);
const store = openStore(dir!, { raw_days: 14, tiers: [{ bucket: 300, keep_days: 90 }, { bucket: 3600, keep_days: 730 }], synchronous: 'full' }, undefined, { timers: false });
let time = Number(startArg);
for (;;) {
  const batch = [];
  for (let i = 0; i < 50; i++) {
    batch.push(makeRound({ target: `/D/t${i % 5}`, agent: 'a', probe: 'icmp', time, step: 60 }, { sent: 20, rtts: [1 + (time % 7), 2, 3] }));
    if (i % 5 === 4) time += 1000;
  }
  store.write(batch);
  const st = store.stats();
  if (st.refused !== 0) throw new Error(`unexpected refusals: ${JSON.stringify(st)}`);
  process.stdout.write(`${batch[0]!.time} ${batch.length}\n`);
}
