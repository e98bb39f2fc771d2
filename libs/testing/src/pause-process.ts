import { readFileSync } from 'node:fs';
import { expectEventually } from './expect-eventually';

/**
 * Pauses a process (SIGSTOP, as a stalled disk or a long GC pause would) and returns once the
 * kernel says it is stopped: `kill` returns before the stop takes effect, and a command sent in
 * between could still be answered.
 */
export async function pauseProcess(pid: number): Promise<void> {
  process.kill(pid, 'SIGSTOP');
  await expectEventually(() => {
    // /proc/<pid>/stat: "pid (comm) state …"; the state follows the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.charAt(stat.lastIndexOf(')') + 2);
    if (state !== 'T') throw new Error(`process ${pid} is in state ${state}, not stopped yet`);
  });
}
