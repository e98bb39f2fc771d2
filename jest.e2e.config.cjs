/** End-to-end tests: the whole system (built services as processes) through the gateway. */
const fs = require('node:fs');

/** The console's browser tests drive Debian's Chromium; `.ci/run` installs it. */
const CHROMIUM = '/usr/bin/chromium';
const BROWSER_SPECS = 'console-browser\\.e2e-spec\\.ts$';
const haveChromium = fs.existsSync(CHROMIUM);
if (!haveChromium) {
  console.warn(
    `\n⚠ ${CHROMIUM} is not installed, so the console's browser tests (test/e2e/console-browser.e2e-spec.ts) ` +
      'do not run. Install it with `apt-get install -y chromium` (CI does, in .ci/run).\n',
  );
}

const preset = require('./jest.preset.cjs');
module.exports = {
  ...preset,
  displayName: 'e2e',
  testMatch: [
    '<rootDir>/test/e2e/**/*.e2e-spec.ts',
    '<rootDir>/test/deploy/**/*.e2e-spec.ts',
    '<rootDir>/test/chaos/**/*.e2e-spec.ts',
  ],
  testPathIgnorePatterns: [...preset.testPathIgnorePatterns, ...(haveChromium ? [] : [BROWSER_SPECS])],
  globalSetup: '<rootDir>/test/jest/global-setup.cjs',
  globalTeardown: '<rootDir>/test/jest/global-teardown.cjs',
  testTimeout: 120_000,
  // Two files at once: each starts its own NATS, services and provider sandbox on free ports, with
  // databases of its own in the shared store (E2eSystem), so they do not meet. 411 s against 650 s
  // one at a time on this two-core machine (the chaos run beside the others, as it passed).
  maxWorkers: 2,
  // The longest files first, so that neither worker runs one alone at the end of a fresh clone's run.
  testSequencer: '<rootDir>/test/jest/longest-first.sequencer.cjs',
};
