import type { IDataObject } from 'n8n-workflow';
import { ContactCoupon } from '../../nodes/ContactCoupon/ContactCoupon.node';
import { CouponImport } from '../../nodes/CouponImport/CouponImport.node';
import { fileItem, jsonItems, mockExecuteFunctions, type MockOptions } from './executeFunctions';
import { xlsx } from './spreadsheets';

export const T0 = Date.UTC(2026, 3, 10, 8, 0, 0);

/** Coupon Import of one file through the node, on the workflow static data given; its output. */
export async function importFileInto(
	staticData: IDataObject,
	file: Buffer,
	parameters: Record<string, unknown> = {},
	extra: Partial<MockOptions> = {},
) {
	const mock = mockExecuteFunctions({
		items: [fileItem(file)],
		staticData,
		...extra,
		parameters: {
			storage: 'staticData',
			binaryPropertyName: 'data',
			couponName: '',
			options: {},
			...parameters,
		},
	});
	const [output] = await new CouponImport().execute.call(mock.context);
	return output;
}
export const iso = (ms: number) => new Date(ms).toISOString();

/** The checkout fields of a coupon nobody redeemed or held, of a coupon without details. */
export const UNTOUCHED_CODE = {
	usesPerCode: 1,
	uses: 0,
	usesLeft: 1,
	usesPerCustomer: null,
	customerUses: null,
	hold: null,
	details: {},
	redemptions: [],
};

/**
 * Contact Coupon through the node, on workflow static data kept between runs, with n8n's own item
 * handling: parameters per item, pairedItem, Continue on Fail, hints. Before each test the static
 * data starts empty with an imported list SPRING10 of three codes, and the clock stands at T0; it is
 * moved with jest's fake timers, which every operation reads. Call it inside a describe block.
 */
export function contactCouponRuns() {
	let staticData: IDataObject;

	async function run(
		operation: string,
		items: IDataObject[],
		parameters: Record<string, unknown>,
		extra: Partial<MockOptions> = {},
	) {
		const mock = mockExecuteFunctions({
			items: jsonItems(...items),
			staticData,
			...extra,
			parameters: { operation, storage: 'staticData', ...parameters },
		});
		const [output] = await new ContactCoupon().execute.call(mock.context);
		return { output, hints: mock.hints };
	}
	const perItem = (field: string) => (i: number) => runItems[i][field];
	let runItems: IDataObject[] = [];
	async function runEach(
		operation: string,
		items: IDataObject[],
		parameters: Record<string, unknown>,
		extra: Partial<MockOptions> = {},
	) {
		runItems = items;
		return await run(operation, items, parameters, extra);
	}
	const generate = async (emails: string[], couponName: string, validDays = 30) =>
		(
			await runEach(
				'generate',
				emails.map((email) => ({ email })),
				{ couponName, length: 8, validDays, contact: perItem('email'), options: {} },
			)
		).output.map((item) => (item.json.coupon as IDataObject).code as string);

	/** Coupon Import on the same static data, with one file. */
	const importFile = async (
		file: Buffer,
		parameters: Record<string, unknown>,
		extra: Partial<MockOptions> = {},
	) => await importFileInto(staticData, file, parameters, extra);

	beforeEach(async () => {
		staticData = {};
		jest.useFakeTimers({ now: T0 });
		await importFileInto(
			staticData,
			xlsx({
				Sheet1: [
					['coupon name', 'coupon value'],
					['SPRING10', 'SPR-0001'],
					['SPRING10', 'SPR-0002'],
					['SPRING10', 'SPR-0003'],
				],
			}),
		);
	});
	afterEach(() => jest.useRealTimers());

	return { run, runEach, perItem, generate, importFile };
}
