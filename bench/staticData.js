// Benchmark of the static-data store through the real node code (run `npm run bench`).
// Prints figures only; it asserts nothing and is not part of `npm test`.
const XLSX = require('@e965/xlsx');
const { ContactCoupon } = require('../dist/nodes/ContactCoupon/ContactCoupon.node');
const { CouponImport } = require('../dist/nodes/CouponImport/CouponImport.node');
const { context } = require('./lib/context');

function spreadsheet(rows) {
	const sheet = XLSX.utils.aoa_to_sheet([
		['coupon name', 'coupon value'],
		...Array.from({ length: rows }, (_, i) => ['BENCH', `CODE${String(i).padStart(7, '0')}`]),
	]);
	const workbook = XLSX.utils.book_new();
	XLSX.utils.book_append_sheet(workbook, sheet, 'Codes');
	return XLSX.write(workbook, { type: 'buffer', bookType: 'xlsx', compression: true });
}

async function timed(label, work) {
	const start = process.hrtime.bigint();
	const result = await work();
	const seconds = Number(process.hrtime.bigint() - start) / 1e9;
	return { label, seconds, result };
}

async function main() {
	const poolSize = 50_000;
	const contacts = 10_000;
	const staticData = {};
	const file = spreadsheet(poolSize);
	const importItems = [
		{
			json: {},
			binary: {
				data: {
					data: file.toString('base64'),
					fileName: 'bench.xlsx',
					mimeType: 'application/octet-stream',
				},
			},
		},
	];

	const imported = await timed(
		`import ${poolSize.toLocaleString('en-US')} rows (${(file.length / 1024).toFixed(0)} KiB xlsx)`,
		async () =>
			await new CouponImport().execute.call(
				context(
					importItems,
					{ storage: 'staticData', binaryPropertyName: 'data', couponName: '', options: {} },
					{ staticData },
				),
			),
	);
	const people = Array.from({ length: contacts }, (_, i) => ({
		json: { email: `person${i}@example.com` },
	}));
	const parameters = {
		operation: 'generate',
		storage: 'staticData',
		couponName: 'BENCH',
		length: 8,
		validDays: 30,
		contact: (i) => people[i].json.email,
		options: {},
	};
	const assigned = await timed(
		`assign ${contacts.toLocaleString('en-US')} contacts from the imported pool`,
		async () => await new ContactCoupon().execute.call(context(people, parameters, { staticData })),
	);
	const generated = await timed(
		`assign ${contacts.toLocaleString('en-US')} contacts a generated code`,
		async () =>
			await new ContactCoupon().execute.call(
				context(people, { ...parameters, couponName: 'GENERATED' }, { staticData }),
			),
	);
	const stored = JSON.stringify(staticData).length;

	console.log('Static-data store, one execution each, Node', process.version);
	for (const { label, seconds } of [imported, assigned, generated]) {
		console.log(`  ${label.padEnd(56)} ${seconds.toFixed(2).padStart(6)} s`);
	}
	console.log(
		`  assignments per second (imported / generated)            ${Math.round(contacts / assigned.seconds)} / ${Math.round(contacts / generated.seconds)}`,
	);
	console.log(
		`  static data afterwards: ${(stored / 1024 / 1024).toFixed(2)} MiB for ${poolSize.toLocaleString('en-US')} imported codes and ${(2 * contacts).toLocaleString('en-US')} assignments`,
	);
	console.log(`  peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
