/** End-to-end tests: the whole system (built services as processes) through the gateway. */
module.exports = {
  ...require('./jest.preset.cjs'),
  displayName: 'e2e',
  testMatch: [
    '<rootDir>/test/e2e/**/*.e2e-spec.ts',
    '<rootDir>/test/deploy/**/*.e2e-spec.ts',
    '<rootDir>/test/chaos/**/*.e2e-spec.ts',
  ],
  globalSetup: '<rootDir>/test/jest/global-setup.cjs',
  globalTeardown: '<rootDir>/test/jest/global-teardown.cjs',
  testTimeout: 120_000,
  maxWorkers: 1,
};
