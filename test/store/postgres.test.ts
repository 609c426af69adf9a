import { createServer, type Server, type Socket } from 'node:net';
import { StoreError } from '../../nodes/shared/core/errors';
import { PostgresStore } from '../../nodes/shared/store/postgres/PostgresStore';
import { SCHEMA_VERSION } from '../../nodes/shared/store/postgres/migrations';
import { databaseFor, type CouponDatabase } from '../../nodes/shared/transport/postgres';
import { DAY_MS } from '../../nodes/shared/core/validity';
import {
	describeWithDatabase,
	dropSchema,
	sql,
	testCredentials,
	uniqueSchema,
} from '../helpers/postgres';
import { describeCouponStoreContract, type StoreFixture } from './contract';
import { describeOperationsContract } from './operationsContract';
import { failureOf } from '../helpers/executeFunctions';

async function postgresFixture(): Promise<StoreFixture> {
	const schema = uniqueSchema('contract');
	const database = databaseFor(testCredentials(schema));
	return {
		open: () => new PostgresStore(database),
		close: async () => {
			await database.close();
			await dropSchema(schema);
		},
	};
}

describeWithDatabase('PostgreSQL store', () => {
	describeCouponStoreContract('PostgreSQL', postgresFixture);
	describeOperationsContract('PostgreSQL', postgresFixture);
});

const T0 = Date.UTC(2026, 5, 1);
const pending = (contactKey: string) => ({
	contactKey,
	assignedAt: T0,
	validUntil: T0 + 30 * DAY_MS,
});

const caught = async (run: Promise<unknown>) => await failureOf(run, StoreError);

describeWithDatabase('PostgresStore', () => {
	const schema = uniqueSchema('store');
	let database: CouponDatabase;
	let store: PostgresStore;

	beforeAll(async () => {
		database = databaseFor(testCredentials(schema));
		store = new PostgresStore(database);
		await store.transaction(async (s) => {
			await s.createPool('P', 'imported');
			await s.addImported(
				'P',
				Array.from({ length: 100 }, (_, i) => ({ code: `P${i}`, key: `P${i}`, row: i + 2 })),
			);
		});
	});
	afterAll(async () => {
		await database.close();
		await dropSchema(schema);
	});

	it('migrates once when several processes start at the same moment', async () => {
		const fresh = uniqueSchema('migrate');
		// Different pool sizes make separate pools: separate connections, as separate processes would have.
		const databases = Array.from({ length: 6 }, (_, i) =>
			databaseFor(testCredentials(fresh, { maxConnections: i + 1 })),
		);
		try {
			await Promise.all(
				databases.map(
					async (db) => await new PostgresStore(db).transaction(async (s) => await s.findPool('x')),
				),
			);
			const versions = Array.from({ length: SCHEMA_VERSION }, (_, i) => ({ version: i + 1 }));
			expect(
				await sql(`SELECT version FROM "${fresh}".schema_migrations ORDER BY version`),
			).toEqual(versions);
		} finally {
			await Promise.all(databases.map(async (db) => await db.close()));
			await dropSchema(fresh);
		}
	});

	it('lets the database itself refuse a second holder or a second copy of a code', async () => {
		const [assigned] = await store.transaction(
			async (s) => await s.assignImported('P', [pending('ann')]),
		);
		await expect(
			sql(`UPDATE "${schema}".codes SET contact_key = 'bob' WHERE code = $1`, [assigned.code]),
		).rejects.toThrow(/already assigned/);
		await expect(
			sql(
				`UPDATE "${schema}".codes SET valid_until = valid_until + interval '1 year' WHERE code = $1`,
				[assigned.code],
			),
		).rejects.toThrow(/already assigned/);
		await expect(
			sql(
				`INSERT INTO "${schema}".codes (pool_id, code, code_key) SELECT pool_id, 'x', code_key FROM "${schema}".codes WHERE code = 'P1'`,
			),
		).rejects.toThrow(/codes_pkey/);
		await expect(
			sql(`UPDATE "${schema}".codes SET contact_key = 'bob' WHERE code = 'P2'`),
		).rejects.toThrow(/codes_assignment_whole/);
	});

	it('upgrades a version 1 schema in place, keeping its coupons', async () => {
		const old = uniqueSchema('upgrade');
		const database = databaseFor(testCredentials(old));
		try {
			await new PostgresStore(database).transaction(async (s) => {
				await s.createPool('Old', 'imported');
				await s.addImported('Old', [{ code: 'OLD-1', key: 'OLD1', row: 2 }]);
				await s.assignImported('Old', [pending('ann')]);
			});
			// Back to version 1 as a released package left it: no redemption columns, no trigger.
			await sql(`DROP TRIGGER codes_redeem_once ON "${old}".codes; DROP FUNCTION "${old}".codes_redeem_once();
				ALTER TABLE "${old}".codes DROP COLUMN redeemed_at, DROP COLUMN order_reference; DELETE FROM "${old}".schema_migrations WHERE version > 1`);
			await database.close();
			const upgraded = databaseFor(testCredentials(old, { maxConnections: 3 }));
			const [found] = await new PostgresStore(upgraded).transaction(async (s) => {
				const codes = await s.findCodes(['OLD1'], true);
				await s.markRedeemed('Old', [{ code: 'OLD-1', orderReference: 'A-1' }], T0 + 1);
				return codes;
			});
			await upgraded.close();
			expect(found.assignment).toEqual({
				code: 'OLD-1',
				contactKey: 'ann',
				assignedAt: T0,
				validUntil: T0 + 30 * DAY_MS,
			});
			expect(await sql(`SELECT version FROM "${old}".schema_migrations ORDER BY version`)).toEqual([
				{ version: 1 },
				{ version: 2 },
			]);
			expect(await sql(`SELECT order_reference FROM "${old}".codes`)).toEqual([
				{ order_reference: 'A-1' },
			]);
		} finally {
			await dropSchema(old);
		}
	});

	it('lets the database itself refuse a second redemption, or a code both redeemed and replaced', async () => {
		const [assigned] = await store.transaction(
			async (s) => await s.assignImported('P', [pending('dora'), pending('eve')]),
		);
		await sql(`UPDATE "${schema}".codes SET redeemed_at = now() WHERE code = $1`, [assigned.code]);
		await expect(
			sql(`UPDATE "${schema}".codes SET redeemed_at = now() + interval '1 day' WHERE code = $1`, [
				assigned.code,
			]),
		).rejects.toThrow(/already redeemed/);
		await expect(
			sql(`UPDATE "${schema}".codes SET order_reference = 'late' WHERE code = $1`, [assigned.code]),
		).rejects.toThrow(/already redeemed/);
		await expect(
			sql(`UPDATE "${schema}".codes SET replaced_at = now() WHERE code = $1`, [assigned.code]),
		).rejects.toThrow(/both redeemed and replaced/);
		await expect(
			sql(
				`UPDATE "${schema}".codes SET redeemed_at = now() WHERE code = 'P3' AND contact_key IS NULL`,
			),
		).rejects.toThrow(/codes_redeemed_when_assigned/);
	});

	it('rolls back a batch whose connection is killed half way, with a clear error, and the next run succeeds', async () => {
		const [{ assigned: before }] = await sql<{ assigned: string }>(
			`SELECT count(contact_key) AS assigned FROM "${schema}".codes`,
		);
		const error = await caught(
			store.transaction(async (s) => {
				await s.assignImported('P', [pending('c1'), pending('c2'), pending('c3')]);
				// Another connection kills the backend that holds this transaction's row locks.
				const killed = await sql<{ pg_terminate_backend: boolean }>(
					`SELECT pg_terminate_backend(pid) FROM pg_locks WHERE relation = '"${schema}".codes'::regclass AND mode = 'RowExclusiveLock' AND pid <> pg_backend_pid()`,
				);
				expect(killed).toEqual([{ pg_terminate_backend: true }]);
				await s.assignImported('P', [pending('c4')]);
			}),
		);
		expect(error.message).toMatch(/^The connection to PostgreSQL at 127\.0\.0\.1:5432 was lost/);
		expect(error.description).toMatch(/Nothing of this step was saved\. Run it again/);
		const [{ assigned: after }] = await sql<{ assigned: string }>(
			`SELECT count(contact_key) AS assigned FROM "${schema}".codes`,
		);
		expect(after).toBe(before);

		const next = await store.transaction(async (s) => await s.assignImported('P', [pending('c1')]));
		expect(next).toHaveLength(1);
	});
});

describe('PostgresStore when the database cannot be reached', () => {
	let silent: Server;
	const sockets: Socket[] = [];
	beforeAll(async () => {
		// Accepts connections and never answers, like a server that hangs.
		silent = createServer((socket) => sockets.push(socket));
		await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
	});
	afterAll(async () => {
		sockets.forEach((socket) => socket.destroy());
		await new Promise((resolve) => silent.close(resolve));
	});

	it('names host and port when nothing listens', async () => {
		const database = databaseFor(testCredentials('coupons', { host: '127.0.0.1', port: 1 }));
		const error = await caught(
			new PostgresStore(database).transaction(async (s) => await s.findPool('x')),
		);
		await database.close();
		expect(error.message).toBe(
			'Could not connect to PostgreSQL at 127.0.0.1:1: the connection was refused; nothing accepts connections on that port',
		);
		expect(error.description).toMatch(/host and port in the Coupon PostgreSQL credential/);
	});

	it('gives up on a server that never answers after the connect timeout, instead of hanging', async () => {
		const { port } = silent.address() as { port: number };
		const database = databaseFor(testCredentials('coupons', { host: '127.0.0.1', port }));
		const started = Date.now();
		const error = await caught(
			new PostgresStore(database).transaction(async (s) => await s.findPool('x')),
		);
		await database.close();
		expect(error.message).toBe(
			`Could not connect to PostgreSQL at 127.0.0.1:${port}: no answer within 10 seconds`,
		);
		expect(Date.now() - started).toBeLessThan(20_000);
	}, 30_000);
});
