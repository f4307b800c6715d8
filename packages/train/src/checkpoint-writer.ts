// The thread behind CheckpointWriter: encodes each checkpoint it is sent and writes it to disk
// (atomically, fsync'd, older ones pruned), so that the training thread only pays for copying
// the state out. It runs the same saveCheckpoint as a synchronous save, so the files are alike.
import { parentPort, workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { saveCheckpoint } from './checkpoint-files.js';
import type { Checkpoint } from './checkpoint.js';

/** One queued write: the checkpoint, its folder, how many to keep, and extra names for the same bytes (best.ckpt). */
export interface WriteJob {
  checkpoint: Checkpoint;
  dir: string;
  keep: number;
  copies: string[];
}

/** What CheckpointWriter shares with its thread: a counter of finished writes, and a port for failures. */
export interface WriterData {
  finished: Int32Array;
  failures: MessagePort;
}

if (parentPort !== null) {
  const { finished, failures } = workerData as WriterData;
  parentPort.on('message', (job: WriteJob) => {
    try {
      saveCheckpoint(job.dir, job.checkpoint, { keep: job.keep, copies: job.copies });
    } catch (error) {
      failures.postMessage((error as Error).message);
    }
    // Counted after a failure too: flush() wakes, then finds the failure on its port.
    Atomics.add(finished, 0, 1);
    Atomics.notify(finished, 0);
    parentPort!.postMessage(Atomics.load(finished, 0));
  });
}
