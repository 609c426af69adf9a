import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import type { CouponPostgresCredentials } from '../../nodes/shared/transport/postgres';

export const DATABASE_URL =
	process.env.COUPONS_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Set by test/globalSetup.js: database tests run only where the server answers (always under CI). */
export const databaseAvailable = process.env.COUPONS_DB_AVAILABLE === '1';
export function describeWithDatabase(name: string, tests: () => void): void {
	(databaseAvailable ? describe : describe.skip)(name, tests);
}

/** A schema name no other test uses. */
export const uniqueSchema = (label: string) =>
	`coupons_test_${label}_${process.pid}_${randomBytes(3).toString('hex')}`;

/** The Coupon PostgreSQL credential for the test server, on its own schema. */
export function testCredentials(
	schema: string,
	overrides: Partial<CouponPostgresCredentials> = {},
): CouponPostgresCredentials {
	const url = new URL(DATABASE_URL);
	return {
		host: url.hostname,
		port: Number(url.port || 5432),
		database: url.pathname.slice(1) || 'postgres',
		user: decodeURIComponent(url.username || 'postgres'),
		password: decodeURIComponent(url.password),
		ssl: 'disable',
		schema,
		maxConnections: 10,
		...overrides,
	};
}

/** Runs SQL on a connection of its own, outside the store: for checks and for dropping schemas. */
export async function sql<T = Record<string, unknown>>(
	text: string,
	params: unknown[] = [],
): Promise<T[]> {
	const client = new Client({ connectionString: DATABASE_URL });
	await client.connect();
	try {
		return (await client.query(text, params)).rows as T[];
	} finally {
		await client.end();
	}
}

export async function dropSchema(schema: string): Promise<void> {
	await sql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}
