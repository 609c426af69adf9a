import { DatabaseSync } from 'node:sqlite';
import { Client } from 'pg';
import { redeemCodes } from '../../nodes/shared/core/checkout/checkout';
import { codeKey } from '../../nodes/shared/core/codes/codes';
import { shareUnusedCodes } from '../../nodes/shared/core/codes/sharedCodes';
import { UNLIMITED_USES } from '../../nodes/shared/core/common/validity';
import type { CouponStore } from '../../nodes/shared/core/storeContract';
import { SCOPED_USES } from '../../nodes/shared/stores/local/rows';
import { LocalStore } from '../../nodes/shared/stores/local/LocalStore';
import { PostgresStore } from '../../nodes/shared/stores/postgres/PostgresStore';
import { scopedUsesStatement } from '../../nodes/shared/stores/postgres/statements';
import { databaseFor } from '../../nodes/shared/transport/postgres';
import { localDatabase } from '../../nodes/shared/transport/sqlite';
import { temporaryLocalFile } from '../helpers/localFiles';
import {
	DATABASE_URL,
	describeWithDatabase,
	dropSchema,
	testCredentials,
	uniqueSchema,
} from '../helpers/postgres';

const CODE = 'SUMMER20';
const USES = 3_000;
const T0 = Date.UTC(2026, 6, 1);

/** A shared code that USES customers redeemed once each. */
async function popularCode(store: CouponStore): Promise<void> {
	await store.transaction(async (s) => {
		const pool = await s.createPool('NEWSLETTER', 'imported', {
			usesPerCode: UNLIMITED_USES,
			usesPerCustomer: 1,
		});
		await s.addImported('NEWSLETTER', [{ code: CODE, key: codeKey(CODE), row: 2 }]);
		await shareUnusedCodes(s, pool, T0);
		const requests = Array.from({ length: USES }, (_, i) => ({
			code: CODE,
			key: codeKey(CODE),
			contactKey: `c${i}@example.com`,
			orderReference: `O-${i}`,
		}));
		const outcomes = await redeemCodes(s, requests, T0 + 1);
		expect(outcomes.filter((outcome) => 'error' in outcome)).toEqual([]);
	});
}

// A checkout of a code a newsletter made public reads the asking customer's uses, the order's and
// the newest, through an index: not every customer's.
describe("A shared code's uses on the Local file", () => {
	it('are read through the customer, order and primary key indexes', async () => {
		const local = temporaryLocalFile('shared-plans');
		try {
			await popularCode(new LocalStore(localDatabase(local.file)));
			const database = new DatabaseSync(local.file, { readOnly: true });
			const pool = database.prepare('SELECT id FROM pools').get()!.id as number;
			const params = [
				JSON.stringify([[pool, codeKey(CODE)]]),
				JSON.stringify(['c7@example.com']),
				JSON.stringify(['O-12']),
				JSON.stringify([]),
			];
			const plan = database
				.prepare(`EXPLAIN QUERY PLAN ${SCOPED_USES}`)
				.all(...params)
				.map((row) => String(row.detail));
			const reads = plan.filter((line) => / (r|m|o) /.test(`${line} `));
			expect(reads.filter((line) => !/^SEARCH (r|m|o) USING /.test(line))).toEqual([]);
			expect(reads.join('\n')).toMatch(/INDEX redemptions_by_customer \(/);
			expect(reads.join('\n')).toMatch(/INDEX redemptions_by_order \(/);
			const rows = database.prepare(SCOPED_USES).all(...params);
			expect(rows.map((row) => row.n)).toEqual([8, 13, USES]);
			database.close();
		} finally {
			local.remove();
		}
	}, 120_000);
});

describeWithDatabase("A shared code's uses on PostgreSQL", () => {
	const schema = uniqueSchema('shared');
	const database = databaseFor(testCredentials(schema));
	afterAll(async () => {
		await database.close();
		await dropSchema(schema);
	});

	it('are read through indexes, a few rows however many customers used the code', async () => {
		await popularCode(new PostgresStore(database));
		const client = new Client({ connectionString: DATABASE_URL });
		await client.connect();
		try {
			await client.query(`ANALYZE "${schema}".redemptions`);
			const { rows: pools } = await client.query<{ id: string }>(
				`SELECT id FROM "${schema}".pools`,
			);
			const params = [[pools[0].id], [codeKey(CODE)], ['c7@example.com'], ['O-12'], []];
			const { rows } = await client.query(
				`EXPLAIN (ANALYZE, FORMAT JSON) ${scopedUsesStatement(`"${schema}"`)}`,
				params,
			);
			// Every row a scan of redemptions returned or threw away: a handful, not USES.
			const read: number[] = [];
			const walk = (node: Record<string, unknown>) => {
				if (node['Relation Name'] === 'redemptions')
					read.push(
						((node['Actual Rows'] as number) + ((node['Rows Removed by Filter'] as number) ?? 0)) *
							(node['Actual Loops'] as number),
					);
				for (const child of (node.Plans as Array<Record<string, unknown>>) ?? []) walk(child);
			};
			walk(rows[0]['QUERY PLAN'][0].Plan);
			// One scan per branch, and the look-up of the orders' customers.
			expect(read.length).toBe(5);
			expect(read.reduce((sum, rowsRead) => sum + rowsRead, 0)).toBeLessThanOrEqual(10);
			const { rows: uses } = await client.query(scopedUsesStatement(`"${schema}"`), params);
			expect(uses.map((use) => use.n)).toEqual([8, 13, USES]);
			// A use without its customer, as a version of the package before shared codes writes one.
			await expect(
				client.query(
					`INSERT INTO "${schema}".redemptions (pool_id, code_key, n, redeemed_at) VALUES ($1, $2, $3, now())`,
					[pools[0].id, codeKey(CODE), USES + 1],
				),
			).rejects.toThrow(
				`Shared code ${codeKey(CODE)} was not redeemed: n8n-nodes-coupons on this n8n process is older than the coupon database (schema 6)`,
			);
		} finally {
			await client.end();
		}
	}, 120_000);
});
