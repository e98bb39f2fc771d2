import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Connection } from 'mongoose';

interface CommandEvent {
  requestId: number;
  commandName: string;
  command?: Record<string, unknown>;
  duration?: number;
}

/**
 * A diagnostic for benchmarks (STORE_COMMAND_STATS_DIR): counts every store command this process
 * sends by command, collection and the filter's field names (never its values), with the time the
 * store took, and writes the totals to `<dir>/<database>-<pid>.json` when the process exits.
 */
export function recordStoreCommands(connection: Connection, dir: string, label: string): void {
  const client = connection.getClient() as unknown as {
    on(event: string, listener: (e: CommandEvent) => void): void;
  };
  const started = new Map<number, string>();
  const totals = new Map<string, { count: number; ms: number }>();
  client.on('commandStarted', (e) => {
    const target = e.command?.[e.commandName];
    // The filter's field names (never its values): which query this is.
    const filter = (e.command?.filter ??
      e.command?.query ??
      (e.command?.deletes as Array<{ q?: object }>)?.[0]?.q ??
      (e.command?.updates as Array<{ q?: object }>)?.[0]?.q) as Record<string, unknown> | undefined;
    const shape = filter ? `{${Object.entries(filter).map(fieldShape).join(',')}}` : '';
    // A getMore names its collection apart (its own value is the cursor's id).
    const collection = typeof target === 'string' ? target : e.command?.collection;
    started.set(
      e.requestId,
      `${e.commandName} ${typeof collection === 'string' ? collection : ''} ${shape}`.trim(),
    );
  });
  const finished = (e: CommandEvent) => {
    const key = started.get(e.requestId) ?? e.commandName;
    started.delete(e.requestId);
    const t = totals.get(key) ?? { count: 0, ms: 0 };
    t.count++;
    t.ms += e.duration ?? 0;
    totals.set(key, t);
  };
  client.on('commandSucceeded', finished);
  client.on('commandFailed', finished);
  process.once('exit', () => {
    const rows = [...totals].sort((a, b) => b[1].ms - a[1].ms).map(([command, t]) => ({ command, ...t }));
    writeFileSync(join(dir, `${label}-${process.pid}.json`), JSON.stringify(rows, null, 1));
  });
}

/** A filter field's name, with the operators it uses (`_id:$in`): which query shape, never its values. */
function fieldShape([name, value]: [string, unknown]): string {
  const operators =
    value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date)
      ? Object.keys(value).filter((k) => k.startsWith('$'))
      : [];
  return operators.length > 0 ? `${name}:${operators.join(':')}` : name;
}
