import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

const testFiles = [
  '**/*.spec.ts',
  '**/*.int-spec.ts',
  '**/*.e2e-spec.ts',
  '**/*.test-fixture.ts',
  'test/**/*.ts',
];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.infra/**', '.nx/**', 'coverage/**', '**/*.cjs', '**/*.mjs'] },
  ...tseslint.configs.recommended,
  { plugins: { '@nx': nx } },
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-console': 'error',
      eqeqeq: ['error', 'always'],
      // Raw env access belongs in each service's config file only.
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'read configuration through the service config' },
      ],
    },
  },
  {
    // Production code: services depend only on libs, libs only on libs; nobody imports test helpers.
    files: ['**/*.ts'],
    ignores: testFiles,
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: ['../../../deploy/local/infra.cjs'],
          depConstraints: [
            { sourceTag: 'type:service', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:lib', 'type:testing'] },
          ],
        },
      ],
    },
  },
  {
    // Tests may use the testing lib, still never another service.
    files: testFiles,
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          // The local-infrastructure script (plain Node, runs before the build) is the test harness's engine.
          allow: [
            '../../../deploy/local/infra.cjs',
            '../../../deploy/local/system.cjs',
            '../../../deploy/local/dev-secrets.cjs',
            '../../deploy/local/dev-secrets.cjs',
            '../../deploy/local/provider-sandbox.cjs',
            '../../scripts/seed-demo.cjs',
          ],
          depConstraints: [
            { sourceTag: 'type:service', onlyDependOnLibsWithTags: ['type:lib', 'type:testing'] },
            { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib', 'type:testing'] },
            { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:lib', 'type:testing'] },
            { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:lib', 'type:testing'] },
          ],
        },
      ],
      'no-restricted-properties': 'off',
    },
  },
  {
    files: [
      'libs/config/src/**/*.ts',
      'libs/testing/src/**/*.ts',
      'services/*/src/config/*.ts',
      'services/*/src/main.ts',
      // The simulator's command-line entry points (npm run sim / demo).
      'libs/telephony-simulator/src/cli.ts',
      'libs/telephony-simulator/src/demo.ts',
    ],
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    // Benchmarks and the chaos run are scripts: they read their own environment and load the local infra tool at run time.
    files: ['services/*/bench/**/*.ts', 'test/bench/**/*.ts', 'test/chaos/**/*.ts'],
    rules: { 'no-restricted-properties': 'off', '@typescript-eslint/no-require-imports': 'off' },
  },
);
