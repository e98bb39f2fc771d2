import { randomBytes } from 'node:crypto';
import * as infra from '../../../deploy/local/infra.cjs';

export type { RunningProcess } from '../../../deploy/local/infra.cjs';

/** The throwaway store the jest global setup started (or MONGO_URL when the user gave one). */
export function testStoreUrl(): string {
  const url = process.env.MASKLINE_TEST_MONGO_URL;
  if (!url) {
    throw new Error('MASKLINE_TEST_MONGO_URL is not set: run integration tests through `npm test`');
  }
  return url;
}

/** A database name no other test file uses (FerretDB/SQLite: one writer per database file). */
export function uniqueDbName(prefix: string): string {
  return `t_${prefix.replace(/[^a-z0-9]/gi, '_').slice(0, 20)}_${randomBytes(4).toString('hex')}`;
}

/** A fresh nats-server with JetStream on a free port, for this test file alone. */
export function startTestNats(): Promise<infra.RunningProcess> {
  return infra.startNats();
}

export const freePort = infra.freePort;

/** A store of the test's own (not the shared one), for a test that stops or pauses it. */
export function startOwnTestStore(): ReturnType<typeof infra.startStore> {
  return infra.startStore({});
}
