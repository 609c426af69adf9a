import type { IDataObject, INodeExecutionData } from 'n8n-workflow';
import { ContactCoupon } from '../../nodes/ContactCoupon/ContactCoupon.node';
import { configuredOutputs } from '../../nodes/ContactCoupon/actions/outputs';
import { jsonItems, mockExecuteFunctions, nodeFailure } from '../helpers/executeFunctions';
import { importFileInto, T0 } from '../helpers/contactCouponRuns';
import { xlsx } from '../helpers/spreadsheets';

describe('If No Coupon Is Available', () => {
	let staticData: IDataObject;
	beforeEach(() => {
		staticData = {};
		jest.useFakeTimers({ now: T0 });
	});
	afterEach(() => jest.useRealTimers());

	/** Every output of one Generate for Contact run of coupon SPRING10, on this test's static data. */
	async function generate(
		emails: string[],
		parameters: Record<string, unknown>,
	): Promise<INodeExecutionData[][]> {
		const mock = mockExecuteFunctions({
			items: jsonItems(...emails.map((email, n) => ({ email, n }))),
			staticData,
			parameters: {
				operation: 'generate',
				storage: 'staticData',
				couponName: 'SPRING10',
				length: 8,
				validDays: 30,
				contact: (i: number) => emails[i],
				options: {},
				...parameters,
			},
		});
		return await new ContactCoupon().execute.call(mock.context);
	}
	const codes = (items: INodeExecutionData[]) =>
		items.map((item) => (item.json.coupon as IDataObject | undefined)?.code);

	/** Coupon Import of one sheet on this test's static data. */
	const importSheet = async (rows: unknown[][], parameters: Record<string, unknown> = {}) =>
		await importFileInto(staticData, xlsx({ S: rows }), parameters);
	const importSpring = async (values: string[], mode = 'add') =>
		await importSheet([['coupon name', 'coupon value'], ...values.map((v) => ['SPRING10', v])], {
			mode,
		});

	it('sends the contacts the list has no code for to a second output, No Coupon, and keeps the others', async () => {
		await importSpring(['SPR-1', 'SPR-2']);
		const emails = ['ann@x.com', 'bob@x.com', 'cid@x.com', 'dan@x.com'];
		const [given, none] = await generate(emails, { ifNoCoupon: 'noCouponOutput' });

		expect(codes(given).sort()).toEqual(['SPR-1', 'SPR-2']);
		expect(given.map((item) => item.pairedItem)).toEqual([{ item: 0 }, { item: 1 }]);
		expect(none.map((item) => item.pairedItem)).toEqual([{ item: 2 }, { item: 3 }]);
		expect(none[0].json).toEqual({
			email: 'cid@x.com',
			n: 2,
			noCoupon: {
				couponName: 'SPRING10',
				contact: 'cid@x.com',
				reason: 'exhausted',
				errorCode: 'COUPON_EXHAUSTED',
				message:
					'Coupon "SPRING10" has no unused codes left: 2 assigned (2 active, 0 expired, 0 redeemed, 0 replaced), 0 available',
			},
		});
		expect(none[0].json.coupon).toBeUndefined();

		// The run was kept: the contacts who got codes keep them.
		const [again, stillNone] = await generate(['bob@x.com', 'dan@x.com'], {
			ifNoCoupon: 'noCouponOutput',
		});
		expect(again[0].json.coupon).toMatchObject({ contact: 'bob@x.com', reused: true });
		expect(stillNone.map((item) => item.json.email)).toEqual(['dan@x.com']);
	});

	it('has a No Coupon output only when it is chosen, and only for Generate for Contact', async () => {
		expect(configuredOutputs({})).toEqual(['main']);
		expect(configuredOutputs({ operation: 'generate', ifNoCoupon: 'fail' })).toEqual(['main']);
		expect(configuredOutputs({ ifNoCoupon: 'noCouponOutput' })).toEqual([
			{ type: 'main', displayName: 'Coupon' },
			{ type: 'main', displayName: 'No Coupon' },
		]);
		expect(configuredOutputs({ operation: 'redeem', ifNoCoupon: 'noCouponOutput' })).toEqual([
			'main',
		]);
		// n8n evaluates the description's expression by itself: it must stand alone.
		const { outputs } = new ContactCoupon().description;
		const body = (outputs as string).replace(/^=\{\{/, '').replace(/\}\}$/, '');
		const evaluate = new Function('$parameter', `return ${body}`) as (p: object) => unknown;
		expect(evaluate({ operation: 'generate', ifNoCoupon: 'noCouponOutput' })).toHaveLength(2);
		expect(evaluate({ operation: 'generate' })).toEqual(['main']);

		// A run has as many outputs as the node shows, even when the second gets no item.
		expect(await generate(['ann@x.com'], { ifNoCoupon: 'noCouponOutput' })).toHaveLength(2);
		expect(await generate(['bob@x.com'], {})).toHaveLength(1);
	});

	it('names the reason: codes that end too soon, a length too short for a new coupon', async () => {
		await importSheet(
			[
				['code', 'valid until'],
				['SHORT-1', '2026-04-20'],
			],
			{ couponName: 'SHOP', options: { valueColumn: 'code', expiryColumn: 'valid until' } },
		);
		const [, ended] = await generate(['ann@x.com'], {
			couponName: 'SHOP',
			ifNoCoupon: 'noCouponOutput',
		});
		expect(ended[0].json.noCoupon).toMatchObject({
			reason: 'expires_too_soon',
			errorCode: 'COUPON_EXHAUSTED',
			message:
				'Coupon "SHOP" has no unused code that lasts 30 days: its 1 unused codes expire sooner',
		});

		const before = JSON.stringify(staticData);
		const [, short] = await generate(['ann@x.com'], {
			couponName: 'NEW',
			length: 3,
			ifNoCoupon: 'noCouponOutput',
		});
		expect(short[0].json.noCoupon).toMatchObject({
			couponName: 'NEW',
			reason: 'length_too_short',
			errorCode: 'LENGTH_TOO_SHORT',
		});
		// Refused before anything was made: no empty coupon NEW.
		expect(JSON.stringify(staticData)).toBe(before);
	});

	it('gives the fallback code to contacts the list has no code for, storing nothing for them', async () => {
		await importSpring(['SPR-1']);
		const outputs = await generate(['ann@x.com', 'bob@x.com'], {
			ifNoCoupon: 'fallbackCode',
			fallbackCode: ' SORRY10 ',
		});
		expect(outputs).toHaveLength(1);
		const [given] = outputs;
		expect(given[0].json.coupon).toMatchObject({ code: 'SPR-1', source: 'imported' });
		expect(given[1].json).toEqual({
			email: 'bob@x.com',
			n: 1,
			coupon: {
				name: 'SPRING10',
				code: 'SORRY10',
				contact: 'bob@x.com',
				assignedAt: null,
				validUntil: null,
				source: 'fallback',
				reused: false,
				details: {},
			},
			noCoupon: expect.objectContaining({ reason: 'exhausted', contact: 'bob@x.com' }),
		});
		expect(given[1].pairedItem).toEqual({ item: 1 });

		// Nobody holds it: a checkout does not know it, and Bob gets a real code once there is one.
		const validation = await checkCode('SORRY10');
		expect(validation.status).toBe('unknown');
		await importSpring(['SPR-9']);
		const [later] = await generate(['bob@x.com'], {
			ifNoCoupon: 'fallbackCode',
			fallbackCode: 'SORRY10',
		});
		expect(later[0].json.coupon).toMatchObject({ code: 'SPR-9', reused: false });
	});

	it('gives a contact who holds a coupon that coupon, when its generated codes are too short for a new one', async () => {
		// Length 5 of the default characters holds at most 28 codes of a generated coupon.
		const holders = Array.from({ length: 28 }, (_, k) => `c${k}@x.com`);
		const [given] = await generate(holders, { couponName: 'SHORT', length: 5 });
		const [mine, fallback] = (
			await generate(['c0@x.com', 'newbie@x.com'], {
				couponName: 'SHORT',
				length: 5,
				ifNoCoupon: 'fallbackCode',
				fallbackCode: 'SORRY',
			})
		)[0];
		expect(mine.json.coupon).toMatchObject({ code: codes(given)[0], reused: true });
		expect(mine.json.noCoupon).toBeUndefined();
		expect(fallback.json.coupon).toMatchObject({ code: 'SORRY', source: 'fallback' });
		expect(fallback.json.noCoupon).toMatchObject({ reason: 'length_too_short' });
		// Fail the Item too fails only the contact who needed a new code.
		const failed = await nodeFailure(
			generate(['c1@x.com', 'newbie@x.com'], { couponName: 'SHORT', length: 5 }),
		);
		expect(failed.context).toMatchObject({ itemIndex: 1, errorCode: 'LENGTH_TOO_SHORT' });
	});

	it("takes item 0's choice for every item, as it sets the node's outputs", async () => {
		await importSpring(['SPR-1']);
		const choices = ['noCouponOutput', 'fail'];
		const outputs = await generate(['ann@x.com', 'bob@x.com'], {
			ifNoCoupon: (i: number) => choices[i],
		});
		expect(outputs.map((items) => items.map((item) => item.json.email))).toEqual([
			['ann@x.com'],
			['bob@x.com'],
		]);
	});

	it('still fails an item for bad input, whatever is chosen, naming the item', async () => {
		const empty = await nodeFailure(generate(['ann@x.com', ''], { ifNoCoupon: 'noCouponOutput' }));
		expect(empty).toMatchObject({ message: 'The contact is empty' });
		expect(empty.context.itemIndex).toBe(1);

		const noFallback = await nodeFailure(
			generate(['ann@x.com'], { ifNoCoupon: 'fallbackCode', fallbackCode: '  ' }),
		);
		expect(noFallback.message).toBe('The fallback code is empty');
		expect(noFallback.description).toMatch(/^Enter the code to send when no coupon is available/);
		expect(noFallback.context).toMatchObject({ itemIndex: 0, errorCode: 'CODE_INVALID' });

		const unknown = await nodeFailure(generate(['ann@x.com'], { ifNoCoupon: 'skip' }));
		expect(unknown.message).toBe('Unknown choice "skip" for If No Coupon Is Available');
		expect(staticData).toEqual({});
	});

	it('with Fail the Item, an exhausted list still fails the run and keeps nothing', async () => {
		await importSpring(['SPR-1']);
		const before = JSON.stringify(staticData);
		const error = await nodeFailure(generate(['ann@x.com', 'bob@x.com'], { ifNoCoupon: 'fail' }));
		expect(error.context).toMatchObject({ itemIndex: 1, errorCode: 'COUPON_EXHAUSTED' });
		expect(JSON.stringify(staticData)).toBe(before);
	});

	describe('in Render Placeholders, where it assigns', () => {
		/** Every output of one Render run of `text` for these contacts. */
		async function render(emails: string[], text: string, parameters: Record<string, unknown>) {
			const mock = mockExecuteFunctions({
				items: jsonItems(...emails.map((email) => ({ email }))),
				staticData,
				parameters: {
					operation: 'render',
					storage: 'staticData',
					text,
					contact: (i: number) => emails[i],
					whenMissing: 'assign',
					length: 8,
					validDays: 30,
					options: {},
					...parameters,
				},
			});
			return await new ContactCoupon().execute.call(mock.context);
		}

		it('sends a message whose coupon has no code left to No Coupon, and renders the others', async () => {
			await importSpring(['SPR-1']);
			const [sent, none] = await render(['ann@x.com', 'bob@x.com'], 'Code: $cst.SPRING10.coupon$', {
				ifNoCoupon: 'noCouponOutput',
			});
			expect(sent.map((item) => (item.json.rendered as IDataObject).text)).toEqual(['Code: SPR-1']);
			expect(none.map((item) => item.pairedItem)).toEqual([{ item: 1 }]);
			expect(none[0].json).toMatchObject({
				email: 'bob@x.com',
				noCoupon: { couponName: 'SPRING10', contact: 'bob@x.com', reason: 'exhausted' },
				rendered: { coupons: [], unresolved: [] },
			});
		});

		it('still fails a message whose template is broken, and shows on No Coupon the coupons a message did get', async () => {
			await importSpring(['SPR-1']);
			await importSheet([
				['coupon name', 'coupon value'],
				['VIP', 'VIP-1'],
				['VIP', 'VIP-2'],
			]);
			// SPRING10's one code goes to Cid: Dan's message has no SPRING10 code, and a typo.
			await generate(['cid@x.com'], {});
			const broken = await nodeFailure(
				render(['dan@x.com'], '$cst.SPRING10.coupon$ $cst.SPRNG10.coupon$', {
					ifNoCoupon: 'noCouponOutput',
				}),
			);
			expect(broken.context).toMatchObject({ itemIndex: 0, errorCode: 'PLACEHOLDER_UNFILLED' });
			expect(broken.message).toMatch(/no coupon is named "SPRNG10"/);

			const [sent, none] = await render(
				['cid@x.com', 'bob@x.com'],
				'$cst.VIP.coupon$ and $cst.SPRING10.coupon$',
				{ ifNoCoupon: 'noCouponOutput' },
			);
			expect(sent).toHaveLength(1);
			const bob = none[0].json;
			expect(bob.noCoupon).toMatchObject({ couponName: 'SPRING10', reason: 'exhausted' });
			// Bob holds the VIP code now: the item says so.
			expect((bob.rendered as IDataObject).coupons).toEqual([
				expect.objectContaining({ name: 'VIP', contact: 'bob@x.com', reused: false }),
			]);
		});

		it('puts the fallback code in the text, and leaves its date to If a Placeholder Cannot Be Filled', async () => {
			await importSpring(['SPR-1']);
			const text = 'Code: $cst.SPRING10.coupon$ until $cst.SPRING10.coupon.validUntil$';
			const [[ann, bob]] = await render(['ann@x.com', 'bob@x.com'], text, {
				ifNoCoupon: 'fallbackCode',
				fallbackCode: 'SORRY10',
				whenUnfilled: 'remove',
			});
			expect((ann.json.rendered as IDataObject).text).toBe('Code: SPR-1 until 2026-05-10');
			const rendered = bob.json.rendered as IDataObject;
			expect(rendered.text).toBe('Code: SORRY10 until ');
			expect(rendered.coupons).toEqual([
				expect.objectContaining({ code: 'SORRY10', source: 'fallback', validUntil: null }),
			]);
			expect(rendered.noCoupon).toMatchObject({ reason: 'exhausted' });
			expect(rendered.unresolved).toEqual([
				expect.objectContaining({
					placeholder: '$cst.SPRING10.coupon.validUntil$',
					problem: 'fallback_code',
				}),
			]);
			// Fail the Item for unfilled placeholders: the fallback code's missing date fails the item.
			const failed = await nodeFailure(
				render(['bob@x.com'], text, { ifNoCoupon: 'fallbackCode', fallbackCode: 'SORRY10' }),
			);
			expect(failed.context).toMatchObject({ itemIndex: 0, errorCode: 'PLACEHOLDER_UNFILLED' });
			expect(failed.message).toMatch(/got the fallback code SORRY10, which has no validity/);
			expect(failed.description).toMatch(/^Add codes to the coupon/);
		});

		it('has no say when Render does not assign: no No Coupon output, the placeholder is unfilled', async () => {
			expect(
				configuredOutputs({
					operation: 'render',
					whenMissing: 'leave',
					ifNoCoupon: 'noCouponOutput',
				}),
			).toEqual(['main']);
			expect(configuredOutputs({ operation: 'render', ifNoCoupon: 'noCouponOutput' })).toHaveLength(
				2,
			);
			const outputs = await render(['ann@x.com'], '$cst.SPRING10.coupon$', {
				whenMissing: 'leave',
				whenUnfilled: 'leave',
				ifNoCoupon: 'noCouponOutput',
			});
			expect(outputs).toHaveLength(1);
			expect((outputs[0][0].json.rendered as IDataObject).text).toBe('$cst.SPRING10.coupon$');
		});
	});

	async function checkCode(code: string): Promise<IDataObject> {
		const mock = mockExecuteFunctions({
			items: jsonItems({}),
			staticData,
			parameters: { operation: 'validate', storage: 'staticData', code, options: {} },
		});
		const [[item]] = await new ContactCoupon().execute.call(mock.context);
		return item.json.validation as IDataObject;
	}
});
