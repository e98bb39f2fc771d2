/** Unit tests: `*.spec.ts` next to the code. No I/O. */
module.exports = {
  ...require('./jest.preset.cjs'),
  displayName: 'unit',
  testMatch: ['<rootDir>/{libs,services,tools}/**/*.spec.ts'],
  // Both cores (jest's default leaves one idle on a two-core machine): 30 s against 55 s here.
  maxWorkers: 2,
};
