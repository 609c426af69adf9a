// Ten million codes (run by `npm run bench`, after the build): a CSV of 10,000,000 rows, which no
// sheet can hold (1,048,576 rows at most), imported by the Coupon Import node into PostgreSQL in one
// process. Prints its time and peak memory; target: peak RSS at most 1 GiB. Asserts nothing. Takes
// minutes and a 150 MB file: COUPONS_BENCH_SMALL=1 skips it.
const { execFile } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { once } = require('node:events');
const { promisify } = require('node:util');
const { codeOf } = require('./lib/workbook');
const { dropSchemas } = require('./lib/database');

const ROWS = 10_000_000;

/** The CSV, written once into bench/.cache a block of rows at a time. */
async function csvFile() {
	const file = path.join(__dirname, '.cache', `coupons-TEN-${ROWS}.csv`);
	if (fs.existsSync(file)) return file;
	fs.mkdirSync(path.dirname(file), { recursive: true });
	const out = fs.createWriteStream(`${file}.part`);
	out.write('coupon name,coupon value\n');
	for (let i = 0; i < ROWS; i += 10_000) {
		let block = '';
		for (let k = i; k < i + 10_000; k++) block += `TEN,${codeOf(k)}\n`;
		if (!out.write(block)) await once(out, 'drain');
	}
	out.end();
	await once(out, 'finish');
	fs.renameSync(`${file}.part`, file);
	return file;
}

async function main() {
	if (process.env.COUPONS_BENCH_SMALL === '1') {
		console.log('\nTen million codes: skipped (COUPONS_BENCH_SMALL=1)');
		return;
	}
	const file = await csvFile();
	const schema = `coupons_bench_ten_${process.pid}`;
	try {
		const { stdout } = await promisify(execFile)(
			process.execPath,
			[path.join(__dirname, 'postgresChild.js'), 'import-node', file, schema, ROWS],
			{ maxBuffer: 1 << 20 },
		);
		const result = JSON.parse(stdout.trim().split('\n').pop());
		if (result.added !== ROWS) throw new Error(`imported ${result.added} of ${ROWS}`);
		const mib = (fs.statSync(file).size / 2 ** 20).toFixed(0);
		console.log(
			`\nTen million codes (a ${mib} MiB CSV, Coupon Import into PostgreSQL, the file on disk, as n8n's filesystem binary mode keeps it; target peak RSS at most 1,024 MiB)\n  ${result.seconds.toFixed(0)} s, peak RSS ${result.maxRssMiB} MiB`,
		);
	} finally {
		await dropSchemas(schema);
	}
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
