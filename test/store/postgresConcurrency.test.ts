import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PostgresStore } from '../../nodes/shared/store/postgres/PostgresStore';
import { databaseFor, type CouponDatabase } from '../../nodes/shared/transport/postgres';
import { describeWithDatabase, dropSchema, sql, testCredentials, uniqueSchema } from '../helpers/postgres';

const run = promisify(execFile);
const PROCESSES = 8;
const ROUNDS = 10;
const UNIQUE_PER_ROUND = 45;
const SHARED = 15;
const POOL = 5_000;

describeWithDatabase('PostgreSQL under concurrent processes', () => {
	const schema = uniqueSchema('concurrency');
	let database: CouponDatabase;

	beforeAll(async () => {
		database = databaseFor(testCredentials(schema));
		await new PostgresStore(database).transaction(async (s) => {
			await s.createPool('LOAD', 'imported');
			await s.addImported('LOAD', Array.from({ length: POOL }, (_, i) => ({ code: `LOAD-${String(i).padStart(5, '0')}`, key: `LOAD${String(i).padStart(5, '0')}`, row: i + 2 })));
		});
	});
	afterAll(async () => {
		await database.close();
		await dropSchema(schema);
	});

	it(`${PROCESSES} processes claiming at once never give a code twice, lose none, and keep reuse`, async () => {
		const startAt = Date.now() + 1500;
		const outputs = await Promise.all(
			Array.from({ length: PROCESSES }, async (_, worker) => {
				const { stdout } = await run(
					process.execPath,
					['-r', join(__dirname, '../helpers/tsRegister.js'), join(__dirname, 'claimWorker.ts'), schema, String(worker), String(ROUNDS), String(UNIQUE_PER_ROUND), String(SHARED), String(startAt)],
					{ maxBuffer: 64 * 1024 * 1024, env: process.env },
				);
				return JSON.parse(stdout) as Array<{ contact: string; code?: string; reused?: boolean; error?: string }>;
			}),
		);
		const results = outputs.flat();
		expect(results.filter((r) => r.error)).toEqual([]);
		expect(results).toHaveLength(PROCESSES * ROUNDS * UNIQUE_PER_ROUND + PROCESSES * (ROUNDS / 2) * SHARED);

		// Every code went to one contact only, and every contact (shared ones included) holds one code.
		const holderOf = new Map<string, Set<string>>();
		const codesOf = new Map<string, Set<string>>();
		for (const { contact, code } of results) {
			holderOf.set(code!, (holderOf.get(code!) ?? new Set()).add(contact));
			codesOf.set(contact, (codesOf.get(contact) ?? new Set()).add(code!));
		}
		expect([...holderOf.values()].filter((holders) => holders.size > 1)).toEqual([]);
		expect([...codesOf.values()].filter((codes) => codes.size > 1)).toEqual([]);

		// Every claim that succeeded is in the table, and the pool fell by exactly the claims made.
		const rows = await sql<{ code: string; contact_key: string }>(`SELECT code, contact_key FROM "${schema}".codes WHERE contact_key IS NOT NULL`);
		const stored = new Map(rows.map((row) => [row.code, row.contact_key]));
		for (const [code, holders] of holderOf) expect(stored.get(code)).toBe([...holders][0]);
		const claims = PROCESSES * ROUNDS * UNIQUE_PER_ROUND + SHARED;
		expect(rows).toHaveLength(claims);
		expect(holderOf.size).toBe(claims);
		const [{ available }] = await sql<{ available: string }>(`SELECT count(*) AS available FROM "${schema}".codes WHERE contact_key IS NULL`);
		expect(Number(available)).toBe(POOL - claims);

		// Shared contacts were requested by every process in every other round: one new coupon each, the rest reused.
		for (let k = 0; k < SHARED; k++) {
			const forContact = results.filter((r) => r.contact === `shared-${k}@example.com`);
			expect(forContact).toHaveLength(PROCESSES * (ROUNDS / 2));
			expect(forContact.filter((r) => !r.reused)).toHaveLength(1);
		}
	}, 120_000);
});
