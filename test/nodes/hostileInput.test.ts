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
import { sheetXml, workbookParts, zip } from '../helpers/spreadsheets';

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
