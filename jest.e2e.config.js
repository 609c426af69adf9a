/** End-to-end tests: the package inside a real n8n (npm run test:e2e). */
/** @type {import('jest').Config} */
module.exports = {
	preset: 'ts-jest',
	testEnvironment: 'node',
	roots: ['<rootDir>/test/e2e'],
	testMatch: ['**/*.e2e.test.ts'],
	transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
	globalSetup: '<rootDir>/test/globalSetup.js',
	// One n8n user folder and database per file; n8n's CLI runs are heavy, so files run one at a time.
	maxWorkers: 1,
	testTimeout: 120_000,
};
