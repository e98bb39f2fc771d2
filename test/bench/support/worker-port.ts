import { parentPort } from 'node:worker_threads';
import type { WorkerEnvelope, WorkerReport } from './worker-host';

/**
 * The worker's side of WorkerHost: each request handed to `handle`, and answered (its value or its
 * error's message) when the bench waits for it; `{ kind: 'close' }` (WorkerHost.close) ends the
 * worker once `onClose` has. `ready` once the worker can take requests; `news` for what it reports
 * unasked.
 */
export function serveBench<Request extends { kind: string }, Ready, News = never>(
  handle: (request: Exclude<Request, { kind: 'close' }>) => unknown,
  onClose: () => unknown = () => undefined,
) {
  const port = parentPort!;
  const say = (report: WorkerReport<Ready, News>) => port.postMessage(report);
  port.on('message', ({ id, request }: WorkerEnvelope<Request>) => {
    void (async () => {
      try {
        if (request.kind === 'close') {
          await onClose();
          return port.close();
        }
        const value = await handle(request as Exclude<Request, { kind: 'close' }>);
        if (id !== undefined) say({ kind: 'reply', id, value });
      } catch (err) {
        if (id === undefined) throw err;
        say({ kind: 'reply', id, error: err instanceof Error ? err.message : String(err) });
      }
    })();
  });
  return {
    ready: (value: Ready) => say({ kind: 'ready', value }),
    news: (value: News) => say({ kind: 'news', value }),
  };
}
