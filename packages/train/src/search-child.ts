// The process a LocalRunner runs its jobs in: one job at a time, on the number of threads it
// was started with (argv[2]); the result goes back over IPC.
import { init } from '@minibatch/core';
import { runJob } from './search-node.js';
import type { Job } from './search.js';

const ready = init({ threads: Number(process.argv[2] ?? 1) });
process.on('message', (job: Job) => {
  void ready.then(() => process.send!(runJob(job)));
});
// The search that started this process is gone (killed): so is its job.
process.on('disconnect', () => process.exit(0));
