// The webhook pattern (run by `npm run bench`, after the build): one n8n process answering many
// single-contact calls at once, each a Generate for Contact execution of one item and then a Redeem
// Code execution of its code, on PostgreSQL. Against the fewest statements that do the same with
// pg, one transaction for each step, at the same concurrency. Prints throughput, p50 and p99 of a
// call's two executions, and round trips (statements sent) per call; asserts nothing.
const os = require('node:os');
const pg = require('pg');
const { ContactCoupon } = require('../dist/nodes/ContactCoupon/ContactCoupon.node');
const { closeAllDatabases } = require('../dist/nodes/shared/transport/postgres');
const { assignStatement } = require('../dist/nodes/shared/stores/postgres/statements');
const { context } = require('./lib/context');
const { credentials, databaseUrl } = require('./lib/database');

const CONCURRENCY = [1, 8, 32];
const CALLS = 1_000;
const CODES = 20_000;
const DAY_MS = 86_400_000;

// Every statement any pg client sends, counted: the node's (through its pool) and the baseline's.
let statements = 0;
const sendQuery = pg.Client.prototype.query;
pg.Client.prototype.query = function countedQuery(...args) {
	statements++;
	return sendQuery.apply(this, args);
};

const contactCoupon = async (parameters, credential) => {
	const [output] = await new ContactCoupon().execute.call(
		context([{ json: {} }], parameters, { credentials: credential }),
	);
	return output[0].json;
};

/** One webhook call through the nodes: a coupon for the contact, then its code redeemed. */
async function nodeCall(credential, i, label) {
	const { coupon } = await contactCoupon(
		{
			operation: 'generate',
			storage: 'database',
			couponName: 'HOOK',
			length: 8,
			validDays: 30,
			contact: `${label}-${i}@example.com`,
			options: {},
		},
		credential,
	);
	const { redemption } = await contactCoupon(
		{
			operation: 'redeem',
			storage: 'database',
			code: coupon.code,
			options: { orderReference: `${label}-order-${i}` },
		},
		credential,
	);
	if (redemption.status !== 'accepted') throw new Error(`redeem said ${redemption.status}`);
}

/** The same call as the fewest statements: assign in one transaction, redeem in another. */
async function rawCall(pool, schema, poolId, i, label) {
	const client = await pool.connect();
	try {
		const now = new Date();
		const until = new Date(now.getTime() + 30 * DAY_MS).toISOString();
		await client.query('BEGIN');
		const { rows } = await client.query(assignStatement(`"${schema}"`), [
			poolId,
			[`${label}-${i}@example.com`],
			[now.toISOString()],
			[until],
			1,
			until,
		]);
		await client.query('COMMIT');
		if (rows.length !== 1) throw new Error('no code assigned');
		const order = `${label}-order-${i}`;
		await client.query('BEGIN');
		await client.query(
			`INSERT INTO "${schema}".redemptions (pool_id, code_key, n, redeemed_at, order_reference)
			VALUES ($1, $2, 1, now(), $3)`,
			[poolId, rows[0].code_key, order],
		);
		await client.query(
			`UPDATE "${schema}".codes SET uses = coalesce(uses, 0) + 1, redeemed_at = now(), order_reference = $3
			WHERE pool_id = $1 AND code_key = $2`,
			[poolId, rows[0].code_key, order],
		);
		await client.query('COMMIT');
	} finally {
		client.release();
	}
}

/** `calls` calls, `concurrency` at a time; each call's time, and the statements sent per call. */
async function measure(concurrency, calls, call) {
	const times = [];
	let next = 0;
	const before = statements;
	const started = performance.now();
	await Promise.all(
		Array.from({ length: concurrency }, async () => {
			while (next < calls) {
				const i = next++;
				const at = performance.now();
				await call(i);
				times.push(performance.now() - at);
			}
		}),
	);
	const seconds = (performance.now() - started) / 1000;
	times.sort((a, b) => a - b);
	const percentile = (p) => times[Math.min(times.length - 1, Math.floor(times.length * p))];
	return {
		perSecond: calls / seconds,
		p50: percentile(0.5),
		p99: percentile(0.99),
		roundTrips: (statements - before) / calls,
	};
}

async function main() {
	const schema = `coupons_bench_hook_${process.pid}`;
	const admin = new pg.Client({ connectionString: databaseUrl });
	await admin.connect();
	try {
		console.log(
			`\nWebhook calls on PostgreSQL: Generate for Contact (one contact), then Redeem Code (its code), ${CALLS.toLocaleString('en-US')} calls at each concurrency, against the fewest statements doing the same (assign in one transaction, redeem in another); Node ${process.version}, ${os.cpus().length} cores.`,
		);
		await contactCoupon(
			{
				operation: 'createCodes',
				storage: 'database',
				couponName: 'HOOK',
				count: CODES,
				length: 10,
				options: {},
			},
			credentials(schema),
		);
		const [{ id }] = (await admin.query(`SELECT id FROM "${schema}".pools WHERE name_key = 'hook'`))
			.rows;
		for (const concurrency of CONCURRENCY) {
			// Connections as many as the callers, for the node's pool and the baseline's alike.
			const credential = { ...credentials(schema), maxConnections: concurrency };
			const pool = new pg.Pool({ connectionString: databaseUrl, max: concurrency });
			// Warm: connections made and statements planned, as in an n8n that has been running.
			await nodeCall(credential, 0, `warm${concurrency}`);
			await rawCall(pool, schema, id, 0, `rawwarm${concurrency}`);
			const ours = await measure(concurrency, CALLS, (i) =>
				nodeCall(credential, i, `node${concurrency}`),
			);
			const raw = await measure(concurrency, CALLS, (i) =>
				rawCall(pool, schema, id, i, `raw${concurrency}`),
			);
			await pool.end();
			const row = (label, r) =>
				`    ${label.padEnd(15)} ${Math.round(r.perSecond).toLocaleString('en-US').padStart(6)} calls/s | p50 ${r.p50.toFixed(1).padStart(6)} ms | p99 ${r.p99.toFixed(1).padStart(6)} ms | ${r.roundTrips.toFixed(1)} round trips`;
			console.log(`\n  ${concurrency} at once`);
			console.log(row('Contact Coupon', ours));
			console.log(row('raw statements', raw));
			console.log(`    ratio ${(ours.perSecond / raw.perSecond).toFixed(2)} (target 0.7)`);
		}
	} finally {
		await closeAllDatabases();
		await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
		await admin.end();
	}
}

main().catch((error) => {
	console.error(error);
	process.exitCode = 1;
});
