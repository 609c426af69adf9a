// One measured step of the PostgreSQL benchmark, in a process of its own so that its time and
// peak memory are its alone. Prints one JSON line. Run by bench/postgres.js.
const fs = require('node:fs');
const { Readable } = require('node:stream');
const { pipeline } = require('node:stream/promises');
const { Client } = require('pg');
const { from: copyFrom, to: copyTo } = require('pg-copy-streams');
const XLSX = require('@e965/xlsx');
const { ContactCoupon } = require('../dist/nodes/ContactCoupon/ContactCoupon.node');
const { CouponImport } = require('../dist/nodes/CouponImport/CouponImport.node');
const {
	assignStatement,
	STATEMENT_BATCH,
} = require('../dist/nodes/shared/stores/postgres/statements');
const { closeAllDatabases, databaseFor } = require('../dist/nodes/shared/transport/postgres');
const { PostgresStore } = require('../dist/nodes/shared/stores/postgres/PostgresStore');
const { redeemCodes } = require('../dist/nodes/shared/core/checkout/checkout');
const { codeKey } = require('../dist/nodes/shared/core/codes/codes');
const { pollTrigger } = require('../dist/nodes/shared/core/events/couponEvents');
const { eventQuery, postgresEvents } = require('../dist/nodes/shared/stores/triggerSql');
const { context, diskFileItem } = require('./lib/context');
const { triggerSettings } = require('./lib/trigger');
const { credentials, databaseUrl } = require('./lib/database');

const [step, ...args] = process.argv.slice(2);

async function waitUntil(startAt) {
	await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(startAt) - Date.now())));
}

const steps = {
	/**
	 * Coupon Import node, database storage, one file; Max Rows when given. The file is where n8n 2.x
	 * keeps every binary, outside the item (on disk, or in the database in queue mode), streamed.
	 */
	async 'import-node'(file, schema, maxRows) {
		const parameters = {
			storage: 'database',
			binaryPropertyName: 'data',
			couponName: '',
			options: maxRows === undefined ? {} : { maxRows: Number(maxRows) },
		};
		const started = performance.now();
		const [output] = await new CouponImport().execute.call(
			context([diskFileItem(file)], parameters, {
				credentials: credentials(schema),
			}),
		);
		return { seconds: (performance.now() - started) / 1000, added: output[0].json.added };
	},

	/** Bare SheetJS parse of the same file plus a bare COPY of its values into a plain table. */
	async 'import-baseline'(file, schema) {
		const buffer = fs.readFileSync(file);
		const client = new Client({ connectionString: databaseUrl });
		await client.connect();
		// The same values into a table with a unique index on the code, as a coupon table needs.
		await client.query(
			`CREATE SCHEMA IF NOT EXISTS "${schema}"; CREATE TABLE "${schema}".baseline (code text PRIMARY KEY)`,
		);
		const started = performance.now();
		const sheet = XLSX.read(buffer, { type: 'buffer', dense: true }).Sheets.Codes;
		const rows = sheet['!data'].slice(1);
		function* text() {
			let chunk = '';
			for (const row of rows) {
				chunk += `${row[1].v}\n`;
				if (chunk.length >= 65536) {
					yield chunk;
					chunk = '';
				}
			}
			if (chunk) yield chunk;
		}
		await pipeline(
			Readable.from(text()),
			client.query(copyFrom(`COPY "${schema}".baseline (code) FROM STDIN`)),
		);
		const seconds = (performance.now() - started) / 1000;
		await client.end();
		return { seconds, added: rows.length };
	},

	/** Create Codes through the Contact Coupon node, database storage, one run, a new coupon. */
	async 'create-node'(schema, count) {
		const parameters = {
			operation: 'createCodes',
			storage: 'database',
			couponName: 'BULK',
			count: Number(count),
			length: 10,
			options: {},
		};
		const started = performance.now();
		const [output] = await new ContactCoupon().execute.call(
			context([{ json: {} }], parameters, { credentials: credentials(schema) }),
		);
		return { seconds: (performance.now() - started) / 1000, created: output[0].json.created };
	},

	/**
	 * The rows Create Codes wrote (pool, code key, code, rank), read back before the clock starts,
	 * then a bare COPY of them into a table like the coupon table: the same columns, defaults and
	 * indexes, rows in the same order.
	 */
	async 'create-baseline'(fromSchema, schema) {
		const client = new Client({ connectionString: databaseUrl });
		await client.connect();
		const { rows } = await client.query(
			`SELECT pool_id, code_key, code, rank FROM "${fromSchema}".codes ORDER BY rank`,
		);
		await client.query(
			`CREATE SCHEMA IF NOT EXISTS "${schema}";
			CREATE TABLE "${schema}".baseline (LIKE "${fromSchema}".codes INCLUDING ALL)`,
		);
		const started = performance.now();
		function* text() {
			let chunk = '';
			for (const row of rows) {
				chunk += `${row.pool_id}\t${row.code_key}\t${row.code}\t${row.rank}\n`;
				if (chunk.length >= 65536) {
					yield chunk;
					chunk = '';
				}
			}
			if (chunk) yield chunk;
		}
		await client.query('BEGIN');
		await pipeline(
			Readable.from(text()),
			client.query(
				copyFrom(`COPY "${schema}".baseline (pool_id, code_key, code, rank) FROM STDIN`),
			),
		);
		await client.query('COMMIT');
		const seconds = (performance.now() - started) / 1000;
		await client.end();
		return { seconds, added: rows.length };
	},

	/** Export Codes through the node: every code of the bench coupon, as an .xlsx or .csv file. */
	async 'export-node'(schema, fileFormat) {
		const parameters = {
			operation: 'exportCodes',
			storage: 'database',
			couponName: 'BULK',
			status: 'all',
			options: { fileFormat },
		};
		let bytes = 0;
		const started = performance.now();
		const [output] = await new ContactCoupon().execute.call(
			context([{ json: {} }], parameters, {
				credentials: credentials(schema),
				prepareBinaryData: async (data) => {
					bytes = data.length;
					return { data: '', mimeType: '' };
				},
			}),
		);
		return { seconds: (performance.now() - started) / 1000, rows: output[0].json.rows, bytes };
	},

	/** PostgreSQL writing the same columns as CSV itself (COPY ... TO STDOUT), counted and dropped. */
	async 'export-copy'(schema) {
		const client = new Client({ connectionString: databaseUrl });
		await client.connect();
		const started = performance.now();
		let bytes = 0;
		const stream = client.query(
			copyTo(
				`COPY (SELECT code, CASE WHEN contact_key IS NULL THEN 'available' END, contact_key, assigned_at, valid_until, redeemed_at, order_reference, details FROM "${schema}".codes ORDER BY code_key) TO STDOUT (FORMAT csv, HEADER)`,
			),
		);
		for await (const chunk of stream) bytes += chunk.length;
		const seconds = (performance.now() - started) / 1000;
		await client.end();
		return { seconds, bytes };
	},

	/** The same rows read with pg and written by SheetJS as one .xlsx workbook. */
	async 'export-sheetjs'(schema) {
		const client = new Client({ connectionString: databaseUrl });
		await client.connect();
		const started = performance.now();
		const { rows } = await client.query(
			`SELECT code, contact_key, assigned_at, valid_until, redeemed_at, order_reference, details FROM "${schema}".codes ORDER BY code_key`,
		);
		const table = [
			[
				'code',
				'status',
				'contact',
				'assigned at',
				'valid until',
				'redeemed at',
				'order reference',
				'details',
			],
			...rows.map((row) => [
				row.code,
				row.contact_key === null ? 'available' : 'assigned',
				row.contact_key ?? '',
				row.assigned_at?.toISOString() ?? '',
				row.valid_until?.toISOString() ?? '',
				row.redeemed_at?.toISOString() ?? '',
				row.order_reference ?? '',
				row.details === null ? '' : JSON.stringify(row.details),
			]),
		];
		const workbook = XLSX.utils.book_new();
		XLSX.utils.book_append_sheet(workbook, XLSX.utils.aoa_to_sheet(table), 'Codes');
		const file = XLSX.write(workbook, { type: 'buffer', bookType: 'xlsx', compression: true });
		const seconds = (performance.now() - started) / 1000;
		await client.end();
		return { seconds, bytes: file.length };
	},

	/** Contact Coupon node, database storage, one execution of `count` contacts. */
	async 'assign-node'(schema, count, prefix, startAt) {
		const items = Array.from({ length: Number(count) }, (_, i) => ({
			json: { email: `${prefix}-${i}@example.com` },
		}));
		const parameters = {
			operation: 'generate',
			storage: 'database',
			couponName: 'BENCH',
			length: 8,
			validDays: 30,
			contact: (i) => items[i].json.email,
			options: {},
		};
		const run = context(items, parameters, { credentials: credentials(schema) });
		// Connect and migrate-check first, as a long-running n8n process has already done.
		await new ContactCoupon().execute.call(
			context(
				items.slice(0, 1),
				{ ...parameters, contact: `${prefix}-warm-up` },
				{ credentials: credentials(schema) },
			),
		);
		await waitUntil(startAt);
		const started = performance.now();
		const [output] = await new ContactCoupon().execute.call(run);
		const finished = Date.now();
		if (output.some((item) => !item.json.coupon)) throw new Error('an item got no coupon');
		return { seconds: (performance.now() - started) / 1000, finishedAt: finished };
	},

	/** The store's assigning statement run directly with pg, batched the same way, in one transaction. */
	async 'assign-raw'(schema, count, prefix, startAt) {
		const client = new Client({ connectionString: databaseUrl });
		await client.connect();
		const [{ id }] = (
			await client.query(`SELECT id FROM "${schema}".pools WHERE name_key = 'bench'`)
		).rows;
		const contacts = Array.from({ length: Number(count) }, (_, i) => `${prefix}-${i}@example.com`);
		await waitUntil(startAt);
		const started = performance.now();
		const now = new Date();
		const until = new Date(now.getTime() + 30 * 86_400_000).toISOString();
		await client.query('BEGIN');
		let assigned = 0;
		for (let i = 0; i < contacts.length; i += STATEMENT_BATCH) {
			const batch = contacts.slice(i, i + STATEMENT_BATCH);
			const { rowCount } = await client.query(assignStatement(`"${schema}"`), [
				id,
				batch,
				batch.map(() => now.toISOString()),
				batch.map(() => until),
				batch.length,
				// The moment a code's own expiry must reach, as the node passes it.
				until,
			]);
			assigned += rowCount;
		}
		await client.query('COMMIT');
		const finished = Date.now();
		await client.end();
		if (assigned !== contacts.length) throw new Error(`assigned ${assigned} of ${contacts.length}`);
		return { seconds: (performance.now() - started) / 1000, finishedAt: finished };
	},

	/** Contact Coupon's Redeem Code, one execution redeeming the codes the contacts `prefix-i` hold. */
	async 'redeem-node'(schema, count, prefix) {
		return await checkoutNode(schema, count, prefix, 'redeem', 'redemption', 'accepted', (i) => ({
			options: { orderReference: `order-${i}` },
		}));
	},

	/** The same uses taken directly with pg: the history rows, then the counts, per 5,000 codes. */
	async 'redeem-raw'(schema, count, prefix) {
		return await checkoutRaw(schema, count, prefix, [
			`INSERT INTO "${schema}".redemptions (pool_id, code_key, n, redeemed_at, order_reference)
			SELECT $1, k, 1, now(), 'order' FROM unnest($2::text[]) AS k`,
			`UPDATE "${schema}".codes SET uses = coalesce(uses, 0) + 1, redeemed_at = now(), order_reference = 'order'
			WHERE pool_id = $1 AND code_key = ANY($2::text[])
			AND contact_key IS NOT NULL AND redeemed_at IS NULL AND replaced_at IS NULL AND valid_until > now()`,
		]);
	},

	/** Reserve Code, one execution holding the codes the contacts `prefix-i` hold, each for its order. */
	async 'reserve-node'(schema, count, prefix) {
		return await checkoutNode(schema, count, prefix, 'reserve', 'reservation', 'held', (i) => ({
			orderReference: `cart-${i}`,
			holdMinutes: 15,
			options: {},
		}));
	},

	/** The same holds set directly with pg, where no other order holds the code. */
	async 'reserve-raw'(schema, count, prefix) {
		return await checkoutRaw(schema, count, prefix, [
			`UPDATE "${schema}".codes SET held_for = 'cart', held_until = now() + interval '15 minutes'
			WHERE pool_id = $1 AND code_key = ANY($2::text[])
			AND contact_key IS NOT NULL AND redeemed_at IS NULL AND replaced_at IS NULL AND valid_until > now()
			AND (held_until IS NULL OR held_until <= now() OR held_for = 'cart')`,
		]);
	},

	/** Undo Redemption, one execution giving back the uses Redeem Code took for the contacts `prefix-i`. */
	async 'undo-node'(schema, count, prefix) {
		return await checkoutNode(schema, count, prefix, 'undoRedemption', 'undo', 'undone', () => ({
			options: { reason: 'refund' },
		}));
	},

	/** The same uses given back directly with pg: the history rows marked, then the counts. */
	async 'undo-raw'(schema, count, prefix) {
		return await checkoutRaw(schema, count, prefix, [
			`UPDATE "${schema}".redemptions SET undone_at = now(), undo_reason = 'refund'
			WHERE pool_id = $1 AND code_key = ANY($2::text[]) AND undone_at IS NULL`,
			`UPDATE "${schema}".codes SET uses = uses - 1, redeemed_at = NULL, order_reference = NULL
			WHERE pool_id = $1 AND code_key = ANY($2::text[]) AND uses > 0`,
		]);
	},

	/**
	 * Coupon Trigger polls on the pool, as bench/localChild.js's: Redeemed after 1,000 uses, 100
	 * events a poll, against the same 100 uses read alone from their index (no code, no coupon);
	 * Expiring Soon's poll that finds nothing, against the same read without the time index; the
	 * plans of both.
	 */
	async 'trigger-poll'(schema) {
		const store = new PostgresStore(databaseFor(credentials(schema)));
		const client = new Client({ connectionString: databaseUrl });
		await client.connect();
		const now = Date.now();
		const timed = async (work) => {
			const started = performance.now();
			const result = await work();
			return { ms: performance.now() - started, result };
		};
		const mean = (times) => times.reduce((a, b) => a + b, 0) / times.length;
		const redeemed = triggerSettings('redeemed');
		await pollTrigger(store, 'bench/redeemed', redeemed, now - 30 * 60_000, false);
		const { rows: codes } = await client.query(
			`SELECT code FROM "${schema}".codes WHERE contact_key IS NOT NULL AND redeemed_at IS NULL
			AND held_for IS NULL AND valid_until > now() LIMIT 1000`,
		);
		const outcomes = await store.transaction(
			async (s) =>
				await redeemCodes(
					s,
					codes.map(({ code }, i) => ({ code, key: codeKey(code), orderReference: `T-${i}` })),
					now - 20 * 60_000,
				),
		);
		if (outcomes.some((outcome) => outcome.value?.status !== 'accepted'))
			throw new Error('a code to redeem was not accepted');
		const pollTimes = [];
		let events = 0;
		for (;;) {
			const { ms, result } = await timed(
				async () => await pollTrigger(store, 'bench/redeemed', redeemed, now, false),
			);
			if (result.length === 0) break;
			pollTimes.push(ms);
			events += result.length;
		}
		if (events !== codes.length) throw new Error(`fired ${events} of ${codes.length} uses`);
		const rawTimes = [];
		for (let i = 0; i < pollTimes.length; i++)
			rawTimes.push(
				(
					await timed(
						async () =>
							await client.query(
								`SELECT * FROM "${schema}".redemptions WHERE redeemed_at >= $1 ORDER BY redeemed_at LIMIT 100`,
								[new Date(now - 30 * 60_000)],
							),
					)
				).ms,
			);
		const later = now + 10 * 60_000;
		const quietTimes = [];
		for (let i = 0; i < 5; i++) {
			const { ms, result } = await timed(
				async () =>
					await pollTrigger(
						store,
						`bench/quiet-${i}`,
						triggerSettings('expiringSoon'),
						later,
						false,
					),
			);
			if (result.length !== 0) throw new Error('a quiet Expiring Soon poll fired');
			quietTimes.push(ms);
		}
		// `+ interval '0'` keeps PostgreSQL off the time index.
		const scanTimes = [];
		for (let i = 0; i < 5; i++)
			scanTimes.push(
				(
					await timed(
						async () =>
							await client.query(
								`SELECT c.* FROM "${schema}".codes c WHERE c.contact_key IS NOT NULL AND c.replaced_at IS NULL AND c.redeemed_at IS NULL
								AND c.valid_until + interval '0' > $1 AND c.valid_until + interval '0' <= $2
								ORDER BY c.valid_until, c.code_key LIMIT 100`,
								[new Date(later), new Date(later + 3 * 86_400_000)],
							),
					)
				).ms,
			);
		const plan = async (read) => {
			const { sql, params } = eventQuery(read, postgresEvents(`"${schema}"`));
			const { rows } = await client.query(`EXPLAIN ${sql}`, params);
			return rows
				.map((row) => row['QUERY PLAN'].trim())
				.filter((line) => /Scan/.test(line))
				.join('; ');
		};
		const after = { at: now, couponKey: '', codeKey: '', n: 0 };
		const plans = {
			redeemed: await plan({ stream: 'redeemed', after, upTo: now, limit: 100 }),
			expiring: await plan({
				stream: 'expiring',
				after,
				upTo: now + 3 * 86_400_000,
				activeAt: now,
				assignedAtMost: now,
				limit: 100,
			}),
		};
		await client.end();
		return {
			redeemedPollMs: mean(pollTimes),
			redeemedRawMs: mean(rawTimes),
			quietPollMs: mean(quietTimes),
			quietScanMs: mean(scanTimes),
			plans,
		};
	},

	/** Get Pool Statistics for one coupon. */
	async 'stats-node'(schema) {
		const parameters = { operation: 'stats', storage: 'database', couponName: 'BENCH' };
		await new ContactCoupon().execute.call(
			context(
				[{ json: {} }],
				{ ...parameters, couponName: '' },
				{ credentials: credentials(schema) },
			),
		);
		const started = performance.now();
		const [[item]] = await new ContactCoupon().execute.call(
			context([{ json: {} }], parameters, { credentials: credentials(schema) }),
		);
		return { seconds: (performance.now() - started) / 1000, statistics: item.json };
	},
};

/**
 * One Contact Coupon execution of `operation` over the codes the contacts `prefix-i` hold (after a
 * warm-up execution that opens the pool); every item's `outputKey.status` must be `status`.
 */
async function checkoutNode(schema, count, prefix, operation, outputKey, status, parametersOf) {
	const items = (await heldCodes(schema, prefix, count)).map((row) => ({
		json: { code: row.code, email: row.contact_key },
	}));
	const perItem = (name) => (i) => parametersOf(i)[name];
	const parameters = {
		operation,
		storage: 'database',
		code: (i) => items[i].json.code,
		orderReference: perItem('orderReference'),
		holdMinutes: perItem('holdMinutes'),
		options: (i) => ({ contact: items[i].json.email, ...parametersOf(i).options }),
	};
	await new ContactCoupon().execute.call(
		context(
			[{ json: {} }],
			{ ...parameters, code: 'WARM-UP', orderReference: 'warm-up', options: {} },
			{ credentials: credentials(schema) },
		),
	);
	const started = performance.now();
	const [output] = await new ContactCoupon().execute.call(
		context(items, parameters, { credentials: credentials(schema) }),
	);
	const seconds = (performance.now() - started) / 1000;
	const refused = output.find((item) => item.json[outputKey].status !== status);
	if (refused) throw new Error(`${operation}: ${JSON.stringify(refused.json[outputKey])}`);
	return { seconds };
}

/** The statements run directly with pg over the same codes, per 5,000, in one transaction. */
async function checkoutRaw(schema, count, prefix, statements) {
	const rows = await heldCodes(schema, prefix, count);
	const client = new Client({ connectionString: databaseUrl });
	await client.connect();
	const started = performance.now();
	await client.query('BEGIN');
	let changed = 0;
	for (let i = 0; i < rows.length; i += STATEMENT_BATCH) {
		const batch = rows.slice(i, i + STATEMENT_BATCH);
		for (const sql of statements) {
			const { rowCount } = await client.query(sql, [
				batch[0].pool_id,
				batch.map((row) => row.code_key),
			]);
			if (sql === statements[statements.length - 1]) changed += rowCount;
		}
	}
	await client.query('COMMIT');
	const seconds = (performance.now() - started) / 1000;
	await client.end();
	if (changed !== rows.length) throw new Error(`changed ${changed} of ${rows.length}`);
	return { seconds };
}

/** The codes the contacts `prefix-0` to `prefix-(count-1)` hold in the bench pool. */
async function heldCodes(schema, prefix, count) {
	const client = new Client({ connectionString: databaseUrl });
	await client.connect();
	const contacts = Array.from({ length: Number(count) }, (_, i) => `${prefix}-${i}@example.com`);
	const { rows } = await client.query(
		`SELECT pool_id, code, code_key, contact_key FROM "${schema}".codes WHERE contact_key = ANY($1::text[])`,
		[contacts],
	);
	await client.end();
	if (rows.length !== contacts.length)
		throw new Error(`found ${rows.length} of ${contacts.length} assigned codes`);
	return rows;
}

steps[step](...args)
	.then(async (result) => {
		await closeAllDatabases();
		process.stdout.write(
			`${JSON.stringify({ ...result, maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024) })}\n`,
		);
	})
	.catch((error) => {
		console.error(error);
		process.exit(1);
	});
