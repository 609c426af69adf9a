import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { UNAMBIGUOUS_CHARACTERS } from '../../nodes/shared/core/codes';
import { renderMessages } from '../../nodes/shared/core/render';
import type { CouponStoreSession } from '../../nodes/shared/core/store';
import { PostgresStore } from '../../nodes/shared/store/postgres/PostgresStore';
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

const LOAD = { processes: 8, rounds: 10, uniquePerRound: 45, shared: 15 };
const POOL = 5_000;
const REDEEMERS = 6;
const TO_REDEEM = 300;

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

	it(`${REDEEMERS} processes redeeming the same ${TO_REDEEM} codes at once accept each exactly once`, async () => {
		const codes = await new PostgresStore(database).transaction(async (s) => {
			await s.createPool('CHECKOUT', 'imported');
			await s.addImported(
				'CHECKOUT',
				Array.from({ length: TO_REDEEM }, (_, i) => ({
					code: `CHK-${i}`,
					key: `CHK${i}`,
					row: i + 2,
				})),
			);
			const now = Date.now();
			const assigned = await s.assignImported(
				'CHECKOUT',
				Array.from({ length: TO_REDEEM }, (_, i) => ({
					contactKey: `buyer${i}`,
					assignedAt: now,
					validUntil: now + 86_400_000,
				})),
			);
			return assigned.map((a) => a.code);
		});
		const startAt = Date.now() + 1500;
		const outputs = await Promise.all(
			Array.from({ length: REDEEMERS }, async (_, worker) => {
				// Each process in its own random order, so that batches overlap in every way.
				const order = [...codes].sort(() => Math.random() - 0.5);
				const child = spawn(
					process.execPath,
					[
						'-r',
						join(__dirname, '../helpers/tsRegister.js'),
						join(__dirname, 'redeemWorker.ts'),
						schema,
						String(worker),
						'10',
						String(startAt),
					],
					{ env: process.env },
				);
				child.stdin.end(JSON.stringify(order));
				let stdout = '';
				let stderr = '';
				child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
				child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
				const exitCode = await new Promise<number | null>((resolve) => child.on('close', resolve));
				if (exitCode !== 0) throw new Error(`redeem worker ${worker} failed: ${stderr}`);
				return (JSON.parse(stdout) as Array<{ code: string; status?: string; error?: string }>).map(
					(r) => ({ ...r, worker }),
				);
			}),
		);
		const results = outputs.flat();
		expect(results.filter((r) => r.error)).toEqual([]);
		expect(results).toHaveLength(REDEEMERS * TO_REDEEM);
		const winners = new Map<string, number[]>();
		for (const r of results.filter((r) => r.status === 'accepted'))
			winners.set(r.code, [...(winners.get(r.code) ?? []), r.worker]);
		expect([...winners.values()].filter((w) => w.length !== 1)).toEqual([]);
		expect(winners.size).toBe(TO_REDEEM);
		expect(new Set(results.filter((r) => r.status !== 'accepted').map((r) => r.status))).toEqual(
			new Set(['redeemed']),
		);
		// The database agrees: every code redeemed once, with the winner's order reference, none freed.
		const rows = await sql<{ code: string; order_reference: string; contact_key: string | null }>(
			`SELECT c.code, c.order_reference, c.contact_key FROM "${schema}".codes c JOIN "${schema}".pools p ON p.id = c.pool_id WHERE p.name = 'CHECKOUT' AND c.redeemed_at IS NOT NULL`,
		);
		expect(rows).toHaveLength(TO_REDEEM);
		for (const row of rows) {
			expect(row.order_reference).toBe(`w${winners.get(row.code)![0]}-${row.code}`);
			expect(row.contact_key).not.toBeNull();
		}
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
						: (target[property] as (...args: unknown[]) => unknown).bind(target),
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
								settings: { whenMissing: 'assign', validDays: 7, format, maxNewCoupons: 100 },
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
