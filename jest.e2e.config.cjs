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
  maxWorkers: 1,
};
