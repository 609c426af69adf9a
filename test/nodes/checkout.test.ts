import type { IDataObject } from 'n8n-workflow';
import { DAY_MS } from '../../nodes/shared/core/common/validity';
import { nodeFailure, type MockOptions } from '../helpers/executeFunctions';
import { contactCouponRuns, iso, T0, UNTOUCHED_CODE } from '../helpers/contactCouponRuns';

describe('Contact Coupon', () => {
	const { run, runEach, perItem, generate } = contactCouponRuns();

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
					...UNTOUCHED_CODE,
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
			// Accepted or refused, the answer lists the same fields in the same order.
			const fields = ['code', 'accepted', 'status', 'message', 'coupon'];
			expect(Object.keys(first.output[0].json.redemption as object)).toEqual(fields);
			expect(Object.keys(second.output[0].json.redemption as object)).toEqual(fields);
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
			expect(typo.message).toBe('No coupon is named "SPRNG10". The closest is "SPRING10".');
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

	describe('Reserve Code, Release Code and Undo Redemption', () => {
		let code: string;
		beforeEach(async () => ([code] = await generate(['ann@example.com'], 'SPRING10', 7)));
		const MINUTE = 60_000;
		const withOrder = (operation: string, orders: IDataObject[], more: IDataObject = {}) =>
			runEach(operation, orders, {
				code: perItem('code'),
				orderReference: perItem('order'),
				options: {},
				...more,
			});

		it('runs a two-step checkout: held for the cart, refused to another order, confirmed by the payment', async () => {
			// As an expression gives it: text.
			const held = await withOrder('reserve', [{ code, order: 'cart-1' }], { holdMinutes: '15' });
			expect(held.output[0].json.reservation).toMatchObject({
				code,
				held: true,
				status: 'held',
				heldUntil: iso(T0 + 15 * MINUTE),
				coupon: { name: 'SPRING10', hold: { orderReference: 'cart-1' } },
			});
			const other = await runEach('redeem', [{ code }], {
				code: perItem('code'),
				options: { orderReference: 'cart-2' },
			});
			expect(other.output[0].json.redemption).toMatchObject({
				accepted: false,
				status: 'reserved',
				message: `Code ${code} of coupon "SPRING10" is held for another order until ${iso(T0 + 15 * MINUTE)}`,
			});
			jest.advanceTimersByTime(5 * MINUTE);
			const paid = await runEach('redeem', [{ code }], {
				code: perItem('code'),
				options: { orderReference: 'cart-1' },
			});
			expect(paid.output[0].json.redemption).toMatchObject({
				accepted: true,
				coupon: { status: 'redeemed', orderReference: 'cart-1', hold: null },
			});
			const late = await withOrder('release', [{ code, order: 'cart-1' }]);
			expect(late.output[0].json.release).toMatchObject({ released: false, status: 'not_held' });
		});

		it('frees a code when the payment fails, and by itself when the hold runs out', async () => {
			await withOrder('reserve', [{ code, order: 'cart-1' }], { holdMinutes: 10 });
			const released = await withOrder('release', [{ code, order: 'cart-1' }]);
			expect(released.output[0].json.release).toMatchObject({ released: true, status: 'released' });
			await withOrder('reserve', [{ code, order: 'cart-2' }], { holdMinutes: 10 });
			jest.advanceTimersByTime(10 * MINUTE);
			const next = await withOrder('reserve', [{ code, order: 'cart-3' }], { holdMinutes: 10 });
			expect(next.output[0].json.reservation).toMatchObject({ held: true });
		});

		it('refuses a hold without an order or of a time out of range, and a release for another order, naming the item', async () => {
			const noOrder = await nodeFailure(
				withOrder(
					'reserve',
					[
						{ code, order: 'cart-1' },
						{ code, order: ' ' },
					],
					{ holdMinutes: 15 },
				),
			);
			expect(noOrder.message).toBe('The order reference is empty');
			expect(noOrder.context.itemIndex).toBe(1);
			const tooLong = await nodeFailure(
				withOrder('reserve', [{ code, order: 'cart-1' }], { holdMinutes: 0 }),
			);
			expect(tooLong.message).toBe(
				'Hold For must be a whole number of minutes from 1 to 10080; got 0',
			);
			// Nothing of the failed runs was kept.
			const check = await runEach('validate', [{ code }], { code: perItem('code'), options: {} });
			expect(check.output[0].json.validation).toMatchObject({ status: 'valid' });

			await withOrder('reserve', [{ code, order: 'cart-1' }], { holdMinutes: 15 });
			// Another order's hold is an answer the shop can branch on; a node saved before version 3
			// still fails the item, as it did.
			const stranger = await withOrder('release', [{ code, order: 'cart-9' }]);
			expect(stranger.output[0].json.release).toMatchObject({
				released: false,
				status: 'reserved',
				message: `Code ${code} is held for another order, not for order cart-9; the hold was left as it is`,
				coupon: { hold: { orderReference: null } },
			});
			const saved = await nodeFailure(
				runEach(
					'release',
					[{ code, order: 'cart-9' }],
					{ code: perItem('code'), orderReference: perItem('order'), options: {} },
					{ typeVersion: 2 },
				),
			);
			expect(saved.message).toBe(
				`Code ${code} is held for another order, not for order cart-9; the hold was left as it is`,
			);
			expect(saved.description).toMatch(/Map Order Reference to the order that reserved the code/);
			const kept = await runEach(
				'release',
				[
					{ code, order: 'cart-9' },
					{ code, order: 'cart-1' },
				],
				{ code: perItem('code'), orderReference: perItem('order'), options: {} },
				{ continueOnFail: true, typeVersion: 2 },
			);
			expect(
				kept.output.map(
					(item) => (item.json.release as IDataObject | undefined)?.status ?? item.json.error,
				),
			).toEqual([
				`Code ${code} is held for another order, not for order cart-9; the hold was left as it is`,
				'released',
			]);
		});

		it('undoes the redemption of a refunded order, keeping the reason on the contact card', async () => {
			await runEach('redeem', [{ code }], {
				code: perItem('code'),
				options: { orderReference: 'A-1' },
			});
			jest.advanceTimersByTime(DAY_MS);
			const refund = await runEach('undoRedemption', [{ code, order: 'A-1' }], {
				code: perItem('code'),
				options: { orderReference: 'A-1', reason: 'order refunded' },
			});
			expect(refund.output[0].json.undo).toMatchObject({
				code,
				undone: true,
				status: 'undone',
				coupon: { status: 'active', uses: 0 },
			});
			const twice = await runEach('undoRedemption', [{ code }], {
				code: perItem('code'),
				options: {},
			});
			expect(twice.output[0].json.undo).toMatchObject({ undone: false, status: 'already_undone' });
			const card = await runEach('getForContact', [{ email: 'ann@example.com' }], {
				contact: perItem('email'),
				options: {},
			});
			expect((card.output[0].json.coupons as IDataObject[])[0]).toMatchObject({
				status: 'active',
				redemptions: [
					{
						redeemedAt: iso(T0),
						orderReference: 'A-1',
						undoneAt: iso(T0 + DAY_MS),
						undoReason: 'order refunded',
					},
				],
			});
			const wrong = await runEach('undoRedemption', [{ code }], {
				code: perItem('code'),
				options: { orderReference: 'B-2' },
			});
			expect(wrong.output[0].json.undo).toMatchObject({
				undone: false,
				status: 'other_order',
				message: `Code ${code} was not redeemed for order B-2: its uses were for other orders, so nothing was undone`,
			});
			const saved = await nodeFailure(
				runEach(
					'undoRedemption',
					[{ code }],
					{ code: perItem('code'), options: { orderReference: 'B-2' } },
					{ typeVersion: 2 },
				),
			);
			expect(saved.message).toMatch(/was not redeemed for order B-2/);
			const badReason = await nodeFailure(
				runEach('undoRedemption', [{ code }], {
					code: perItem('code'),
					options: { reason: 'x'.repeat(501) },
				}),
			);
			expect(badReason.message).toBe('The reason is longer than 500 characters');
		});

		it('makes a coupon of several uses per code from Generate for Contact, set when it is created', async () => {
			const [multi] = (
				await runEach('generate', [{ email: 'bob@example.com' }], {
					couponName: 'TEAM',
					length: 8,
					validDays: 30,
					contact: perItem('email'),
					options: { usesPerCode: 2 },
				})
			).output.map((item) => (item.json.coupon as IDataObject).code as string);
			const redeemFor = async (order: string) =>
				(
					await runEach('redeem', [{ code: multi }], {
						code: perItem('code'),
						options: { orderReference: order },
					})
				).output[0].json.redemption as IDataObject;
			expect(await redeemFor('o1')).toMatchObject({ accepted: true, coupon: { usesLeft: 1 } });
			expect(await redeemFor('o2')).toMatchObject({
				accepted: true,
				coupon: { status: 'redeemed' },
			});
			expect(await redeemFor('o3')).toMatchObject({ accepted: false, status: 'redeemed' });
			const refused = await nodeFailure(
				runEach('generate', [{ email: 'cy@example.com' }], {
					couponName: 'OTHER',
					length: 8,
					validDays: 30,
					contact: perItem('email'),
					options: { usesPerCode: 0 },
				}),
			);
			expect(refused.message).toBe('Uses per Code must be a whole number from 1 to 10000; got 0');
		});
	});
});
