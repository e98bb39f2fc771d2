'use strict';
/**
 * `npm test`: installs what is missing, checks lint, format and types, builds, then runs unit,
 * integration (real NATS + store) and end-to-end tests. Jest's global setup starts a throwaway
 * store and each test file its own NATS; both are stopped when the run ends. Exits non-zero on
 * the first failing step.
 */
const { spawnSync } = require('node:child_process');
const { ensureDeps, ROOT } = require('./ensure-deps.cjs');

ensureDeps();
// The nats-server every test starts, fetched (if it is not there yet) before any test runs, and
// handed to them so that none fetches: see deploy/local/infra.cjs.
process.env.NATS_SERVER_BIN = require('../deploy/local/infra.cjs').natsServerBinary({ log: console.log });

const env = {
  ...process.env,
  NX_DAEMON: 'false',
  NX_NO_CLOUD: 'true',
  NX_TUI: 'false',
  SCARF_ANALYTICS: 'false',
};
const bin = (name) => `${ROOT}/node_modules/.bin/${name}`;

const steps = [
  ['project graph', bin('nx'), ['show', 'projects']],
  ['lint', bin('eslint'), ['.']],
  ['format', bin('prettier'), ['--check', '.', '--log-level', 'warn']],
  ['typecheck', bin('tsc'), ['-p', 'tsconfig.json']],
  ['typecheck console', bin('tsc'), ['-p', 'libs/console/tsconfig.json']],
  ['build', bin('tsc'), ['-p', 'tsconfig.build.json']],
  // What each image ships; the end-to-end tests run exactly this.
  ['build services', process.execPath, ['scripts/build-services.cjs']],
  ['unit tests', bin('jest'), ['-c', 'jest.unit.config.cjs']],
  ['integration tests', bin('jest'), ['-c', 'jest.int.config.cjs']],
  ['end-to-end tests', bin('jest'), ['-c', 'jest.e2e.config.cjs']],
];

const only = process.argv.slice(2);
const started = Date.now();
for (const [name, cmd, args] of steps) {
  if (only.length > 0 && !only.some((o) => name.startsWith(o))) continue;
  const t0 = Date.now();
  console.log(`\n▶ ${name}`);
  const res = spawnSync(cmd, args, {
    cwd: ROOT,
    env,
    stdio: name === 'project graph' ? ['ignore', 'ignore', 'inherit'] : 'inherit',
  });
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  if (res.status !== 0) {
    console.error(`\n✖ ${name} failed after ${secs} s (exit ${res.status ?? res.signal})`);
    process.exit(res.status || 1);
  }
  console.log(`✔ ${name} (${secs} s)`);
}
console.log(`\nall checks passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
