/** @type {import('jest').Config} */
module.exports = {
	preset: 'ts-jest',
	testEnvironment: 'node',
	roots: ['<rootDir>/test'],
	testMatch: ['**/*.test.ts'],
	// The real-n8n tests run apart: npm run test:e2e (jest.e2e.config.js).
	testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/e2e/'],
	globalSetup: '<rootDir>/test/globalSetup.js',
	// CI and reviewers run the suite on loaded 2-core machines: no test may fail for being slow.
	// Heavy tests set HEAVY_TEST_MS (test/helpers/timeouts.ts); speed is measured by npm run bench.
	testTimeout: 60_000,
	transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
};
