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

module.exports = { databaseUrl, credentials };
