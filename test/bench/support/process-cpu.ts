import { readFileSync, readdirSync } from 'node:fs';

/** Processes whose CPU a bench accounts for, by name. */
export type NamedPids = Array<{ name: string; pid: number | undefined }>;

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/**
 * CPU time (user + system, ms) each named process has used so far, its waited-for children's
 * included (a PostgreSQL backend that exited is counted in its postmaster's); 0 for one that is gone.
 */
export function cpuMsByName(pids: NamedPids): Map<string, number> {
  const out = new Map<string, number>();
  for (const { name, pid } of pids) {
    let ms = 0;
    try {
      // Fields after the command (which may hold spaces) start after the last ')'.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0);
      ms = (ticks * 1000) / TICKS_PER_SECOND;
    } catch {
      ms = 0;
    }
    out.set(name, (out.get(name) ?? 0) + ms);
  }
  return out;
}

/** CPU ms per operation by process between two snapshots, largest first, as one line. */
export function cpuPerOperation(
  before: Map<string, number>,
  after: Map<string, number>,
  ops: number,
): string {
  const rows = [...after].map(([name, ms]) => [name, (ms - (before.get(name) ?? 0)) / ops] as const);
  const total = rows.reduce((sum, [, ms]) => sum + ms, 0);
  return `${total.toFixed(1)} ms: ${rows
    .sort((a, b) => b[1] - a[1])
    .map(([name, ms]) => `${name} ${ms.toFixed(1)}`)
    .join(', ')}`;
}

/**
 * Every process of the machine's PostgreSQL server, under one name: the store's backend when FerretDB
 * runs on PostgreSQL (the server's other databases, if any are busy, are counted too).
 */
export function postgresPids(name: string): NamedPids {
  const out: NamedPids = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'postgres')
        out.push({ name, pid: Number(entry) });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}
