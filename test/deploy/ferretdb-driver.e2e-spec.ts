import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- plain CommonJS, outside every project
const infra = require(
  join(process.cwd(), 'deploy', 'local', 'infra.cjs'),
) as typeof import('../../deploy/local/infra.cjs');

/**
 * The local store is FerretDB built from deploy/local/ferretdb. Its SQLite driver once left a pool
 * connection interrupted for good when a query's context ended at its first row (a client's
 * maxTimeMS, or a client gone mid-query): every later statement on it failed "interrupted (9)".
 * The Go test beside the launcher reproduces that moment against the driver go.mod pins; it fails
 * on modernc.org/sqlite v1.32.0 (what FerretDB v1.24.2 names) and passes on v1.40.1.
 */
describe('the local store’s SQLite driver', () => {
  it('keeps a connection usable after a query cancelled at its first row', () => {
    // The store the tests run on is FerretDB unless MONGO_URL or a mongod says otherwise (infra.cjs).
    if (process.env.MONGO_URL || infra.which('mongod')) {
      expect(process.env.MASKLINE_TEST_MONGO_URL).toBeTruthy(); // not FerretDB: nothing of it runs here
      return;
    }
    const go = infra.goBinary();
    expect(go).toBeTruthy(); // global setup built FerretDB with it
    const res = spawnSync(String(go), ['test', '-trimpath', '-count=1', '.'], {
      cwd: join(infra.ROOT, 'deploy', 'local', 'ferretdb'),
      env: { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-mod=readonly' },
      encoding: 'utf8',
      timeout: 280_000,
    });
    expect({ status: res.status, output: `${res.stdout}${res.stderr}`.slice(-2000) }).toEqual({
      status: 0,
      output: expect.stringContaining('ok'),
    });
  }, 300_000);
});
