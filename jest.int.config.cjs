/** Integration tests: `*.int-spec.ts`, one service at a time, against real NATS and the real store. */
module.exports = {
  ...require('./jest.preset.cjs'),
  displayName: 'int',
  testMatch: ['<rootDir>/{libs,services,tools}/**/*.int-spec.ts', '<rootDir>/test/bench/**/*.int-spec.ts'],
  globalSetup: '<rootDir>/test/jest/global-setup.cjs',
  globalTeardown: '<rootDir>/test/jest/global-teardown.cjs',
  testTimeout: 60_000,
  maxWorkers: 2,
};
