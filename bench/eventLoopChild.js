// The event-loop stalls of the million-code steps on one storage, in a process of its own (run by
// bench/eventLoop.js): each step through the real node code, with perf_hooks'
// monitorEventLoopDelay watching. Prints one JSON line per step.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { monitorEventLoopDelay, PerformanceObserver } = require('node:perf_hooks');
const { ContactCoupon } = require('../dist/nodes/ContactCoupon/ContactCoupon.node');
const { CouponImport } = require('../dist/nodes/CouponImport/CouponImport.node');
const { closeAllDatabases } = require('../dist/nodes/shared/transport/postgres');
const { context, fileItem } = require('./lib/context');
const { workbook } = require('./lib/workbook');
const { credentials } = require('./lib/database');

const [storage, codes, schema] = process.argv.slice(2);
const COUNT = Number(codes);
const CONTACTS = 10_000;
const staticData = {};
const n8nFolder = fs.mkdtempSync(path.join(os.tmpdir(), 'coupons-bench-loop-'));
const options = { staticData, n8nFolder, credentials: credentials(schema) };

/** Runs `work`, returning its time and the longest the event loop was kept waiting meanwhile. */
async function watched(step, work) {
	// Garbage collection stops everything too: its longest pause, to tell it from the code's own.
	let longestGc = 0;
	const gc = new PerformanceObserver((list) => {
		for (const entry of list.getEntries()) longestGc = Math.max(longestGc, entry.duration);
	});
	gc.observe({ entryTypes: ['gc'] });
	const delay = monitorEventLoopDelay({ resolution: 10 });
	delay.enable();
	// Its first tick only starts the clock: a stall from the step's first moment needs it ticking.
	await new Promise((resolve) => setTimeout(resolve, 50));
	const started = performance.now();
	const detail = await work();
	const seconds = (performance.now() - started) / 1000;
	// The monitor notes a delay when its timer finally fires: let it fire once more after the step.
	await new Promise((resolve) => setTimeout(resolve, 50));
	delay.disable();
	gc.disconnect();
	const line = {
		step,
		seconds,
		maxStallMs: delay.max / 1e6,
		p99StallMs: delay.percentile(99) / 1e6,
		longestGcMs: longestGc,
		...detail,
	};
	process.stdout.write(`${JSON.stringify(line)}\n`);
}

/** Coupon Import of a file, as n8n hands it over from disk. */
async function importFile(file, filePath) {
	const importing = context(
		[fileItem(file)],
		{ storage, binaryPropertyName: 'data', couponName: '', options: { maxRows: COUNT } },
		// A workflow of its own on static data: two million codes in one would pass its size limit.
		{ ...options, staticData: {} },
	);
	// As n8n's filesystem binary mode hands the file over: read from disk, not decoded from base64
	// on the event loop (n8n's own work, whichever package imports).
	importing.helpers.getBinaryDataBuffer = async () => await fs.promises.readFile(filePath);
	const [output] = await new CouponImport().execute.call(importing);
	return { added: output[0].json.added };
}

const contactCoupon = async (items, parameters) =>
	(await new ContactCoupon().execute.call(context(items, { storage, ...parameters }, options)))[0];

const contacts = (prefix) =>
	Array.from({ length: CONTACTS }, (_, i) => ({ json: { email: `${prefix}${i}@example.com` } }));

/** A CSV of `rows` codes of coupon IMPORTED, as a shop's export. */
function csvFile(rows) {
	const lines = ['coupon name,coupon value'];
	for (let i = 0; i < rows; i++) lines.push(`IMPORTED,IMP${String(i).padStart(9, '0')}`);
	return Buffer.from(`${lines.join('\r\n')}\r\n`);
}

async function main() {
	// Nothing runs: what the monitor reads when the loop is free.
	await watched('idle', async () => {
		await new Promise((resolve) => setTimeout(resolve, 1000));
		return {};
	});
	await watched('create codes', async () => {
		const [summary] = await contactCoupon([{ json: {} }], {
			operation: 'createCodes',
			couponName: 'BENCH',
			count: COUNT,
			length: 10,
			options: {},
		});
		return { created: summary.json.created };
	});
	await watched('statistics', async () => {
		const [stats] = await contactCoupon([{ json: {} }], {
			operation: 'stats',
			couponName: 'BENCH',
		});
		return { available: stats.json.available };
	});
	for (const fileFormat of ['csv', 'xlsx'])
		await watched(`export ${fileFormat}`, async () => {
			const [item] = await contactCoupon([{ json: {} }], {
				operation: 'exportCodes',
				couponName: 'BENCH',
				status: 'all',
				options: { fileFormat },
			});
			return { rows: item.json.rows };
		});
	await watched(`generate ${CONTACTS} contacts`, async () => {
		const items = contacts('g');
		const output = await contactCoupon(items, {
			operation: 'generate',
			couponName: 'BENCH',
			length: 8,
			validDays: 30,
			contact: (i) => items[i].json.email,
			options: {},
		});
		return { assigned: output.length };
	});
	await watched(`render ${CONTACTS} messages`, async () => {
		const items = contacts('g');
		const output = await contactCoupon(items, {
			operation: 'render',
			text: '<p>Your code: $cst.BENCH.coupon$, until $cst.BENCH.coupon.validUntil$</p>',
			contact: (i) => items[i].json.email,
			whenMissing: 'leave',
			options: {},
		});
		return { rendered: output.length };
	});
	const csv = csvFile(COUNT);
	const csvPath = path.join(n8nFolder, 'codes.csv');
	fs.writeFileSync(csvPath, csv);
	await watched('import csv', async () => await importFile(csv, csvPath));
	const xlsxPath = workbook(COUNT, 'LOOP');
	await watched('import xlsx', async () => await importFile(fs.readFileSync(xlsxPath), xlsxPath));
	await closeAllDatabases?.();
}

main()
	.catch((error) => {
		console.error(error);
		process.exitCode = 1;
	})
	.finally(() => fs.rmSync(n8nFolder, { recursive: true, force: true }));
