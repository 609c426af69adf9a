import type { IDataObject } from 'n8n-workflow';
import { DAY_MS } from '../../nodes/shared/core/validity';
import { nodeFailure, type MockOptions } from '../helpers/executeFunctions';
import { contactCouponRuns, iso, T0 } from '../helpers/contactCouponRuns';

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
					usesPerCode: 1,
					uses: 0,
					usesLeft: 1,
					hold: null,
					details: {},
					redemptions: [],
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
});
