import { readFileSync } from 'node:fs';
import { startNats } from '../../../deploy/local/infra.cjs';
import { restoringEnv } from './restoring-env';

/** A running process's environment variable, as the kernel started it. */
function envOf(pid: number, name: string): string | undefined {
  const entries = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
  return entries.find((e) => e.startsWith(`${name}=`))?.slice(name.length + 1);
}

describe('the Go servers the scripts start', () => {
  restoringEnv('GOMAXPROCS');

  it('run Go code on one core at a time by default, sharing the machine with the services', async () => {
    delete process.env.GOMAXPROCS;
    const nats = await startNats();
    try {
      expect(envOf(Number(nats.pid), 'GOMAXPROCS')).toBe('1');
    } finally {
      await nats.stop();
    }
  });

  it('take the GOMAXPROCS the environment gives', async () => {
    process.env.GOMAXPROCS = '2';
    const nats = await startNats();
    try {
      expect(envOf(Number(nats.pid), 'GOMAXPROCS')).toBe('2');
    } finally {
      await nats.stop();
    }
  });
});
