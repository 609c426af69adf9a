import { Client, type QueryConfig } from 'pg';
import type { IDataObject } from 'n8n-workflow';
import { ContactCoupon } from '../../nodes/ContactCoupon/ContactCoupon.node';
import { CouponImport } from '../../nodes/CouponImport/CouponImport.node';
import { databaseFor } from '../../nodes/shared/transport/postgres';
import { fileItem, jsonItems, mockExecuteFunctions } from '../helpers/executeFunctions';
import {
	DATABASE_URL,
	describeWithDatabase,
	dropSchema,
	sql,
	testCredentials,
	uniqueSchema,
} from '../helpers/postgres';
import { xlsx } from '../helpers/spreadsheets';
import { HEAVY_TEST_MS } from '../helpers/timeouts';

/** The tables a distributed PostgreSQL (Citus) would shard by the coupon, `pool_id`. */
const BY_COUPON = new Set(['codes', 'contacts', 'redemptions']);

/**
 * The scans that read every coupon, by what they look for: a checkout knows the code the customer
 * typed, not its coupon. On Citus it goes to every shard (docs/ARCHITECTURE.md); any other scan
 * must name its coupon (a contact's card does, coupon by coupon: `pool_id = p.id`).
 */
const ACROSS_COUPONS = new Map([['a code typed at checkout', /^\(code_key = ANY \(/]]);

interface PlanNode {
	'Node Type': string;
	Operation?: string;
	'Relation Name'?: string;
	'Index Cond'?: string;
	'Recheck Cond'?: string;
	Filter?: string;
	Plans?: PlanNode[];
}

/**
 * Every scan of a table sharded by coupon in the plan, with the conditions it scans by. The rows a
 * statement writes are those of its scans, or for an INSERT those its text gives (see `inserts`).
 */
function scans(node: PlanNode): Array<{ table: string; conditions: string }> {
	const own =
		node['Relation Name'] &&
		BY_COUPON.has(node['Relation Name']) &&
		node['Node Type'] !== 'ModifyTable'
			? [
					{
						table: node['Relation Name'],
						conditions: [node['Index Cond'], node['Recheck Cond'], node.Filter]
							.filter(Boolean)
							.join(' AND '),
					},
				]
			: [];
	return [...own, ...(node.Plans ?? []).flatMap(scans)];
}

/** Whether an INSERT writes rows of one coupon, given as its first parameter. */
const insertsOneCoupon = (text: string) =>
	/^INSERT INTO \S+ (AS \w+ )?\(pool_id, [^)]*\)\s+(SELECT |VALUES \()\$1, /.test(text.trim());

describeWithDatabase('PostgreSQL statements, as a distributed PostgreSQL would route them', () => {
	const schema = uniqueSchema('plans');
	const credentials = testCredentials(schema);
	afterAll(async () => {
		await databaseFor(credentials).close();
		await dropSchema(schema);
	});

	const run = async (node: 'import' | 'coupon', parameters: IDataObject, items = jsonItems({})) => {
		const mock = mockExecuteFunctions({
			items,
			credentials,
			parameters: { storage: 'database', options: {}, ...parameters },
		});
		return await (node === 'import' ? new CouponImport() : new ContactCoupon()).execute.call(
			mock.context,
		);
	};

	it(
		'names the coupon in every scan of codes, contacts and redemptions, but the look-up of a code typed at checkout',
		async () => {
			const statements = new Map<string, unknown[]>();
			const query = Client.prototype.query as (...args: unknown[]) => unknown;
			const spy = jest.spyOn(Client.prototype, 'query').mockImplementation(function (
				this: Client,
				...args: unknown[]
			) {
				const [first, values] = args as [string | QueryConfig, unknown[] | undefined];
				const text = typeof first === 'string' ? first : first?.text;
				if (typeof text === 'string' && text.includes(`"${schema}"`) && !statements.has(text))
					statements.set(text, (typeof first === 'string' ? values : first.values) ?? []);
				return query.apply(this, args);
			} as never);
			try {
				const list = (name: string, codes: string[]) =>
					fileItem(
						xlsx({ Sheet1: [['coupon name', 'coupon value'], ...codes.map((c) => [name, c])] }),
					);
				// A list into a new coupon, then more into it (duplicates found against the coupon).
				await run('import', { binaryPropertyName: 'data', couponName: '' }, [
					list('SPRING', ['S-1', 'S-2', 'S-3', 'S-4']),
				]);
				await run('import', { binaryPropertyName: 'data', couponName: '', mode: 'replace' }, [
					list('SPRING', ['S-1', 'S-2', 'S-3', 'S-5', 'S-6']),
				]);
				const generate = (couponName: string, email: string) =>
					run(
						'coupon',
						{ operation: 'generate', couponName, length: 8, validDays: 30, contact: email },
						jsonItems({ email }),
					);
				const [[given]] = await generate('SPRING', 'ann@example.com');
				await generate('SPRING', 'ann@example.com');
				await generate('WELCOME', 'bob@example.com');
				const code = (given.json.coupon as IDataObject).code as string;
				const checkout = (operation: string, more: IDataObject = {}) =>
					run('coupon', { operation, code, ...more });
				await checkout('validate');
				await checkout('reserve', { orderReference: 'A-1', holdMinutes: 15 });
				await checkout('release', { orderReference: 'A-1' });
				await checkout('redeem', { options: { orderReference: 'A-1' } });
				await checkout('undoRedemption', { reason: 'refund', options: { orderReference: 'A-1' } });
				await run('coupon', {
					operation: 'getForContact',
					couponName: 'SPRING',
					contact: 'ann@example.com',
				});
				await run('coupon', { operation: 'stats', couponName: 'SPRING' });
				await run('coupon', {
					operation: 'createCodes',
					couponName: 'SHOP',
					count: 50,
					length: 10,
				});
				await run('coupon', { operation: 'exportCodes', couponName: 'SPRING', status: 'all' });
				await run('coupon', {
					operation: 'deleteCoupon',
					couponName: 'SHOP',
					deleteAssigned: false,
					dryRun: false,
				});
			} finally {
				spy.mockRestore();
			}

			const client = new Client({ connectionString: DATABASE_URL });
			await client.connect();
			const acrossCoupons = new Set<string>();
			const unpinned: string[] = [];
			let checked = 0;
			let withTemporaryTable = 0;
			try {
				for (const [statement, values] of statements) {
					// A copy out of a query is planned as that query (Export Codes reads one).
					const text = /^\s*COPY \((.*)\) TO STDOUT\s*$/is.exec(statement)?.[1] ?? statement;
					// Data statements only: DDL of the migrations and COPY from the client have no plan to read.
					if (!/^\s*(SELECT|INSERT|UPDATE|DELETE|WITH)\b/i.test(text)) continue;
					let plan: PlanNode;
					try {
						[
							{
								'QUERY PLAN': [{ Plan: plan }],
							},
						] = (
							await client.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(
								`EXPLAIN (FORMAT JSON) ${text}`,
								values,
							)
						).rows;
					} catch (error) {
						// A statement on the session's own temporary table (an import's keys) has no plan
						// in another session: it must name the coupon in its text.
						if ((error as { code?: string }).code !== '42P01') throw error;
						withTemporaryTable++;
						if (!insertsOneCoupon(text) && !/\bpool_id = \$\d/.test(text))
							unpinned.push(text.trim().slice(0, 200));
						continue;
					}
					if (plan.Operation === 'Insert' && BY_COUPON.has(plan['Relation Name'] ?? '')) {
						checked++;
						// The coupon of every row written is one parameter.
						if (!insertsOneCoupon(text)) unpinned.push(text.trim());
					}
					const found = scans(plan);
					if (found.length > 0) checked++;
					for (const { table, conditions } of found) {
						if (/\bpool_id = /.test(conditions)) continue;
						const across = [...ACROSS_COUPONS].find(([, pattern]) => pattern.test(conditions));
						if (across) acrossCoupons.add(across[0]);
						else unpinned.push(`${text.trim().slice(0, 200)}\n  ${table}: ${conditions}`);
					}
				}
			} finally {
				await client.end();
			}
			expect(unpinned).toEqual([]);
			// Each allowance is used: those look-ups are there.
			expect([...acrossCoupons].sort()).toEqual([...ACROSS_COUPONS.keys()].sort());
			expect(checked).toBeGreaterThanOrEqual(15);
			expect(withTemporaryTable).toBeGreaterThan(0);
		},
		HEAVY_TEST_MS,
	);
});

interface AnalyzedNode extends PlanNode {
	'Actual Rows': number;
	'Actual Loops': number;
	'Rows Removed by Filter'?: number;
	'Rows Removed by Join Filter'?: number;
	'Rows Removed by Index Recheck'?: number;
	Plans?: AnalyzedNode[];
}

/** The rows a plan read from the coupon tables, and compared in its joins, over all its loops. */
function rowsRead(node: AnalyzedNode): number {
	const scanned =
		node['Relation Name'] &&
		BY_COUPON.has(node['Relation Name']) &&
		node['Node Type'] !== 'ModifyTable'
			? node['Actual Rows'] +
				(node['Rows Removed by Filter'] ?? 0) +
				(node['Rows Removed by Index Recheck'] ?? 0)
			: 0;
	const compared = node['Rows Removed by Join Filter'] ?? 0;
	return (
		(scanned + compared) * node['Actual Loops'] +
		(node.Plans ?? []).reduce((sum, child) => sum + rowsRead(child), 0)
	);
}

interface Read {
	/** The items of the execution that sent the statement. */
	items: number;
	rows: number;
	text: string;
}

/**
 * The rows each data statement on `schema` reads while `work` runs: each is first run under EXPLAIN
 * ANALYZE, in a savepoint rolled back at once, in the same transaction, so it gets the plan and sees
 * the rows it gets and sees itself. `work` says how many items the executions it runs next have.
 */
async function recordReads(
	schema: string,
	work: (itemsNext: (count: number) => void) => Promise<void>,
): Promise<Read[]> {
	const reads: Read[] = [];
	const inTransaction = new WeakSet<Client>();
	let items = 0;
	const query = Client.prototype.query as (...args: unknown[]) => Promise<unknown>;
	const spy = jest.spyOn(Client.prototype, 'query').mockImplementation(function (
		this: Client,
		...args: unknown[]
	) {
		const [first, values] = args as [string | QueryConfig, unknown[] | undefined];
		const text = (typeof first === 'string' ? first : first?.text) ?? '';
		if (/^\s*BEGIN\b/i.test(text)) inTransaction.add(this);
		if (/^\s*(COMMIT|ROLLBACK)\s*$/i.test(text)) inTransaction.delete(this);
		if (
			!inTransaction.has(this) ||
			!text.includes(`"${schema}"`) ||
			!/^\s*(SELECT|INSERT|UPDATE|DELETE|WITH)\b/i.test(text)
		)
			return query.apply(this, args);
		return (async () => {
			await query.call(this, 'SAVEPOINT plan_check');
			try {
				const { rows } = (await query.call(
					this,
					`EXPLAIN (ANALYZE, FORMAT JSON) ${text}`,
					values,
				)) as { rows: Array<{ 'QUERY PLAN': Array<{ Plan: AnalyzedNode }> }> };
				reads.push({ items, rows: rowsRead(rows[0]['QUERY PLAN'][0].Plan), text });
			} finally {
				await query.call(this, 'ROLLBACK TO SAVEPOINT plan_check');
			}
			return await query.apply(this, args);
		})();
	} as never);
	try {
		await work((count) => (items = count));
	} finally {
		spy.mockRestore();
	}
	return reads;
}

/** The statements that read more than a handful of rows per item. */
const readingTooMuch = (reads: Read[]) =>
	reads
		.filter(({ items, rows }) => rows > 20 * items + 100)
		.map(({ rows, text }) => `${rows} rows: ${text.trim().slice(0, 160)}`);

const emails = (prefix: string, count: number) =>
	Array.from({ length: count }, (_, i) => `${prefix}-${i}@example.com`);

describeWithDatabase('PostgreSQL statements at checkout, with statistics that lag behind', () => {
	const schemas: string[] = [];
	afterAll(async () => {
		for (const schema of schemas) {
			await databaseFor(testCredentials(schema)).close();
			await dropSchema(schema);
		}
	});

	/** Contact Coupon on a schema of its own, and Generate for Contact for a list of contacts. */
	function coupons(label: string, couponName: string) {
		const schema = uniqueSchema(label);
		schemas.push(schema);
		const credentials = testCredentials(schema);
		const run = async (parameters: IDataObject, items = jsonItems({})) =>
			await new ContactCoupon().execute.call(
				mockExecuteFunctions({
					items,
					credentials,
					parameters: { storage: 'database', options: {}, ...parameters },
				}).context,
			);
		const generate = async (contacts: string[], options: IDataObject = {}) =>
			(
				await run(
					{
						operation: 'generate',
						couponName,
						length: 8,
						validDays: 30,
						contact: (i: number) => contacts[i],
						options,
					},
					jsonItems(...contacts.map((email) => ({ email }))),
				)
			)[0].map((item) => (item.json.coupon as IDataObject).code as string);
		const checkout = async (codes: string[], operation: string, more: IDataObject = {}) =>
			await run(
				{ operation, code: (i: number) => codes[i], ...more },
				jsonItems(...codes.map(() => ({}))),
			);
		return { schema, run, generate, checkout };
	}

	it(
		'reads a few rows per code or contact, however many codes were assigned since the coupon was analyzed',
		async () => {
			const { schema, run, generate, checkout } = coupons('planrows', 'BULK');
			// 40,000 codes: the store analyzes the table after adding them, when none is assigned.
			await run({ operation: 'createCodes', couponName: 'BULK', count: 40_000, length: 10 });
			await generate(emails('earlier', 1_500));

			const reads = await recordReads(schema, async (itemsNext) => {
				for (const count of [1, 50]) {
					itemsNext(count);
					const contacts = emails(`now${count}`, count);
					const codes = await generate(contacts);
					await generate(contacts);
					await run(
						{ operation: 'getForContact', couponName: 'BULK', contact: (i: number) => contacts[i] },
						jsonItems(...contacts.map(() => ({}))),
					);
					await checkout(codes, 'validate');
					await checkout(codes, 'reserve', { orderReference: 'A-1', holdMinutes: 15 });
					await checkout(codes, 'release', { orderReference: 'A-1' });
					await checkout(codes, 'redeem', { options: { orderReference: 'A-1' } });
					await checkout(codes, 'undoRedemption', {
						reason: 'refund',
						options: { orderReference: 'A-1' },
					});
					// The old codes replaced by new ones.
					await generate(contacts, { activeCoupon: 'replace' });
				}
			});

			// A handful of rows per item, far below the 1,500 codes assigned earlier.
			expect(readingTooMuch(reads)).toEqual([]);
			expect(new Set(reads.map(({ items }) => items))).toEqual(new Set([1, 50]));
			expect(reads.filter(({ text }) => /SET replaced_at/.test(text))).toHaveLength(2);
			expect(reads.length).toBeGreaterThanOrEqual(20);
		},
		HEAVY_TEST_MS,
	);

	it(
		"finds a code typed at checkout through each coupon's key, though no import ever analyzed the coupons",
		async () => {
			const { schema, generate, checkout } = coupons('plannew', 'WELCOME');
			// Generated codes, a few thousand at a time: no step adds enough to analyze the tables.
			const codes: string[] = [];
			for (let run = 0; run < 4; run++) codes.push(...(await generate(emails(`run${run}`, 2_500))));
			// As autovacuum does after so many inserts: the codes analyzed, the coupons not.
			await sql(`ANALYZE "${schema}".codes`);

			const reads = await recordReads(schema, async (itemsNext) => {
				itemsNext(1);
				await checkout(codes.slice(0, 1), 'validate');
				await checkout(codes.slice(1, 2), 'redeem', { options: { orderReference: 'A-2' } });
			});
			expect(readingTooMuch(reads)).toEqual([]);
			expect(reads.filter(({ text }) => /code_key = ANY/.test(text)).length).toBeGreaterThanOrEqual(
				2,
			);
		},
		HEAVY_TEST_MS,
	);
});
