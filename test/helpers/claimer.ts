/**
 * A separate process that claims and completes jobs from a shared library as fast as it can,
 * printing each claim as "jobId fence". Used to race several processes against each other.
 */
import { Queue } from '../../pipeline/engine/queue.ts';
import { Registry } from '../../pipeline/engine/workflow.ts';
import { systemClock } from '../../pipeline/engine/clock.ts';
import { openDatabase, StoreError } from '../../pipeline/store/index.ts';
import { workflows } from '../fixtures/workflows.ts';

const [file = '', name = 'claimer'] = process.argv.slice(2);
const db = openDatabase(file, { busyTimeoutMs: 10_000 });
const queue = new Queue(db, new Registry(workflows), systemClock);
const claimed: string[] = [];
let misses = 0;
while (misses < 3) {
  let job;
  try {
    job = queue.claim('io', `${name}:io`, process.pid, 1_000_000);
  } catch (err) {
    if (err instanceof StoreError) continue;
    throw err;
  }
  if (!job) {
    misses++;
    continue;
  }
  misses = 0;
  claimed.push(`${job.jobId} ${job.fence}`);
  queue.complete(job.jobId, job.fence, { by: name });
}
process.stdout.write(claimed.join('\n'));
db.close();
