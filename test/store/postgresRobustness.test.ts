import { createServer, type Server, type Socket } from 'node:net';
import type { ICredentialsDecrypted, ICredentialTestFunctions } from 'n8n-workflow';
import { codeKey, UNAMBIGUOUS_CHARACTERS } from '../../nodes/shared/core/codes/codes';
import { StoreError } from '../../nodes/shared/core/common/errors';
import { candidatesFrom, importInto } from '../helpers/imports';
import { assignCoupons } from '../../nodes/shared/core/assign/assign';
import { deleteCoupons } from '../../nodes/shared/core/pool/deleteCoupon';
import { DAY_MS } from '../../nodes/shared/core/common/validity';
import { couponPostgresConnectionTest } from '../../nodes/shared/n8n/methods/credentialTest';
import { PostgresStore } from '../../nodes/shared/stores/postgres/PostgresStore';
import { CouponDatabase, databaseFor } from '../../nodes/shared/transport/postgres';
import { failureOf } from '../helpers/executeFunctions';
import {
	describeWithDatabase,
	dropSchema,
	sql,
	testCredentials,
	uniqueSchema,
} from '../helpers/postgres';
import { HEAVY_TEST_MS } from '../helpers/timeouts';

const T0 = Date.UTC(2026, 5, 1);
const pending = (contactKey: string) => ({
	contactKey,
	assignedAt: T0,
	validUntil: T0 + 30 * DAY_MS,
});
const codes = (prefix: string, n: number) =>
	Array.from({ length: n }, (_, i) => ({
		code: `${prefix}${i}`,
		key: codeKey(`${prefix}${i}`),
		row: i + 2,
	}));

/** A promise and the function that settles it: lets a test hold a transaction open. */
function gate(): { opened: Promise<void>; open: () => void } {
	let open!: () => void;
	const opened = new Promise<void>((resolve) => (open = resolve));
	return { opened, open };
}

describeWithDatabase('PostgreSQL store under contention', () => {
	const schema = uniqueSchema('robust');
	let database: CouponDatabase;
	let store: PostgresStore;
	beforeAll(async () => {
		database = databaseFor(testCredentials(schema));
		store = new PostgresStore(database);
	});
	afterAll(async () => {
		await database.close();
		await dropSchema(schema);
	});

	it(
		'does not call a coupon exhausted while another run holds its last code and then rolls back',
		async () => {
			await store.transaction(async (s) => {
				await s.createPool('Last', 'imported');
				await s.addImported('Last', codes('L', 1));
			});
			const holding = gate();
			const release = gate();
			const first = store.transaction(async (s) => {
				await s.assignImported('Last', [pending('first')]);
				holding.open();
				await release.opened;
				throw new Error('the first run fails and rolls back');
			});
			await holding.opened;
			const second = store.transaction(
				async (s) => await s.assignImported('Last', [pending('second')]),
			);
			// The second run waits for the first instead of skipping its row; the first then rolls back.
			await new Promise((resolve) => setTimeout(resolve, 300));
			release.open();
			await expect(first).rejects.toThrow('rolls back');
			expect((await second).map((a) => a.contactKey)).toEqual(['second']);
		},
		HEAVY_TEST_MS,
	);

	it.each([
		['a contact seen before', true],
		['a new contact', false],
	])(
		'holds %s until the transaction ends: a second run waits before it reads their assignments',
		async (_label, seenBefore) => {
			const contact = seenBefore ? 'seen-before' : 'new-contact';
			await store.transaction(async (s) => {
				if (!(await s.findPool('Contacts'))) await s.createPool('Contacts', 'imported');
				if (seenBefore) await s.assignmentsOf('Contacts', [contact]);
			});
			const holding = gate();
			const release = gate();
			const first = store.transaction(async (s) => {
				await s.assignmentsOf('Contacts', [contact]);
				holding.open();
				await release.opened;
			});
			await holding.opened;
			let secondRead = false;
			const second = store.transaction(async (s) => {
				await s.assignmentsOf('Contacts', [contact]);
				secondRead = true;
			});
			// Polled: the second run's statement on the contact waits for the first run's lock (or,
			// without it, reads at once).
			while (!secondRead) {
				const [waiting] = await sql<{ count: string }>(
					`SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%"${schema}".contacts%'`,
				);
				if (Number(waiting.count) > 0) break;
				await new Promise((resolve) => setTimeout(resolve, 50));
			}
			expect(secondRead).toBe(false);
			release.open();
			await first;
			await second;
			expect(secondRead).toBe(true);
		},
		HEAVY_TEST_MS,
	);

	it(
		'stops a Delete Coupon that finds a code given to a contact while it deleted, keeping the coupon',
		async () => {
			await store.transaction(async (s) => {
				await s.createPool('Gone', 'imported');
				await s.addImported('Gone', codes('G', 3));
			});
			const holding = gate();
			const release = gate();
			const assigning = store.transaction(async (s) => {
				await s.assignImported('Gone', [pending('ann')]);
				holding.open();
				await release.opened;
			});
			await holding.opened;
			// The deletion counts no assigned code (the assignment is not committed yet), then waits
			// for the assigned row.
			const deleting = store.transaction(
				async (s) => await deleteCoupons(s, [{ couponName: 'Gone', withAssigned: false }], T0 + 1),
			);
			for (;;) {
				const [waiting] = await sql<{ count: string }>(
					`SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%DELETE FROM%codes%'`,
				);
				if (Number(waiting.count) > 0) break;
				await new Promise((resolve) => setTimeout(resolve, 50));
			}
			release.open();
			await assigning;
			await expect(deleting).rejects.toThrow(
				'Another run gave codes of coupon "Gone" to contacts while it was being deleted',
			);
			const left = await store.transaction(async (s) => await s.countPool('Gone', T0 + 1, 0));
			expect(left).toMatchObject({ available: 2, assigned: 1 });
		},
		HEAVY_TEST_MS,
	);

	it('lets runs assign one generated coupon to different contacts without waiting for each other', async () => {
		const settings = {
			couponName: 'GenShared',
			validDays: 30,
			policy: 'reuse' as const,
			format: { characters: UNAMBIGUOUS_CHARACTERS, length: 10, prefix: '' },
			usesPerCode: 1,
		};
		await store.transaction(
			async (s) => await assignCoupons(s, settings, [{ contact: 'seed', contactKey: 'seed' }], T0),
		);
		const release = gate();
		const holding = gate();
		const slow = store.transaction(async (s) => {
			const result = await assignCoupons(s, settings, [{ contact: 'a', contactKey: 'a' }], T0);
			holding.open();
			await release.opened;
			return result;
		});
		await holding.opened;
		const quick = store.transaction(
			async (s) => await assignCoupons(s, settings, [{ contact: 'b', contactKey: 'b' }], T0),
		);
		const winner = await Promise.race([
			quick.then(() => 'quick'),
			new Promise((resolve) => setTimeout(() => resolve('blocked'), 3000)),
		]);
		release.open();
		await slow;
		expect(winner).toBe('quick');
		expect(await store.transaction(async (s) => await s.findPool('GenShared'))).toMatchObject({
			codeCount: 3,
		});
	});

	it('imports files naming the same coupons in opposite orders at once without deadlock', async () => {
		const table = (names: string[]) => ({
			sheetName: 'S',
			rows: [
				['coupon name', 'coupon value'],
				...names.flatMap((name) =>
					Array.from({ length: 50 }, (_, i) => [name, `${name}-${i}-${Math.random()}`]),
				),
			],
			cell: (raw: unknown) => raw as string,
		});
		const settings = {
			withdraw: false,
			nameColumn: 'coupon name',
			valueColumn: 'coupon value',
			maxRows: 1000,
			maxNewCoupons: 1000,
			usesPerCode: 1,
			now: Date.now(),
		};
		for (let round = 0; round < 5; round++) {
			await Promise.all([
				importInto(store, table(['Xmas', 'Yule']), settings),
				importInto(store, table(['Yule', 'Xmas']), settings),
			]);
		}
		expect(
			await store.transaction(async (s) => [await s.findPool('Xmas'), await s.findPool('Yule')]),
		).toMatchObject([{ codeCount: 500 }, { codeCount: 500 }]);
	});

	it('loses an import whose staging connection is killed half way, saying so, and leaves nothing behind', async () => {
		await store.transaction(async (s) => await s.createPool('Killed', 'imported'));
		const error = await failureOf(
			store.withStaging(async (staging) => {
				const list = staging.newList();
				await staging.stage(list, candidatesFrom(2));
				// Another connection ends the one that holds the staged table.
				await sql(
					`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND datname = current_database() AND query LIKE '%pg_temp.coupon_sta%'`,
				);
				await staging.stage(list, candidatesFrom(5));
				return await staging.transaction(async (s) => await s.addStaged('Killed', list));
			}),
			StoreError,
		);
		expect(error.message).toMatch(/PostgreSQL at .* (failed|closed the connection|lost)/);
		expect((await store.transaction(async (s) => await s.findPool('Killed')))!.codeCount).toBe(0);
		// The pool's other connections were never touched; a new staging area starts empty.
		const outcome = await store.withStaging(async (staging) => {
			const list = staging.newList();
			expect(await staging.stage(list, candidatesFrom(2))).toEqual([]);
			return await staging.transaction(async (s) => await s.addStaged('Killed', list));
		});
		expect(outcome).toMatchObject({ added: 3, codeCount: 3 });
		const [{ staged }] = await sql<{ staged: string }>(
			`SELECT count(*) AS staged FROM pg_class WHERE relname = 'coupon_staged' AND relpersistence = 't'`,
		);
		expect(Number(staged)).toBe(0);
	});

	it(
		'keeps a pool open while a run uses it longer than the idle time, and closes it once idle',
		async () => {
			let closed = false;
			const shortLived = new CouponDatabase(testCredentials(schema), () => (closed = true), 200);
			const shortStore = new PostgresStore(shortLived);
			await shortStore.transaction(async (s) => {
				await new Promise((resolve) => setTimeout(resolve, 500));
				return await s.findPool('Last');
			});
			expect(closed).toBe(false);
			expect(await shortStore.transaction(async (s) => await s.findPool('Last'))).toMatchObject({
				name: 'Last',
			});
			await new Promise((resolve) => setTimeout(resolve, 500));
			expect(closed).toBe(true);
		},
		HEAVY_TEST_MS,
	);
});

describeWithDatabase('PostgreSQL store for a user who may only read and write the tables', () => {
	const schema = uniqueSchema('dml');
	const role = `${schema}_user`;
	let owner: CouponDatabase;
	let limited: CouponDatabase;
	beforeAll(async () => {
		owner = databaseFor(testCredentials(schema));
		await new PostgresStore(owner).transaction(async (s) => {
			await s.createPool('P', 'imported');
			await s.addImported('P', codes('P', 20));
		});
		// No DDL rights, and a default isolation level that would break concurrent assignments if kept.
		await sql(`CREATE ROLE ${role} LOGIN; GRANT USAGE ON SCHEMA "${schema}" TO ${role};
			GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA "${schema}" TO ${role};
			ALTER ROLE ${role} SET default_transaction_isolation = 'repeatable read'`);
		limited = databaseFor(testCredentials(schema, { user: role }));
	});
	afterAll(async () => {
		await limited.close();
		await owner.close();
		await dropSchema(schema);
		await sql(`DROP ROLE IF EXISTS ${role}`);
	});

	it('works without DDL rights once the schema is set up, and the credential test says so', async () => {
		const assigned = await new PostgresStore(limited).transaction(
			async (s) => await s.assignImported('P', [pending('ann')]),
		);
		expect(assigned).toHaveLength(1);
		const result = await couponPostgresConnectionTest.call(
			{} as ICredentialTestFunctions,
			{ data: testCredentials(schema, { user: role }) } as unknown as ICredentialsDecrypted,
		);
		expect(result).toEqual({
			status: 'OK',
			message: expect.stringContaining(`can use the coupon tables in schema "${schema}"`),
		});
	});

	it('assigns correctly although the role defaults to REPEATABLE READ', async () => {
		const limitedStore = new PostgresStore(limited);
		const later = gate();
		// This run's first statement comes before the other run commits; its assignment comes after.
		const run = limitedStore.transaction(async (s) => {
			await s.findPool('P');
			await later.opened;
			return await s.assignImported('P', [pending('second')]);
		});
		await new PostgresStore(owner).transaction(
			async (s) => await s.assignImported('P', [pending('first')]),
		);
		later.open();
		expect(await run).toHaveLength(1);
	});
});

describe('PostgreSQL login failures', () => {
	let server: Server;
	const sockets: Socket[] = [];
	let receivedPassword = '';
	beforeAll(async () => {
		// Speaks just enough of the PostgreSQL protocol to ask for a password and refuse it.
		server = createServer((socket) => {
			sockets.push(socket);
			let stage = 0;
			socket.on('data', (data) => {
				if (stage++ === 0) {
					socket.write(Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 3])); // AuthenticationCleartextPassword
					return;
				}
				receivedPassword = data.subarray(5, data.length - 1).toString();
				const fields = Buffer.from(
					'SFATAL\0C28P01\0Mpassword authentication failed for user "coupons"\0\0',
				);
				const header = Buffer.alloc(5);
				header.write('E');
				header.writeUInt32BE(fields.length + 4, 1);
				socket.end(Buffer.concat([header, fields]));
			});
		});
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	});
	afterAll(async () => {
		sockets.forEach((socket) => socket.destroy());
		await new Promise((resolve) => server.close(resolve));
	});

	it('names the server and what to check, and never shows the password it sent', async () => {
		const { port } = server.address() as { port: number };
		const database = databaseFor(
			testCredentials('coupons', {
				host: '127.0.0.1',
				port,
				user: 'coupons',
				password: 'S3cret-Pa55',
			}),
		);
		const error = await failureOf(
			new PostgresStore(database).transaction(async (s) => await s.findPool('x')),
			StoreError,
		);
		await database.close();
		expect(receivedPassword).toBe('S3cret-Pa55');
		expect(error.message).toBe(
			`PostgreSQL at 127.0.0.1:${port} refused the login: password authentication failed for user "coupons"`,
		);
		expect(error.description).toMatch(/Check the user and password/);
		expect(`${error.message} ${error.description} ${error.stack}`).not.toContain('S3cret-Pa55');
	});
});
