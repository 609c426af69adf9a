import { createServer, type Server, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { Client, type PoolClient } from 'pg';
import { StoreError } from '../../nodes/shared/core/common/errors';
import { PostgresStore } from '../../nodes/shared/stores/postgres/PostgresStore';
import { MIGRATIONS, SCHEMA_VERSION } from '../../nodes/shared/stores/postgres/migrations';
import {
	parseCodeRequest,
	redeemCodes,
	validateCodes,
} from '../../nodes/shared/core/checkout/checkout';
import { contactCards } from '../../nodes/shared/core/assign/contactCard';
import { undoRedemptions } from '../../nodes/shared/core/checkout/undo';
import { databaseFor, type CouponDatabase } from '../../nodes/shared/transport/postgres';
import { copiedPages } from '../../nodes/shared/stores/postgres/statements';
import { HEAVY_TEST_MS } from '../helpers/timeouts';
import { DAY_MS } from '../../nodes/shared/core/common/validity';
import {
	DATABASE_URL,
	describeWithDatabase,
	dropSchema,
	sql,
	testCredentials,
	uniqueSchema,
} from '../helpers/postgres';
import { describeCouponStoreContract, type StoreFixture } from './contract';
import { describeOperationsContract } from './operationsContract';
import { describeSharedCodesContract } from './sharedCodesContract';
import { describeTriggerEventsContract } from './eventsContract';
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
	describeSharedCodesContract('PostgreSQL', postgresFixture);
	describeTriggerEventsContract('PostgreSQL', postgresFixture);
});

const T0 = Date.UTC(2026, 5, 1);
const pending = (contactKey: string) => ({
	contactKey,
	assignedAt: T0,
	validUntil: T0 + 30 * DAY_MS,
});

const caught = async (run: Promise<unknown>) => await failureOf(run, StoreError);

/**
 * For the tests of a describe block: a store in a schema of its own, holding coupon `name` of
 * `count` unused codes (`P0`, `P1`... for a coupon P).
 */
function storeWithCodes(label: string, name: string, count: number) {
	const fixture = { schema: uniqueSchema(label), store: undefined as unknown as PostgresStore };
	let database: CouponDatabase;
	beforeAll(async () => {
		database = databaseFor(testCredentials(fixture.schema));
		fixture.store = new PostgresStore(database);
		await fixture.store.transaction(async (s) => {
			await s.createPool(name, 'imported');
			await s.addImported(
				name,
				Array.from({ length: count }, (_, i) => ({
					code: `${name[0]}${i}`,
					key: `${name[0]}${i}`,
					row: i + 2,
				})),
			);
		});
	}, HEAVY_TEST_MS);
	afterAll(async () => {
		await database.close();
		await dropSchema(fixture.schema);
	});
	return fixture;
}

describeWithDatabase('PostgresStore', () => {
	const fixture = storeWithCodes('store', 'P', 100);
	const { schema } = fixture;
	let store: PostgresStore;
	beforeAll(() => {
		store = fixture.store;
	});

	it('redeems a code in four statements: begin, the code with its coupon, the use with the count, commit', async () => {
		const at = Date.UTC(2026, 3, 1);
		const [held] = await store.transaction(
			async (s) =>
				await s.assignImported('P', [
					{ contactKey: 'round-trips', assignedAt: at, validUntil: at + DAY_MS },
				]),
		);
		const sent: string[] = [];
		const send = Client.prototype.query;
		const spy = jest.spyOn(Client.prototype, 'query').mockImplementation(function (
			this: Client,
			...args: unknown[]
		) {
			sent.push(typeof args[0] === 'string' ? args[0] : (args[0] as { text: string }).text);
			return (send as (...a: unknown[]) => unknown).apply(this, args);
		} as typeof send);
		try {
			const [outcome] = await store.transaction(
				async (s) => await redeemCodes(s, [parseCodeRequest(held.code, {})], at + 1),
			);
			expect(outcome).toMatchObject({ value: { status: 'accepted' } });
		} finally {
			spy.mockRestore();
		}
		// The pool was read with the code: it is not looked up again by name before the writes.
		expect(sent.filter((text) => /FROM \S+\.pools WHERE name_key/.test(text))).toEqual([]);
		expect(sent).toHaveLength(4);
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
			// Any code no contact holds: the random assignment above may have taken any one.
			sql(
				`UPDATE "${schema}".codes SET contact_key = 'bob' WHERE code = (SELECT code FROM "${schema}".codes WHERE contact_key IS NULL LIMIT 1)`,
			),
		).rejects.toThrow(/codes_assignment_whole/);
	});

	/** A schema as an older release of the package left it: migrations up to `version` only. */
	async function schemaAt(version: number): Promise<string> {
		const old = uniqueSchema(`v${version}`);
		const s = `"${old}"`;
		await sql(
			`CREATE SCHEMA ${s}; CREATE TABLE ${s}.schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
		);
		for (const migration of MIGRATIONS.filter((m) => m.version <= version))
			await sql(
				`${migration.sql(s)}; INSERT INTO ${s}.schema_migrations (version) VALUES (${migration.version})`,
			);
		// Coupons as that release wrote them: an unused code, an assigned one, and (from version 2) a
		// redeemed one.
		await sql(`INSERT INTO ${s}.pools (name, name_key, kind, code_count) VALUES ('Old', 'old', 'imported', 3);
			INSERT INTO ${s}.codes (pool_id, code_key, code, contact_key, assigned_at, valid_until) VALUES
				(1, 'FREE', 'FREE', NULL, NULL, NULL),
				(1, 'HELD', 'HELD', 'ann', '2026-06-01Z', '2026-07-01Z'),
				(1, 'USED', 'USED', 'bob', '2026-06-01Z', '2026-07-01Z')`);
		if (version >= 2)
			await sql(
				`UPDATE ${s}.codes SET redeemed_at = '2026-06-02Z', order_reference = 'A-1' WHERE code = 'USED'`,
			);
		return old;
	}

	const relfilenode = async (schema: string) =>
		(
			await sql<{ relfilenode: number }>(
				`SELECT relfilenode FROM pg_class WHERE oid = '"${schema}".codes'::regclass`,
			)
		)[0].relfilenode;

	it.each([1, 2])(
		'upgrades a version %i schema in place without rewriting its codes, keeping what they say',
		async (version) => {
			const old = await schemaAt(version);
			const before = await relfilenode(old);
			const upgraded = databaseFor(testCredentials(old, { maxConnections: 3 }));
			try {
				const at = Date.UTC(2026, 5, 10);
				const [checks, undo, redeemed] = await new PostgresStore(upgraded).transaction(
					async (s) => [
						await validateCodes(
							s,
							['FREE', 'HELD', 'USED'].map((code) => parseCodeRequest(code, {})),
							at,
						),
						await undoRedemptions(s, [parseCodeRequest('USED', {})], at),
						await redeemCodes(s, [parseCodeRequest('HELD', { orderReference: 'B-2' })], at),
					],
				);
				expect(checks.map((c) => 'value' in c && c.value.status)).toEqual([
					'not_assigned',
					'valid',
					version === 1 ? 'valid' : 'redeemed',
				]);
				// A redemption written before uses were counted is a use like any other.
				expect(undo[0]).toMatchObject({
					value: { undone: version === 2, status: version === 1 ? 'not_redeemed' : 'undone' },
				});
				expect(redeemed[0]).toMatchObject({ value: { accepted: true } });
				expect(await relfilenode(old)).toBe(before);
				expect(
					await sql(`SELECT version FROM "${old}".schema_migrations ORDER BY version`),
				).toEqual(MIGRATIONS.map(({ version }) => ({ version })));
				const card = await new PostgresStore(upgraded).transaction(
					async (s) => await contactCards(s, ['bob'], at),
				);
				expect(card.get('bob')![0]).toMatchObject(
					version === 1
						? { status: 'active', uses: 0, redemptions: [] }
						: {
								status: 'active',
								uses: 0,
								redemptions: [
									{
										redeemedAt: '2026-06-02T00:00:00.000Z',
										orderReference: 'A-1',
										undoneAt: new Date(at).toISOString(),
									},
								],
							},
				);
			} finally {
				await upgraded.close();
				await dropSchema(old);
			}
		},
	);

	it('stops a worker still on version 2 from redeeming, telling it to update, while it can still assign', async () => {
		const old = await schemaAt(2);
		const upgraded = databaseFor(testCredentials(old, { maxConnections: 3 }));
		try {
			await new PostgresStore(upgraded).transaction(async (s) => await s.findPool('Old'));
			// The statements version 2 of the package ran to assign and to redeem.
			await sql(
				`UPDATE "${old}".codes SET contact_key = 'cid', assigned_at = now(), valid_until = now() + interval '1 day' WHERE code = 'FREE' AND contact_key IS NULL`,
			);
			await expect(
				sql(
					`UPDATE "${old}".codes AS c SET redeemed_at = now(), order_reference = r.order_reference
					FROM unnest($1::text[], $2::text[]) AS r (code_key, order_reference)
					WHERE c.pool_id = 1 AND c.code_key = r.code_key AND c.contact_key IS NOT NULL AND c.replaced_at IS NULL AND c.redeemed_at IS NULL`,
					[['HELD'], ['C-3']],
				),
			).rejects.toThrow(
				'Code HELD was not redeemed: n8n-nodes-coupons on this n8n process is older than the coupon database (schema 3); update it on every n8n main and worker process',
			);
		} finally {
			await upgraded.close();
			await dropSchema(old);
		}
	});

	it('lets the database itself refuse a code both redeemed and replaced, and uses or holds on unassigned codes', async () => {
		const [assigned] = await store.transaction(
			async (s) => await s.assignImported('P', [pending('dora'), pending('eve')]),
		);
		await sql(`UPDATE "${schema}".codes SET uses = 1, redeemed_at = now() WHERE code = $1`, [
			assigned.code,
		]);
		await expect(
			sql(`UPDATE "${schema}".codes SET replaced_at = now() WHERE code = $1`, [assigned.code]),
		).rejects.toThrow(/both redeemed and replaced/);
		// Any code no contact holds: the random assignment above may have taken any one.
		const [{ code: unassigned }] = await sql<{ code: string }>(
			`SELECT code FROM "${schema}".codes WHERE contact_key IS NULL LIMIT 1`,
		);
		await expect(
			sql(`UPDATE "${schema}".codes SET uses = 1, redeemed_at = now() WHERE code = $1`, [
				unassigned,
			]),
		).rejects.toThrow(/codes_redeemed_when_assigned/);
		await expect(
			sql(`UPDATE "${schema}".codes SET held_for = 'x', held_until = now() WHERE code = $1`, [
				unassigned,
			]),
		).rejects.toThrow(/codes_held_when_assigned/);
		await expect(
			sql(`UPDATE "${schema}".codes SET held_for = 'x' WHERE code = $1`, [assigned.code]),
		).rejects.toThrow(/codes_hold_whole/);
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
		// A hang runs into the test's timeout.
		const error = await caught(
			new PostgresStore(database).transaction(async (s) => await s.findPool('x')),
		);
		await database.close();
		expect(error.message).toBe(
			`Could not connect to PostgreSQL at 127.0.0.1:${port}: no answer within 10 seconds`,
		);
	}, 60_000);
});

describeWithDatabase('Reading a coupon through COPY', () => {
	const fixture = storeWithCodes('copy', 'BIG', 50_000);

	it(
		'leaves the session usable when the reader stops after the first page of many',
		async () => {
			const [first, counts] = await fixture.store.transaction(async (s) => {
				let page: unknown[] = [];
				for await (page of s.listCodes('BIG', 10)) break;
				return [page, await s.countPool('BIG', T0, T0)] as const;
			});
			expect(first).toHaveLength(10);
			expect(counts.available).toBe(50_000);
		},
		HEAVY_TEST_MS,
	);

	it('closes the connection of a copy its query timer failed, before the server’s late rows arrive', async () => {
		const client = new Client({ connectionString: DATABASE_URL, query_timeout: 300 });
		client.on('error', () => undefined);
		await client.connect();
		const ended = new Promise((resolve) => client.once('end', resolve));
		await expect(
			(async () => {
				for await (const _page of copiedPages(
					client as unknown as PoolClient,
					'COPY (SELECT g, pg_sleep(CASE WHEN g = 1 THEN 1 ELSE 0 END) FROM generate_series(1, 50000) g) TO STDOUT',
					(line) => line.text(0),
					1000,
					'the test',
				));
			})(),
		).rejects.toThrow('Query read timeout');
		// Left open, the server's rows a moment later reach a copy that stopped parsing, and throw.
		await ended;
		await new Promise((resolve) => setTimeout(resolve, 1500));
	}, 30_000);

	it('leaves no query timer behind to fail the connection after the copy', async () => {
		const client = new Client({ connectionString: DATABASE_URL, query_timeout: 200 });
		await client.connect();
		const errors: unknown[] = [];
		const query = client.query.bind(client) as (...args: unknown[]) => unknown;
		jest.spyOn(client, 'query').mockImplementation(((...args: unknown[]) => {
			const submitted = query(...args);
			if (submitted instanceof Readable) submitted.on('error', (error) => errors.push(error));
			return submitted;
		}) as never);
		try {
			const rows: string[] = [];
			for await (const page of copiedPages(
				client as unknown as PoolClient,
				'COPY (SELECT g FROM generate_series(1, 3) g) TO STDOUT',
				(line) => line.text(0)!,
				2,
				'the test',
			))
				rows.push(...page);
			expect(rows).toEqual(['1', '2', '3']);
			await new Promise((resolve) => setTimeout(resolve, 500));
			expect(errors).toEqual([]);
		} finally {
			await client.end();
		}
	});
});
