import { UNAMBIGUOUS_CHARACTERS } from '../../nodes/shared/core/codes/codes';
import { renderMessages } from '../../nodes/shared/core/render/render';
import type { CouponStoreSession } from '../../nodes/shared/core/storeContract';
import { PostgresStore } from '../../nodes/shared/stores/postgres/PostgresStore';
import { databaseFor, type CouponDatabase } from '../../nodes/shared/transport/postgres';
import {
	describeWithDatabase,
	dropSchema,
	sql,
	testCredentials,
	uniqueSchema,
} from '../helpers/postgres';
import {
	assignInProcesses,
	assignmentsOf,
	expectEachCodeOnce,
	importLoadPool,
} from './assignProcesses';
import { describeCheckoutRaces } from './checkoutRaces';

const LOAD = { processes: 8, rounds: 10, uniquePerRound: 45, shared: 15 };
const POOL = 5_000;

describeWithDatabase('PostgreSQL under concurrent processes', () => {
	const schema = uniqueSchema('concurrency');
	let database: CouponDatabase;

	beforeAll(async () => {
		database = databaseFor(testCredentials(schema));
		await importLoadPool(new PostgresStore(database), POOL);
	});
	afterAll(async () => {
		await database.close();
		await dropSchema(schema);
	});

	it(`${LOAD.processes} processes assigning at once never give a code twice, lose none, and keep reuse`, async () => {
		const results = await assignInProcesses(`postgres:${schema}`, LOAD);
		const holders = expectEachCodeOnce(results, LOAD);
		// Every assignment that succeeded is in the table, and the pool fell by exactly the assignments made.
		const rows = await sql<{ code: string; contact_key: string }>(
			`SELECT code, contact_key FROM "${schema}".codes WHERE contact_key IS NOT NULL`,
		);
		expect(new Map(rows.map((row) => [row.code, row.contact_key]))).toEqual(holders);
		const [{ available }] = await sql<{ available: string }>(
			`SELECT count(*) AS available FROM "${schema}".codes WHERE contact_key IS NULL`,
		);
		expect(Number(available)).toBe(POOL - assignmentsOf(LOAD));
	}, 120_000);

	it('renders templates naming two coupons in opposite orders at once without deadlocking', async () => {
		const store = new PostgresStore(database);
		await store.transaction(async (s) => {
			for (const name of ['ALPHA', 'BETA']) {
				await s.createPool(name, 'imported');
				await s.addImported(
					name,
					Array.from({ length: 10 }, (_, i) => ({
						code: `${name}-${i}`,
						key: `${name}${i}`,
						row: i + 2,
					})),
				);
			}
		});
		// Each run pauses after locking a coupon's contacts, so both hold their first lock before taking the second.
		const pausing = (session: CouponStoreSession): CouponStoreSession =>
			new Proxy(session, {
				get: (target, property: keyof CouponStoreSession) =>
					property === 'assignmentsOf'
						? async (...args: Parameters<CouponStoreSession['assignmentsOf']>) => {
								const held = await target.assignmentsOf(...args);
								await new Promise((resolve) => setTimeout(resolve, 300));
								return held;
							}
						: typeof target[property] === 'function'
							? (target[property] as (...args: unknown[]) => unknown).bind(target)
							: target[property],
			});
		const format = { characters: UNAMBIGUOUS_CHARACTERS, length: 8, prefix: '' };
		const render = async (template: string) =>
			await store.transaction(
				async (s) =>
					await renderMessages(
						pausing(s),
						[
							{
								template,
								contact: 'pat@example.com',
								contactKey: 'pat@example.com',
								settings: {
									whenMissing: 'assign',
									createCoupons: true,
									whenUnfilled: 'leave' as const,
									validDays: 7,
									format,
									maxNewCoupons: 100,
									dates: { format: 'isoDate', timeZone: 'UTC', locale: 'en-US' },
								},
							},
						],
						Date.now(),
					),
			);
		const results = await Promise.all([
			render('$cst.ALPHA.coupon$ $cst.BETA.coupon$'),
			render('$cst.BETA.coupon$ $cst.ALPHA.coupon$'),
		]);
		const texts = results.map(({ outcomes: [outcome] }) =>
			'value' in outcome ? outcome.value.text.split(' ').sort().join(' ') : outcome.error.message,
		);
		// The second run waited for the first and then found pat's coupons: both texts carry the same two codes.
		expect(texts[0]).toMatch(/^ALPHA-\d BETA-\d$/);
		expect(texts[1]).toBe(texts[0]);
	}, 60_000);
});

describeWithDatabase('PostgreSQL checkout under concurrent processes', () => {
	describeCheckoutRaces('PostgreSQL', async () => {
		const schema = uniqueSchema('races');
		const database = databaseFor(testCredentials(schema));
		return {
			spec: `postgres:${schema}`,
			store: new PostgresStore(database),
			close: async () => {
				await database.close();
				await dropSchema(schema);
			},
		};
	});
});
