import type { IDataObject } from 'n8n-workflow';
import { DAY_MS } from '../../nodes/shared/core/common/validity';
import { nodeFailure } from '../helpers/executeFunctions';
import { contactCouponRuns, iso, T0, UNTOUCHED_CODE } from '../helpers/contactCouponRuns';

describe('Contact Coupon', () => {
	const { runEach, perItem, generate } = contactCouponRuns();

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
						...UNTOUCHED_CODE,
					},
					{
						name: 'SPRING10',
						code: spring,
						status: 'expired',
						assignedAt: iso(T0),
						validUntil: iso(T0 + 2 * DAY_MS),
						redeemedAt: null,
						orderReference: null,
						...UNTOUCHED_CODE,
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
});
