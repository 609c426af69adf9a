// The benchmark's PostgreSQL: the same server and variable as the tests.
const databaseUrl =
	process.env.COUPONS_TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';

function credentials(schema) {
	const url = new URL(databaseUrl);
	return {
		host: url.hostname,
		port: Number(url.port || 5432),
		database: url.pathname.slice(1),
		user: decodeURIComponent(url.username || 'postgres'),
		password: decodeURIComponent(url.password),
		ssl: 'disable',
		schema,
		maxConnections: 4,
	};
}

/** Drops the benchmark's schemas, with everything in them. */
async function dropSchemas(...schemas) {
	const { Client } = require('pg');
	const client = new Client({ connectionString: databaseUrl });
	await client.connect();
	try {
		for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
	} finally {
		await client.end();
	}
}

module.exports = { databaseUrl, credentials, dropSchemas };
