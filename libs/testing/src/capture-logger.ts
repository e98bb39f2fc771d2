import { Writable } from 'node:stream';
import type { Logger } from 'pino';
import { createLogger } from '@maskline/observability';

export interface CapturedLogs {
  logger: Logger;
  /** Every line written so far, raw. */
  lines: string[];
  /** The lines parsed as JSON. */
  records(): Array<Record<string, unknown>>;
}

/** A real pino logger (with the production redaction) writing into memory. */
export function captureLogger(service: string, level: 'trace' | 'debug' | 'info' = 'debug'): CapturedLogs {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(line);
      cb();
    },
  });
  const logger = createLogger({ service, level, destination: stream });
  return { logger, lines, records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}
