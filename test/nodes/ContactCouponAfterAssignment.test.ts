import type { IDataObject } from 'n8n-workflow';
import { ContactCoupon } from '../../nodes/ContactCoupon/ContactCoupon.node';
import { CouponImport } from '../../nodes/CouponImport/CouponImport.node';
import { DAY_MS } from '../../nodes/shared/core/validity';
import {
	fileItem,
	jsonItems,
	mockExecuteFunctions,
	nodeFailure,
	type MockOptions,
} from '../helpers/executeFunctions';
import { xlsx } from '../helpers/spreadsheets';

const T0 = Date.UTC(2026, 3, 10, 8, 0, 0);
const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The operations after assignment through the node, on workflow static data kept between runs,
 * with n8n's own item handling: parameters per item, pairedItem, Continue on Fail, hints. The clock
 * is moved with jest's fake timers: every operation reads the same one.
 */
describe('Contact Coupon after assignment', () => {
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

	beforeEach(async () => {
		staticData = {};
		jest.useFakeTimers({ now: T0 });
		const importer = mockExecuteFunctions({
			items: [
				fileItem(
					xlsx({
						Sheet1: [
							['coupon name', 'coupon value'],
							['SPRING10', 'SPR-0001'],
							['SPRING10', 'SPR-0002'],
							['SPRING10', 'SPR-0003'],
						],
					}),
				),
			],
			staticData,
			parameters: {
				storage: 'staticData',
				binaryPropertyName: 'data',
				couponName: '',
				options: {},
			},
		});
		await new CouponImport().execute.call(importer.context);
	});
	afterEach(() => jest.useRealTimers());

	describe('Get Contact Coupons', () => {
		it('adds the contact card to each item, newest first; only active ones when asked; an empty list for a stranger', async () => {
			const [spring] = await generate(['ann@example.com'], 'SPRING10', 2);
			jest.setSystemTime(T0 + DAY_MS);
			const [welcome] = await generate(['ann@example.com'], 'WELCOME');
			jest.setSystemTime(T0 + 3 * DAY_MS);
			const { output } = await runEach(
				'getForContact',
				[
					{ email: 'ANN@example.com ', n: 1 },
					{ email: 'zoe@example.com', n: 2 },
				],
				{ contact: perItem('email'), options: {} },
			);
			expect(output.map((item) => item.pairedItem)).toEqual([{ item: 0 }, { item: 1 }]);
			expect(output[0].json).toEqual({
				email: 'ANN@example.com ',
				n: 1,
				coupons: [
					{
						name: 'WELCOME',
						code: welcome,
						status: 'active',
						assignedAt: iso(T0 + DAY_MS),
						validUntil: iso(T0 + 31 * DAY_MS),
						redeemedAt: null,
						orderReference: null,
					},
					{
						name: 'SPRING10',
						code: spring,
						status: 'expired',
						assignedAt: iso(T0),
						validUntil: iso(T0 + 2 * DAY_MS),
						redeemedAt: null,
						orderReference: null,
					},
				],
			});
			expect(output[1].json).toEqual({ email: 'zoe@example.com', n: 2, coupons: [] });
			const active = await runEach('getForContact', [{ email: 'ann@example.com' }], {
				contact: perItem('email'),
				options: { onlyActive: true },
			});
			expect((active.output[0].json.coupons as IDataObject[]).map((c) => c.code)).toEqual([
				welcome,
			]);
		});

		it('refuses an item without a contact, naming the item', async () => {
			const error = await nodeFailure(
				runEach('getForContact', [{ email: 'a' }, { email: ' ' }], {
					contact: perItem('email'),
					options: {},
				}),
			);
			expect(error.message).toBe('The contact is empty');
			expect(error.context.itemIndex).toBe(1);
		});
	});

	describe('Validate Code and Redeem Code', () => {
		let code: string;
		beforeEach(async () => ([code] = await generate(['ann@example.com'], 'SPRING10', 7)));
		const checkout = async (
			operation: 'validate' | 'redeem',
			orders: IDataObject[],
			extra: Partial<MockOptions> = {},
		) =>
			await runEach(
				operation,
				orders,
				{
					code: perItem('code'),
					options: (i: number) => ({
						...(orders[i].email === undefined ? {} : { contact: orders[i].email }),
						orderReference: orders[i].order,
					}),
				},
				extra,
			);

		it('validates without changing anything, then redeems once: the second checkout is refused as redeemed', async () => {
			const loose = ` ${code.toLowerCase().replace('-', ' ')} `;
			const valid = await runEach('validate', [{ code: loose }], {
				code: perItem('code'),
				options: { contact: 'Ann@Example.com' },
			});
			expect(valid.output[0].json.validation).toEqual({
				code: loose.trim(),
				valid: true,
				status: 'valid',
				message: `Code ${loose.trim()} of coupon "SPRING10" is valid until ${iso(T0 + 7 * DAY_MS)}`,
				coupon: {
					name: 'SPRING10',
					code,
					status: 'active',
					assignedAt: iso(T0),
					validUntil: iso(T0 + 7 * DAY_MS),
					redeemedAt: null,
					orderReference: null,
				},
			});
			jest.setSystemTime(T0 + DAY_MS);
			const first = await runEach('redeem', [{ code, order: 'A-100' }], {
				code: perItem('code'),
				options: { contact: 'ann@example.com', orderReference: 'A-100' },
			});
			expect(first.output[0].json.redemption).toMatchObject({
				accepted: true,
				status: 'accepted',
				coupon: { status: 'redeemed', redeemedAt: iso(T0 + DAY_MS), orderReference: 'A-100' },
			});
			const second = await runEach('redeem', [{ code }], { code: perItem('code'), options: {} });
			expect(second.output[0].json.redemption).toMatchObject({
				accepted: false,
				status: 'redeemed',
				message: `Code ${code} of coupon "SPRING10" was already redeemed on ${iso(T0 + DAY_MS)}`,
			});
			// The contact card shows the redemption; the pool still counts the code as used, not available.
			const card = await runEach('getForContact', [{ email: 'ann@example.com' }], {
				contact: perItem('email'),
				options: {},
			});
			expect(card.output[0].json.coupons).toEqual([
				expect.objectContaining({ code, status: 'redeemed', orderReference: 'A-100' }),
			]);
			const stats = await run('stats', [{}], { couponName: 'spring10' });
			expect(stats.output[0].json).toMatchObject({
				name: 'SPRING10',
				available: 2,
				assigned: 1,
				redeemed: 1,
				active: 0,
			});
		});

		it('refuses a code past validUntil, from the very millisecond, and from another contact', async () => {
			jest.setSystemTime(T0 + 7 * DAY_MS - 1);
			const justInTime = await runEach('validate', [{ code }], {
				code: perItem('code'),
				options: {},
			});
			expect(justInTime.output[0].json.validation).toMatchObject({ status: 'valid' });
			const stranger = await runEach('redeem', [{ code }], {
				code: perItem('code'),
				options: { contact: 'eve@example.com' },
			});
			expect(stranger.output[0].json.redemption).toMatchObject({
				accepted: false,
				status: 'other_contact',
			});
			jest.setSystemTime(T0 + 7 * DAY_MS);
			const late = await runEach('redeem', [{ code }], { code: perItem('code'), options: {} });
			expect(late.output[0].json.redemption).toMatchObject({
				accepted: false,
				status: 'expired',
				message: `Code ${code} of coupon "SPRING10" expired on ${iso(T0 + 7 * DAY_MS)}`,
			});
		});

		it('names the item of an empty code; with Continue on Fail the other items are still redeemed', async () => {
			const error = await nodeFailure(checkout('redeem', [{ code }, { code: '  ' }]));
			expect(error.message).toBe('The code is empty');
			expect(error.context.itemIndex).toBe(1);
			expect(error.description).toMatch(/Map Code to the field/);
			// Nothing was kept of the failed run.
			const check = await runEach('validate', [{ code }], { code: perItem('code'), options: {} });
			expect(check.output[0].json.validation).toMatchObject({ status: 'valid' });

			const { output } = await checkout('redeem', [{ code }, { code: '' }, { code: 'NOPE-1' }], {
				continueOnFail: true,
			});
			expect(
				output.map(
					(item) => (item.json.redemption as IDataObject | undefined)?.status ?? item.json.error,
				),
			).toEqual(['accepted', 'The code is empty', 'unknown']);
		});

		it('refuses an added Contact or Coupon Name option that comes out empty, rather than accepting anyone', async () => {
			const noEmail = await nodeFailure(
				runEach('redeem', [{ code }], { code: perItem('code'), options: { contact: undefined } }),
			);
			expect(noEmail.message).toBe('The contact is empty');
			expect(noEmail.description).toMatch(
				/remove the Contact option to accept the code from anyone/,
			);
			const noName = await nodeFailure(
				runEach('validate', [{ code }], { code: perItem('code'), options: { couponName: ' ' } }),
			);
			expect(noName.description).toMatch(/remove the Coupon Name option/);
			// A misspelt coupon name fails loudly, naming the coupons there are, instead of refusing every code.
			const typo = await nodeFailure(
				runEach('redeem', [{ code }], {
					code: perItem('code'),
					options: { couponName: 'SPRNG10' },
				}),
			);
			expect(typo.message).toBe('No coupon is named "SPRNG10". The coupons are "SPRING10".');
			const card = await runEach('validate', [{ code }], { code: perItem('code'), options: {} });
			expect(card.output[0].json.validation).toMatchObject({ status: 'valid' });
		});

		it('refuses an order reference with a line break, and tells of test runs that save nothing', async () => {
			const error = await nodeFailure(
				runEach('redeem', [{ code }], {
					code: perItem('code'),
					options: { orderReference: 'A\n1' },
				}),
			);
			expect(error.message).toBe('The order reference contains a line break');
			const manual = await runEach(
				'redeem',
				[{ code }],
				{ code: perItem('code'), options: {} },
				{ mode: 'manual' },
			);
			expect(manual.hints.map((h) => h.message).join()).toMatch(/redemptions were not stored/);
			const validateHints = await runEach(
				'validate',
				[{ code }],
				{ code: perItem('code'), options: {} },
				{ mode: 'manual' },
			);
			expect(validateHints.hints).toEqual([]);
		});
	});

	describe('Render Placeholders', () => {
		const html =
			'<h1>Hi!</h1><p>Spring: $cst.SPRING10.coupon$</p><p>Welcome: $cst.WELCOME.coupon$</p><p>$cst.firstname$</p>';

		it("renders each contact's coupons, assigning missing ones with the settings, and lists what it used", async () => {
			const [welcome] = await generate(['bob@example.com'], 'WELCOME');
			const { output } = await runEach(
				'render',
				[
					{ email: 'ann@example.com', html },
					{ email: 'bob@example.com', html },
				],
				{
					text: perItem('html'),
					contact: perItem('email'),
					whenMissing: 'assign',
					length: 10,
					validDays: 5,
					options: { prefix: 'W-' },
				},
			);
			const ann = output[0].json.rendered as {
				text: string;
				coupons: IDataObject[];
				unresolved: IDataObject[];
			};
			expect(ann.coupons.map((c) => [c.name, c.reused, c.validUntil])).toEqual([
				['SPRING10', false, iso(T0 + 5 * DAY_MS)],
				['WELCOME', false, iso(T0 + 5 * DAY_MS)],
			]);
			expect(ann.coupons[1].code).toMatch(/^W-[23456789A-Z]{10}$/);
			expect(ann.text).toBe(
				`<h1>Hi!</h1><p>Spring: ${ann.coupons[0].code}</p><p>Welcome: ${ann.coupons[1].code}</p><p>$cst.firstname$</p>`,
			);
			expect(ann.unresolved).toEqual([
				expect.objectContaining({ placeholder: '$cst.firstname$', problem: 'not_a_coupon' }),
			]);
			const bob = output[1].json.rendered as { text: string; coupons: IDataObject[] };
			expect(bob.coupons.find((c) => c.name === 'WELCOME')).toMatchObject({
				code: welcome,
				reused: true,
			});
			expect(output[1].json).toMatchObject({ email: 'bob@example.com', html });
		});

		it('never renders an expired coupon: with "leave" the placeholder stays, with "fail" the item fails', async () => {
			await generate(['ann@example.com'], 'WELCOME', 1);
			jest.setSystemTime(T0 + DAY_MS);
			const template = 'Code: $cst.WELCOME.coupon$';
			const left = await runEach('render', [{ email: 'ann@example.com' }], {
				text: template,
				contact: perItem('email'),
				whenMissing: 'leave',
			});
			expect(left.output[0].json.rendered).toEqual({
				text: template,
				coupons: [],
				unresolved: [
					{
						placeholder: '$cst.WELCOME.coupon$',
						problem: 'no_active_coupon',
						message:
							'$cst.WELCOME.coupon$: ann@example.com has no active coupon "WELCOME" (the last one is expired)',
					},
				],
			});
			const error = await nodeFailure(
				runEach('render', [{ email: 'bob@example.com' }, { email: 'ann@example.com' }], {
					text: `$cst.SPRING10.coupon$ ${template}`,
					contact: perItem('email'),
					whenMissing: 'fail',
				}),
			);
			expect(error.message).toBe(
				'$cst.SPRING10.coupon$: bob@example.com has no active coupon "SPRING10"',
			);
			expect(error.context.itemIndex).toBe(0);
			expect(error.description).toMatch(/Generate for Contact/);
			// A test run that only renders coupons already held saves nothing and loses nothing: no hint.
			const manual = await runEach(
				'render',
				[{ email: 'ann@example.com' }],
				{ text: template, contact: perItem('email'), whenMissing: 'leave' },
				{ mode: 'manual' },
			);
			expect(manual.hints).toEqual([]);
			const assigning = await runEach(
				'render',
				[{ email: 'ann@example.com' }],
				{
					text: template,
					contact: perItem('email'),
					whenMissing: 'assign',
					length: 8,
					validDays: 3,
					options: {},
				},
				{ mode: 'manual' },
			);
			expect(assigning.hints.map((h) => h.message).join()).toMatch(
				/coupons assigned while rendering were not stored/,
			);
		});

		it('creates a generated coupon for a new name with a hint, and with Continue on Fail fails only the items a refused length concerns', async () => {
			const first = await runEach('render', [{ email: 'ann@example.com' }], {
				text: 'Code: $cst.NEWNAME.coupon$',
				contact: perItem('email'),
				whenMissing: 'assign',
				length: 10,
				validDays: 5,
				options: { characters: 'digits' },
			});
			expect((first.output[0].json.rendered as IDataObject).text).toMatch(/^Code: \d{10}$/);
			expect(first.hints.map((h) => h.message)).toEqual([
				'No coupon was named "NEWNAME", so a generated coupon of that name was created for its placeholder. If that name is a typo, correct the template.',
			]);
			const { output } = await runEach(
				'render',
				[{ email: 'ann@example.com' }, { email: 'bob@example.com' }],
				{
					text: 'Code: $cst.NEWNAME.coupon$',
					contact: perItem('email'),
					whenMissing: 'assign',
					length: 4,
					validDays: 5,
					options: { characters: 'digits' },
				},
				{ continueOnFail: true },
			);
			expect((output[0].json.rendered as IDataObject).text).toBe(
				(first.output[0].json.rendered as IDataObject).text,
			);
			expect(output[1].json).toMatchObject({
				email: 'bob@example.com',
				error: expect.stringMatching(/^Length 4 is too short for coupon "NEWNAME"/),
			});
			expect(output[1].pairedItem).toEqual({ item: 1 });
		});

		it('refuses a text that is not text, naming the item', async () => {
			const error = await nodeFailure(
				runEach('render', [{ email: 'a', html: { a: 1 } }], {
					text: perItem('html'),
					contact: perItem('email'),
					whenMissing: 'leave',
				}),
			);
			expect(error.message).toBe('Text must be text or HTML; got object');
			expect(error.context.itemIndex).toBe(0);
		});
	});

	describe('Get Pool Statistics', () => {
		it('outputs one item per coupon, or the one named, and names the coupons there are for an unknown name', async () => {
			await generate(['a', 'b'], 'SPRING10');
			await generate(['c'], 'WELCOME');
			const all = await run('stats', [{ trigger: 'schedule' }], { couponName: '' });
			expect(
				all.output.map((item) => [
					item.json.name,
					item.json.source,
					item.json.available,
					item.json.assigned,
					item.json.generated,
					item.pairedItem,
				]),
			).toEqual([
				['SPRING10', 'imported', 1, 2, 0, { item: 0 }],
				['WELCOME', 'generated', 0, 1, 1, { item: 0 }],
			]);
			// Two a day over the last 7 days would be 2/7 a day: 1 left lasts 3.5 days.
			expect(all.output[0].json).toMatchObject({ assignedLast7Days: 2, daysLeft: 3.5 });
			// Several input items each get the report, counted once.
			const perItem = await run('stats', [{ n: 1 }, { n: 2 }], { couponName: 'welcome' });
			expect(
				perItem.output.map((item) => [item.json.name, item.json.assigned, item.pairedItem]),
			).toEqual([
				['WELCOME', 1, { item: 0 }],
				['WELCOME', 1, { item: 1 }],
			]);
			const error = await nodeFailure(run('stats', [{}], { couponName: 'SPRNG10' }));
			expect(error.message).toBe(
				'No coupon is named "SPRNG10". The coupons are "SPRING10", "WELCOME".',
			);
		});
	});
});
