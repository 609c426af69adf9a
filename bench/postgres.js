// PostgreSQL benchmark (run by `npm run bench`, after the build): prints figures and ratios, asserts nothing.
// Each measured step runs in a process of its own (bench/postgresChild.js).
const { execFile } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { promisify } = require('node:util');
const { Client } = require('pg');
const { workbook } = require('./lib/workbook');
const { databaseUrl } = require('./lib/database');

const run = promisify(execFile);
const CONTACTS = 10_000;
const PROCESSES = 8;
const schemas = [];

async function step(name, ...args) {
	const { stdout } = await run(
		process.execPath,
		[path.join(__dirname, 'postgresChild.js'), name, ...args.map(String)],
		{ maxBuffer: 1 << 20 },
	);
	return JSON.parse(stdout.trim().split('\n').pop());
}

function schema(label) {
	const name = `coupons_bench_${label}_${process.pid}`;
	schemas.push(name);
	return name;
}

async function concurrent(name, poolSchema) {
	const startAt = Date.now() + 3000;
	const results = await Promise.all(
		Array.from(
			{ length: PROCESSES },
			async (_, p) => await step(name, poolSchema, CONTACTS, `${name}-p${p}`, startAt),
		),
	);
	return (Math.max(...results.map((r) => r.finishedAt)) - startAt) / 1000;
}

const rate = (count, seconds) => Math.round(count / seconds).toLocaleString('en-US');
const fixed = (n, digits = 2) => n.toFixed(digits);

async function main() {
	console.log(
		`PostgreSQL benchmark, Node ${process.version}, ${require('node:os').cpus().length} cores`,
	);
	console.log(
		'\nImport (Coupon Import node into an empty coupon, vs bare SheetJS parse + bare COPY of the same codes into a table with a unique index; targets at 1,000,000 rows: time ratio at most 1.1, peak RSS at most 350 MiB)',
	);
	let poolSchema;
	for (const rows of [100_000, 1_000_000]) {
		const file = workbook(rows);
		const mib = fixed(fs.statSync(file).size / 1024 / 1024, 1);
		const nodeSchema = schema(`import${rows}`);
		const ours = await step('import-node', file, nodeSchema);
		const base = await step('import-baseline', file, schema(`baseline${rows}`));
		if (ours.added !== rows) throw new Error(`imported ${ours.added} of ${rows}`);
		console.log(
			`  ${rows.toLocaleString('en-US').padStart(9)} rows (${mib} MiB xlsx): node ${fixed(ours.seconds)} s, peak RSS ${ours.maxRssMiB} MiB | baseline ${fixed(base.seconds)} s, peak RSS ${base.maxRssMiB} MiB | time ratio ${fixed(ours.seconds / base.seconds)}`,
		);
		poolSchema = nodeSchema;
	}

	console.log(
		`\nAssignment from the 1,000,000-code pool (${CONTACTS.toLocaleString('en-US')} contacts per execution, vs the same assigning statement run directly with pg)`,
	);
	const single = await step('assign-node', poolSchema, CONTACTS, 'single-node', 0);
	const singleRaw = await step('assign-raw', poolSchema, CONTACTS, 'single-raw', 0);
	console.log(
		`  1 process : node ${rate(CONTACTS, single.seconds)}/s (${fixed(single.seconds)} s) | raw SQL ${rate(CONTACTS, singleRaw.seconds)}/s (${fixed(singleRaw.seconds)} s) | ratio ${fixed(singleRaw.seconds / single.seconds)}`,
	);
	const many = await concurrent('assign-node', poolSchema);
	const manyRaw = await concurrent('assign-raw', poolSchema);
	const total = CONTACTS * PROCESSES;
	console.log(
		`  ${PROCESSES} processes: node ${rate(total, many)}/s (${fixed(many)} s) | raw SQL ${rate(total, manyRaw)}/s (${fixed(manyRaw)} s) | ratio ${fixed(manyRaw / many)}`,
	);

	// Each operation over the codes one execution assigned: node on one execution's contacts, raw
	// SQL (set-based statements run directly with pg, writing the same rows) on another's.
	const checkout = [
		['Reserve Code (hold each code for its order)', 'reserve', 'assign-node-p0', 'assign-node-p1'],
		['Redeem Code (one use each, with its history row)', 'redeem', 'single-node', 'single-raw'],
		['Undo Redemption (give those uses back)', 'undo', 'single-node', 'single-raw'],
	];
	console.log(
		`\nCheckout over ${CONTACTS.toLocaleString('en-US')} assigned codes in one execution (vs the same writes as set-based SQL run directly with pg)`,
	);
	for (const [label, operation, nodeContacts, rawContacts] of checkout) {
		const ours = await step(`${operation}-node`, poolSchema, CONTACTS, nodeContacts);
		const raw = await step(`${operation}-raw`, poolSchema, CONTACTS, rawContacts);
		console.log(
			`  ${label}: node ${rate(CONTACTS, ours.seconds)}/s (${fixed(ours.seconds)} s) | raw SQL ${rate(CONTACTS, raw.seconds)}/s (${fixed(raw.seconds)} s) | ratio ${fixed(raw.seconds / ours.seconds)}`,
		);
	}

	console.log(
		'\nCreate Codes (1,000,000 new codes of 10 characters in one run, vs a bare COPY of the rows it wrote into a table like the coupon table)',
	);
	const createSchema = schema('create');
	const created = await step('create-node', createSchema, 1_000_000);
	if (created.created !== 1_000_000) throw new Error(`created ${created.created} codes`);
	const copied = await step('create-baseline', createSchema, schema('createbaseline'));
	console.log(
		`  node ${fixed(created.seconds)} s (${rate(1_000_000, created.seconds)}/s), peak RSS ${created.maxRssMiB} MiB | bare COPY ${fixed(copied.seconds)} s, peak RSS ${copied.maxRssMiB} MiB | time ratio ${fixed(created.seconds / copied.seconds)}`,
	);

	console.log(
		'\nExport Codes of that 1,000,000-code coupon (one file; vs PostgreSQL writing the same columns as CSV itself, target: CSV time ratio at most 2; and vs SheetJS writing the same rows as one workbook)',
	);
	const copyOut = await step('export-copy', createSchema);
	const sheetjs = await step('export-sheetjs', createSchema);
	for (const fileFormat of ['csv', 'xlsx']) {
		const exported = await step('export-node', createSchema, fileFormat);
		if (exported.rows !== 1_000_000) throw new Error(`exported ${exported.rows} rows`);
		const base = fileFormat === 'csv' ? copyOut : sheetjs;
		console.log(
			`  ${fileFormat.toUpperCase().padEnd(4)}: node ${fixed(exported.seconds)} s, ${fixed(exported.bytes / 1024 / 1024, 1)} MiB file, peak RSS ${exported.maxRssMiB} MiB | ${fileFormat === 'csv' ? 'COPY TO' : 'SheetJS'} ${fixed(base.seconds)} s, peak RSS ${base.maxRssMiB} MiB | time ratio ${fixed(exported.seconds / base.seconds)}`,
		);
	}

	const stats = await step('stats-node', poolSchema);
	const s = stats.statistics;
	console.log(
		`\nGet Pool Statistics of the 1,000,000-code pool: ${fixed(stats.seconds)} s (available ${s.available}, active ${s.active}, redeemed ${s.redeemed}, days left ${s.daysLeft})`,
	);

	console.log(
		'\nCoupon Trigger polls on the 1,000,000-code pool (a read, then the cursor moved in a short transaction)',
	);
	const trigger = await step('trigger-poll', poolSchema);
	console.log(
		`  Redeemed, 100 events a poll of 1,000: ${fixed(trigger.redeemedPollMs)} ms | the same 100 uses read alone from their index ${fixed(trigger.redeemedRawMs)} ms | ratio ${fixed(trigger.redeemedPollMs / trigger.redeemedRawMs)}`,
	);
	console.log(
		`  Expiring Soon, a poll that finds nothing (3 days): ${fixed(trigger.quietPollMs)} ms | the same read without the time index ${fixed(trigger.quietScanMs)} ms`,
	);
	console.log(`  plan, Redeemed:      ${trigger.plans.redeemed}`);
	console.log(`  plan, Expiring Soon: ${trigger.plans.expiring}`);
}

main()
	.catch((error) => {
		console.error(error);
		process.exitCode = 1;
	})
	.finally(async () => {
		const client = new Client({ connectionString: databaseUrl });
		await client.connect();
		for (const name of schemas) await client.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
		await client.end();
	});
