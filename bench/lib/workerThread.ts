/**
 * A benchmark's controllers in a worker thread of their own, an event loop beside the control plane's, as they
 * run in their own processes under `stratus up`. The bench's module is run again as the worker: there,
 * `serveInWorker` starts what the main thread asked for and stops it when told.
 */
import { Worker, parentPort, workerData } from 'node:worker_threads';

/** Runs `moduleUrl` as a worker with `data`; resolves once it says it has started. */
export async function startWorker(moduleUrl: URL, data: unknown): Promise<{ stop(): Promise<void> }> {
  const worker = new Worker(moduleUrl, { workerData: data, argv: process.argv.slice(2) });
  await new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', reject);
  });
  return {
    async stop() {
      const stopped = new Promise((r) => worker.once('message', r));
      worker.postMessage('stop');
      await stopped;
      await worker.terminate();
    },
  };
}

/** In the worker: starts what `start` makes from the main thread's data, says so, and stops it when asked. */
export async function serveInWorker<D>(start: (data: D) => Promise<{ stop(): Promise<void> }>): Promise<void> {
  const running = await start(workerData as D);
  parentPort!.postMessage('started');
  parentPort!.once('message', async () => {
    await running.stop();
    parentPort!.postMessage('stopped');
  });
}
