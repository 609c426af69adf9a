// Finds out once, before any test file runs, whether the test PostgreSQL server answers.
// Database tests skip (saying so) when it does not, except under CI=true, where that is a failure.
const { Client } = require('pg');

const url = process.env.COUPONS_TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';

module.exports = async function globalSetup() {
	const client = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
	try {
		await client.connect();
		await client.query('SELECT 1');
		process.env.COUPONS_DB_AVAILABLE = '1';
	} catch (error) {
		const where = url.replace(/\/\/[^@]*@/, '//');
		if (process.env.CI === 'true') {
			throw new Error(
				`PostgreSQL at ${where} is not reachable (${error.message}); CI=true requires the database tests to run.`,
			);
		}
		process.env.COUPONS_DB_AVAILABLE = '0';
		console.warn(
			`\n*** PostgreSQL at ${where} is not reachable (${error.message}): the database tests are SKIPPED. Set COUPONS_TEST_DATABASE_URL to run them. ***\n`,
		);
	} finally {
		await client.end().catch(() => undefined);
	}
};
