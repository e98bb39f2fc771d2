import pino, { type DestinationStream, type Logger, type LevelWithSilent } from 'pino';
import { PHONE_FIELDS, SECRET_FIELDS, censor, redactPaths } from './redaction';
import { currentCorrelationId } from './request-context';

export type { Logger } from 'pino';

export interface LoggerOptions {
  service: string;
  level: LevelWithSilent;
  /** Where lines go; stdout by default. Tests pass a stream to capture lines. */
  destination?: DestinationStream;
}

/** pino JSON logs with redaction from the field lists, and the correlation id on every line. */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { service: options.service, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      messageKey: 'msg',
      formatters: { level: (label) => ({ level: label }) },
      redact: {
        paths: [...redactPaths(SECRET_FIELDS), ...redactPaths(PHONE_FIELDS)],
        censor: (value: unknown, path: string[]) => censor(value, path),
      },
      mixin() {
        const correlationId = currentCorrelationId();
        return correlationId ? { correlationId } : {};
      },
      serializers: { err: pino.stdSerializers.err },
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
