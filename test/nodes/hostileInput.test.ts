import { dirname } from 'node:path';
import type { IDataObject } from 'n8n-workflow';
import { ContactCoupon } from '../../nodes/ContactCoupon/ContactCoupon.node';
import { CouponImport } from '../../nodes/CouponImport/CouponImport.node';
import { databaseFor } from '../../nodes/shared/transport/postgres';
import {
	fileItem,
	jsonItems,
	mockExecuteFunctions,
	nodeFailure,
	type MockOptions,
} from '../helpers/executeFunctions';
import { temporaryLocalFile } from '../helpers/localFiles';
import { databaseAvailable, dropSchema, testCredentials, uniqueSchema } from '../helpers/postgres';
import { sheetXml, workbookParts, xlsx, zip } from '../helpers/spreadsheets';
import { HEAVY_TEST_MS } from '../helpers/timeouts';

/** Each store, as the node's Storage parameter and what the mock needs to open it. */
interface StorageUnderTest {
	label: string;
	open: () => { storage: string; mock: Partial<MockOptions>; close: () => Promise<void> };
}

const storages: StorageUnderTest[] = [
	{
		label: 'workflow static data',
		open: () => ({ storage: 'staticData', mock: { staticData: {} }, close: async () => {} }),
	},
	{
		label: 'Local',
		open: () => {
			const local = temporaryLocalFile('hostile');
			return {
				storage: 'local',
				mock: { n8nFolder: dirname(local.file) },
				close: async () => local.remove(),
			};
		},
	},
	...(databaseAvailable
		? [
				{
					label: 'PostgreSQL',
					open: () => {
						const schema = uniqueSchema('hostile');
						const credentials = testCredentials(schema);
						return {
							storage: 'database',
							mock: { credentials },
							close: async () => {
								await databaseFor(credentials).close();
								await dropSchema(schema);
							},
						};
					},
				},
			]
		: []),
];

describe.each(storages)('hostile values on $label', ({ open }) => {
	let opened: ReturnType<StorageUnderTest['open']>;
	beforeEach(() => (opened = open()));
	afterEach(async () => await opened.close());

	const contactCoupon = async (
		operation: string,
		items: IDataObject[],
		parameters: Record<string, unknown>,
	) => {
		const mock = mockExecuteFunctions({
			items: jsonItems(...items),
			...opened.mock,
			parameters: { operation, storage: opened.storage, options: {}, ...parameters },
		});
		return (await new ContactCoupon().execute.call(mock.context))[0];
	};
	const generate = async (contact: unknown, couponName: unknown = 'WELCOME', options = {}) =>
		await contactCoupon('generate', [{}], {
			couponName,
			length: 8,
			validDays: 30,
			contact,
			options,
		});
	const couponCount = async () => (await contactCoupon('stats', [{}], { couponName: '' })).length;

	it('refuses a contact, a coupon name or a code holding half of a broken character, storing nothing', async () => {
		// PostgreSQL would store the lone surrogate as U+FFFD: "eve\ud800@x.com" would then never
		// find its own coupon, and "eve\ufffd@x.com" would hold it.
		const contactError = await nodeFailure(generate('eve\ud800@x.com'));
		expect(contactError.message).toBe(
			'The contact contains half of a broken character (the lone UTF-16 surrogate U+D800)',
		);
		expect(contactError.context.itemIndex).toBe(0);
		for (const name of ['N\ud800', 'N\udfff']) {
			const nameError = await nodeFailure(generate('eve@x.com', name));
			expect(nameError.message).toMatch(/coupon name "N.*" contains half of a broken character/);
		}
		const codeError = await nodeFailure(
			contactCoupon('validate', [{}], { code: 'AB\udc00CD', options: {} }),
		);
		expect(codeError.message).toMatch(/^The code contains half of a broken character/);
		expect(await couponCount()).toBe(0);

		// A whole character made of two surrogates is an ordinary character.
		const [item] = await generate('emoji😀@x.com');
		expect((item.json.coupon as IDataObject).contact).toBe('emoji😀@x.com');
	});

	it('rejects spreadsheet values and coupon names written as broken characters', async () => {
		const file = zip(
			workbookParts(
				sheetXml([
					['coupon name', 'coupon value'],
					['SPRING', 'GOOD1'],
					['SPRING', 'AB&#55296;CD'],
					['N&#56320;', 'GOOD2'],
				]),
			),
		);
		const mock = mockExecuteFunctions({
			items: [fileItem(file)],
			...opened.mock,
			parameters: {
				storage: opened.storage,
				binaryPropertyName: 'data',
				couponName: '',
				options: {},
			},
		});
		const [summary] = (await new CouponImport().execute.call(mock.context))[0];
		expect(summary.json).toMatchObject({ couponName: 'SPRING', added: 1, invalid: 1 });
		expect(summary.json.rejectedRows).toEqual([
			{ row: 3, value: 'AB\ud800CD', reason: expect.stringMatching(/broken character/) },
		]);
		expect(summary.json.file).toMatchObject({ rowsWithoutCoupon: 1 });
		expect(await couponCount()).toBe(1);
	});

	it('refuses option values that name inherited object properties, naming the allowed values', async () => {
		for (const characters of ['toString', 'valueOf', '__proto__', 'constructor']) {
			const error = await nodeFailure(generate('ann@x.com', 'WELCOME', { characters }));
			expect(error.message).toBe(`Unknown character set "${characters}"`);
			expect(error.description).toBe(
				'Set Characters to one of "unambiguous", "alphanumeric", "digits", "custom".',
			);
		}
		const [rendered] = await contactCoupon('render', [{}], {
			contact: 'ann@x.com',
			text: 'Code: $cst.&constructor;.coupon$ $cst.&toString;.coupon$',
			whenMissing: 'leave',
			whenUnfilled: 'leave',
			length: 8,
			validDays: 30,
		});
		expect(JSON.stringify(rendered.json)).not.toMatch(/function|native code/);
		expect(await couponCount()).toBe(0);
	});

	it('refuses values an expression turns into something other than text, instead of "NaN" or "[object Object]"', async () => {
		expect((await nodeFailure(generate(NaN))).message).toBe(
			'The contact is the number NaN, not text',
		);
		expect((await nodeFailure(generate('ann@x.com', { name: 'X' }))).message).toBe(
			'The coupon name is an object, not text',
		);
		expect(
			(await nodeFailure(generate('ann@x.com', 'WELCOME', { prefix: { a: 1 } }))).message,
		).toBe('The prefix is an object, not text');
		expect(await couponCount()).toBe(0);

		const [item] = await generate('ann@x.com', 'WELCOME', { prefix: 7 });
		expect((item.json.coupon as IDataObject).code).toMatch(/^7[2-9A-Z]{8}$/);
	});
});

describe('workflow static data at scale and when damaged', () => {
	const importFile = async (staticData: IDataObject, rows: unknown[][], options = {}) => {
		const mock = mockExecuteFunctions({
			items: [fileItem(xlsx({ S: rows }))],
			staticData,
			parameters: { storage: 'staticData', binaryPropertyName: 'data', couponName: '', options },
		});
		return (await new CouponImport().execute.call(mock.context))[0];
	};
	const contactCoupon = async (
		staticData: IDataObject,
		operation: string,
		parameters: Record<string, unknown>,
	) => {
		const mock = mockExecuteFunctions({
			items: jsonItems({}),
			staticData,
			parameters: { operation, storage: 'staticData', options: {}, ...parameters },
		});
		return (await new ContactCoupon().execute.call(mock.context))[0];
	};

	it(
		'costs in proportion to the coupons touched: 30,000 coupons import, validate and report (npm run bench times it)',
		async () => {
			// Each look-up once copied and scanned every coupon: 127 s to import, 62 s per Validate.
			const staticData: IDataObject = {};
			const rows = [
				['coupon name', 'coupon value'],
				...Array.from({ length: 30_000 }, (_, i) => [`C${i}`, `CODE${i}`]),
			];
			const summaries = await importFile(staticData, rows, { maxNewCoupons: 30_000 });
			expect(summaries).toHaveLength(30_000);
			const [validation] = await contactCoupon(staticData, 'validate', { code: 'code29999' });
			expect(validation.json.validation).toMatchObject({ status: 'not_assigned' });
			const statistics = await contactCoupon(staticData, 'stats', { couponName: '' });
			expect(statistics).toHaveLength(30_000);
		},
		HEAVY_TEST_MS,
	);

	it('refuses a file that would create more new coupons than Max New Coupons, storing nothing', async () => {
		const staticData: IDataObject = {};
		const rows = [
			['coupon name', 'coupon value'],
			...Array.from({ length: 1_001 }, (_, i) => [`Customer ${i}`, `CODE${i}`]),
		];
		const error = await nodeFailure(importFile(staticData, rows));
		expect(error.message).toBe(
			'Sheet "S" would create 1,001 new coupons ("Customer 0", "Customer 1", "Customer 2", ...), more than Max New Coupons (1,000)',
		);
		expect(error.description).toMatch(/Check that column "coupon name" names coupons/);
		expect(staticData).toEqual({});
		expect(await importFile(staticData, rows, { maxNewCoupons: 1_001 })).toHaveLength(1_001);
	});

	it(
		'refuses a file naming a new coupon on every row before it stages them, as when the name column holds codes',
		async () => {
			const staticData: IDataObject = {};
			const rows = [
				['coupon name', 'coupon value'],
				...Array.from({ length: 60_000 }, (_, i) => [`C${i}`, `CODE${i}`]),
			];
			const error = await nodeFailure(importFile(staticData, rows));
			// Refused once the first 50,000 rows were read, having looked up only the coupons it names first.
			expect(error.message).toBe(
				'Sheet "S" would create at least 1,001 new coupons ("C0", "C1", "C2", ...), more than Max New Coupons (1,000)',
			);
			expect(staticData).toEqual({});
		},
		HEAVY_TEST_MS,
	);

	it('fails a Render item whose text names thousands of coupons nobody has, creating none', async () => {
		const staticData: IDataObject = {};
		const text = Array.from({ length: 5_000 }, (_, i) => `$cst.P${i}.coupon$`).join(' ');
		const error = await nodeFailure(
			contactCoupon(staticData, 'render', { text, contact: 'ann@x.com', length: 8, validDays: 30 }),
		);
		expect(error.message).toBe(
			'$cst.P0.coupon$: no coupon is named "P0". There are no coupons yet.',
		);
		expect(staticData).toEqual({});
		const [removed] = await contactCoupon(staticData, 'render', {
			text,
			contact: 'ann@x.com',
			whenUnfilled: 'remove',
			length: 8,
			validDays: 30,
		});
		expect((removed.json.rendered as IDataObject).text).toBe(' '.repeat(4_999));
		expect(removed.json.rendered).toMatchObject({ unresolvedNotListed: 4_950 });
	});

	it('fails a Render item whose text would create more than Max New Coupons coupons, creating none', async () => {
		const staticData: IDataObject = {};
		const text = Array.from({ length: 5_000 }, (_, i) => `$cst.P${i}.coupon$`).join(' ');
		const error = await nodeFailure(
			contactCoupon(staticData, 'render', {
				text,
				contact: 'ann@x.com',
				whenMissing: 'assign',
				createCoupons: true,
				length: 8,
				validDays: 30,
			}),
		);
		expect(error.message).toMatch(
			/^The text names 5,000 coupons that do not exist yet \("P0", "P1", "P2", \.\.\.\); creating them would pass Max New Coupons \(100 in one run/,
		);
		expect(staticData).toEqual({});
	});

	it.each([
		['a string', 'oops', /are damaged: they are not a list of coupons/],
		['version 99', { version: 99, pools: [] }, /have format version 99, newer than/],
		['version "2"', { version: '2', pools: [] }, /have an unknown format version "2"/],
		[
			'a damaged assignment',
			{
				version: 2,
				pools: [{ name: 'W', kind: 'generated', createdAt: '', available: '', assignments: 'X' }],
			},
			/coupon "W" holds an assignment that cannot be read/,
		],
		[
			'a code held by nobody in a coupon that is not shared',
			{
				version: 5,
				pools: [
					{
						name: 'W',
						kind: 'imported',
						createdAt: '',
						available: '',
						assignments: `X\t\t0\t1\t`,
					},
				],
			},
			/coupon "W" holds an assignment that cannot be read/,
		],
		[
			'a use whose customer is not text',
			{
				version: 5,
				pools: [
					{
						name: 'W',
						kind: 'imported',
						usesPerCustomer: 1,
						createdAt: '',
						available: '',
						assignments: `X\t\t0\t1\t\t\t\t${JSON.stringify({ uses: 1, redemptions: [{ n: 1, at: 0, contactKey: 7 }] })}`,
					},
				],
			},
			/coupon "W" holds an assignment that cannot be read/,
		],
		[
			'a damaged coupon',
			{ version: 2, pools: [{ name: 7 }] },
			/coupon number 1 is not a stored coupon/,
		],
		[
			'a damaged code format',
			{
				version: 3,
				pools: [
					{
						name: 'W',
						kind: 'generated',
						createdAt: '',
						available: '',
						assignments: '',
						codeFormat: { characters: 'AB', length: 1e9, prefix: '' },
					},
				],
			},
			/coupon number 1 is not a stored coupon/,
		],
	])(
		'names damaged static data (%s) and what to do, changing nothing',
		async (_label, stored, message) => {
			const staticData: IDataObject = { n8nNodesCoupons: stored as IDataObject };
			const error = await nodeFailure(
				contactCoupon(staticData, 'generate', {
					couponName: 'W',
					contact: 'a@x.com',
					length: 8,
					validDays: 30,
				}),
			);
			expect(error.message).toMatch(message);
			expect(error.description).toBeTruthy();
			expect(staticData.n8nNodesCoupons).toEqual(stored);
		},
	);

	it('fails each item, not the run, when the storage fails under Continue on Fail, so a webhook still answers', async () => {
		const staticData: IDataObject = { n8nNodesCoupons: 'oops' };
		for (const onError of ['continueRegularOutput', 'continueErrorOutput'] as const) {
			const mock = mockExecuteFunctions({
				items: jsonItems({ email: 'a@x.com' }, { email: 'b@x.com' }),
				staticData,
				onError,
				parameters: {
					operation: 'generate',
					storage: 'staticData',
					couponName: 'W',
					contact: (i: number) => ['a@x.com', 'b@x.com'][i],
					length: 8,
					validDays: 30,
					options: {},
				},
			});
			const [output] = await new ContactCoupon().execute.call(mock.context);
			expect(output.map((item) => [item.json.error, item.pairedItem])).toEqual([
				[expect.stringMatching(/are damaged/), { item: 0 }],
				[expect.stringMatching(/are damaged/), { item: 1 }],
			]);
		}
		expect(staticData.n8nNodesCoupons).toBe('oops');
	});
});
