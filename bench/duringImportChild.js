// One side of bench/duringImport.js, in a process of its own: the import itself, or the shop's
// single calls meanwhile. Prints one JSON line. Run on a Node with node:sqlite.
const fs = require('node:fs');
const { ContactCoupon } = require('../dist/nodes/ContactCoupon/ContactCoupon.node');
const { CouponImport } = require('../dist/nodes/CouponImport/CouponImport.node');
const { closeAllDatabases } = require('../dist/nodes/shared/transport/postgres');
const { context, fileItem } = require('./lib/context');
const { credentials } = require('./lib/database');

const [step, storage, where, ...args] = process.argv.slice(2);
/** Local: the n8n folder; PostgreSQL: the schema. */
const options = storage === 'local' ? { n8nFolder: where } : { credentials: credentials(where) };

const contactCoupon = async (parameters) => {
	const [output] = await new ContactCoupon().execute.call(
		context([{ json: {} }], { storage, ...parameters }, options),
	);
	return output[0].json;
};

const percentile = (sorted, p) =>
	sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
const summary = (ms) => {
	const sorted = [...ms].sort((a, b) => a - b);
	return {
		calls: ms.length,
		p50: percentile(sorted, 0.5),
		p99: percentile(sorted, 0.99),
		max: sorted.at(-1),
	};
};

const steps = {
	/** Coupon Import of the file into a new coupon named in its rows. */
	async import(file) {
		const started = performance.now();
		const [output] = await new CouponImport().execute.call(
			context(
				[fileItem(fs.readFileSync(file))],
				{ storage, binaryPropertyName: 'data', couponName: '', options: {} },
				options,
			),
		);
		return { seconds: (performance.now() - started) / 1000, added: output[0].json.added };
	},

	/** Imports `count` codes into coupon SHOP, for the calls. */
	async setup(count) {
		const codes = Array.from({ length: Number(count) }, (_, i) => `SHOP-${i}`);
		const csv = Buffer.from(`coupon value\n${codes.join('\n')}\n`);
		await new CouponImport().execute.call(
			context(
				[
					{
						json: {},
						binary: {
							data: { data: csv.toString('base64'), fileName: 'shop.csv', mimeType: 'text/csv' },
						},
					},
				],
				{ storage, binaryPropertyName: 'data', couponName: 'SHOP', options: {} },
				options,
			),
		);
		return {};
	},

	/**
	 * Single-contact calls one after the other until a line arrives on stdin: Generate for Contact,
	 * then Redeem Code of its code, each timed on its own.
	 */
	async calls(label) {
		const generate = [];
		const redeem = [];
		let stop = false;
		process.stdin.once('data', () => (stop = true));
		for (let i = 0; !stop; i++) {
			let started = performance.now();
			const { coupon } = await contactCoupon({
				operation: 'generate',
				couponName: 'SHOP',
				length: 8,
				validDays: 30,
				contact: `${label}-${i}@example.com`,
				options: {},
			});
			generate.push(performance.now() - started);
			started = performance.now();
			const { redemption } = await contactCoupon({
				operation: 'redeem',
				code: coupon.code,
				options: { orderReference: `${label}-order-${i}` },
			});
			redeem.push(performance.now() - started);
			if (redemption.status !== 'accepted') throw new Error(`redeem said ${redemption.status}`);
		}
		process.stdin.destroy();
		return { generate: summary(generate), redeem: summary(redeem) };
	},
};

steps[step](...args)
	.then(async (result) => {
		await closeAllDatabases();
		console.log(JSON.stringify(result));
	})
	.catch((error) => {
		console.error(error);
		process.exit(1);
	});
