// The shop during an import (run by `npm run bench`, after the build, on a Node with node:sqlite):
// while one process imports a 1,000,000-row .xlsx into a new coupon, another answers single-contact
// calls one after the other (Generate for Contact, then Redeem Code of its code) on the same store.
// Prints each call's p50, p99 and longest time, per storage; target: p99 under 1 s. Asserts nothing.
const { execFile, spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { promisify } = require('node:util');
const { workbook } = require('./lib/workbook');
const { dropSchemas } = require('./lib/database');

const ROWS = 1_000_000;
const SHOP_CODES = 50_000;
const child = path.join(__dirname, 'duringImportChild.js');
const lastLine = (text) => JSON.parse(text.trim().split('\n').pop());

async function step(...args) {
	const { stdout } = await promisify(execFile)(process.execPath, [child, ...args.map(String)], {
		maxBuffer: 1 << 20,
	});
	return lastLine(stdout);
}

/** Runs the calls until `work` is done; their figures and the work's. */
async function callsDuring(storage, where, work) {
	const calls = spawn(process.execPath, [child, 'calls', storage, where, 'shop'], {
		stdio: ['pipe', 'pipe', 'inherit'],
	});
	let output = '';
	calls.stdout.on('data', (data) => (output += data));
	const ended = new Promise((resolve, reject) =>
		calls.on('exit', (code) =>
			code === 0 ? resolve() : reject(new Error(`calls exited ${code}`)),
		),
	);
	// The calls run a second on their own first, as a shop's do before anyone imports.
	await new Promise((resolve) => setTimeout(resolve, 1000));
	const result = await work();
	calls.stdin.write('stop\n');
	await ended;
	return { work: result, calls: lastLine(output) };
}

const ms = (n) => `${Math.round(n)} ms`;
const line = (name, { calls, p50, p99, max }) =>
	`    ${name}: ${calls} calls, p50 ${ms(p50)}, p99 ${ms(p99)}, longest ${ms(max)}`;

async function main() {
	console.log(`The shop during an import, Node ${process.version}, ${os.cpus().length} cores`);
	console.log(
		`  (a ${ROWS.toLocaleString('en-US')}-row .xlsx imported into a new coupon by one process; single calls from another meanwhile; target p99 under 1 s)`,
	);
	const file = workbook(ROWS);
	const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'coupons-during-import-'));
	const schema = `coupons_bench_during_${process.pid}`;
	try {
		for (const [storage, where, label] of [
			['local', folder, 'Local'],
			['database', schema, 'PostgreSQL'],
		]) {
			await step('setup', storage, where, SHOP_CODES);
			const { work, calls } = await callsDuring(
				storage,
				where,
				async () => await step('import', storage, where, file),
			);
			console.log(
				`  ${label}: import ${work.seconds.toFixed(1)} s (${work.added.toLocaleString('en-US')} codes)`,
			);
			console.log(line('Generate for Contact', calls.generate));
			console.log(line('Redeem Code', calls.redeem));
		}
	} finally {
		fs.rmSync(folder, { recursive: true, force: true });
		await dropSchemas(schema);
	}
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
