/** Unit tests: `*.spec.ts` next to the code. No I/O. */
module.exports = {
  ...require('./jest.preset.cjs'),
  displayName: 'unit',
  testMatch: ['<rootDir>/{libs,services,tools}/**/*.spec.ts'],
};
