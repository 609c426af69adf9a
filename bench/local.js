// Local storage benchmark (run by `npm run bench` on a Node with node:sqlite, after the build):
// prints figures and ratios against raw node:sqlite in the same run; asserts nothing.
// Each measured step runs in a process of its own (bench/localChild.js).
const { execFile, spawn } = require('node:child_process');
const { once } = require('node:events');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { promisify } = require('node:util');
const { workbook } = require('./lib/workbook');

const run = promisify(execFile);
const CONTACTS = 10_000;
const PROCESSES = 4;
const VALIDATIONS = 200;
const folders = [];

async function step(name, ...args) {
	const { stdout } = await run(
		process.execPath,
		[path.join(__dirname, 'localChild.js'), name, ...args.map(String)],
		{ maxBuffer: 1 << 20 },
	);
	return JSON.parse(stdout.trim().split('\n').pop());
}

/** Another process holding a write transaction on the folder's file until the returned function is called. */
async function writerInAnotherProcess(folder) {
	const child = spawn(
		process.execPath,
		[path.join(__dirname, 'localChild.js'), 'hold-write', folder],
		{
			stdio: ['pipe', 'pipe', 'inherit'],
		},
	);
	const exited = once(child, 'exit');
	const [first] = await Promise.race([once(child.stdout, 'data'), exited]);
	if (!String(first).startsWith('holding')) throw new Error('the writing process did not start');
	return async () => {
		child.stdin.end('release\n');
		const [code] = await exited;
		if (code !== 0) throw new Error(`the writing process failed with code ${code}`);
	};
}

/** A fresh n8n folder, whose coupons.sqlite the step creates. */
function n8nFolder(label) {
	const folder = fs.mkdtempSync(path.join(os.tmpdir(), `coupons-bench-${label}-`));
	folders.push(folder);
	return folder;
}

async function concurrent(name, folder, processes) {
	const startAt = Date.now() + 3000;
	const results = await Promise.all(
		Array.from(
			{ length: processes },
			async (_, p) => await step(name, folder, CONTACTS, `${name}-${processes}-p${p}`, startAt),
		),
	);
	return (Math.max(...results.map((r) => r.finishedAt)) - startAt) / 1000;
}

const rate = (count, seconds) => Math.round(count / seconds).toLocaleString('en-US');
const fixed = (n, digits = 2) => n.toFixed(digits);

async function main() {
	console.log(
		`\nLocal storage benchmark (node:sqlite, WAL, synchronous=FULL), Node ${process.version}, ${os.cpus().length} cores`,
	);
	console.log(
		'\nImport (Coupon Import node into an empty coupon, vs bare SheetJS parse + bare inserts of the same codes into a table keyed by code, one transaction; targets at 1,000,000 rows: time ratio at most 1.3, peak RSS at most 350 MiB)',
	);
	let pool;
	for (const rows of [100_000, 1_000_000]) {
		const file = workbook(rows);
		const mib = fixed(fs.statSync(file).size / 1024 / 1024, 1);
		const folder = n8nFolder(`import${rows}`);
		const ours = await step('import-node', file, folder);
		const base = await step(
			'import-baseline',
			file,
			path.join(n8nFolder(`baseline${rows}`), 'baseline.sqlite'),
		);
		if (ours.added !== rows) throw new Error(`imported ${ours.added} of ${rows}`);
		console.log(
			`  ${rows.toLocaleString('en-US').padStart(9)} rows (${mib} MiB xlsx): node ${fixed(ours.seconds)} s (${rate(rows, ours.seconds)} rows/s, peak ${ours.peakMiB} MiB) | baseline ${fixed(base.seconds)} s (peak ${base.peakMiB} MiB) | ratio ${fixed(ours.seconds / base.seconds)}`,
		);
		pool = folder;
	}

	console.log(
		`\nAssignment from the 1,000,000-code pool, executions of ${CONTACTS.toLocaleString('en-US')} contacts (node vs the same statements run directly, one transaction each)`,
	);
	for (const processes of [1, PROCESSES]) {
		const ours = await concurrent('assign-node', pool, processes);
		const raw = await concurrent('assign-raw', pool, processes);
		const count = processes * CONTACTS;
		console.log(
			`  ${processes} process${processes > 1 ? 'es' : ''}: node ${rate(count, ours)} assignments/s | raw ${rate(count, raw)}/s | ratio ${fixed(raw / ours)} (raw time / node time)`,
		);
	}

	console.log(
		`\nValidate Code of one assigned code, ${VALIDATIONS} runs one after the other, on the 1,000,000-code pool: latency p50 / p99 (reads take no write lock)`,
	);
	const alone = await step('validate-latency', pool, VALIDATIONS, 'none');
	const release = await writerInAnotherProcess(pool);
	const beside = await step('validate-latency', pool, VALIDATIONS, 'another process').finally(
		release,
	);
	const inProcess = await step('validate-latency', pool, VALIDATIONS, 'this process');
	for (const [label, measured] of [
		['no writer', alone],
		['another process holds a write transaction', beside],
		['a write transaction of the same process is open', inProcess],
	]) {
		if (label !== 'no writer' && !measured.writerHeld)
			throw new Error(`the write lock was not held all along: ${label}`);
		console.log(`  ${label.padEnd(48)} ${fixed(measured.p50)} / ${fixed(measured.p99)} ms`);
	}

	console.log(
		'\nCoupon Trigger polls of 100 events on the 1,000,000-code pool (Redeemed after 1,000 uses; Expiring Soon over every active coupon), vs the same rows read by a bare indexed range query in one statement',
	);
	const trigger = await step('trigger-poll', pool);
	console.log(
		`  Redeemed:      ${fixed(trigger.redeemedPollMs)} ms a poll | bare read ${fixed(trigger.redeemedRawMs)} ms | ratio ${fixed(trigger.redeemedPollMs / trigger.redeemedRawMs)}`,
	);
	console.log(
		`  Expiring Soon: ${fixed(trigger.expiringPollMs)} ms a poll over ${trigger.active.toLocaleString('en-US')} active coupons | bare read ${fixed(trigger.expiringRawMs)} ms | ratio ${fixed(trigger.expiringPollMs / trigger.expiringRawMs)}`,
	);
	console.log(
		`  Expiring Soon, a poll that finds nothing (3 days): ${fixed(trigger.quietPollMs)} ms (a read, then the cursor moved in a write transaction that syncs to disk) | the same read without the time index ${fixed(trigger.quietScanMs)} ms`,
	);
	console.log(`  plan, Redeemed:      ${trigger.plans.redeemed}`);
	console.log(`  plan, Redeemed of Coupon Names: ${trigger.plans.redeemedOfOne}`);
	console.log(`  plan, Expiring Soon: ${trigger.plans.expiring}`);
}

main()
	.catch((error) => {
		console.error(error);
		process.exitCode = 1;
	})
	.finally(() => {
		for (const folder of folders) fs.rmSync(folder, { recursive: true, force: true });
	});
