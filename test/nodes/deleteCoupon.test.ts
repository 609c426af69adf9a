import { nodeFailure } from '../helpers/executeFunctions';
import { contactCouponRuns } from '../helpers/contactCouponRuns';

describe('Contact Coupon: Delete Coupon', () => {
	const { run, generate } = contactCouponRuns();
	const names = async () =>
		(await run('stats', [{}], { couponName: '' })).output.map((item) => item.json.name);

	it('previews with Dry Run, refuses while contacts hold codes, and deletes what the user confirms', async () => {
		await generate(['ann@example.com'], 'SPRING10');
		const preview = await run(
			'deleteCoupon',
			[{}],
			{ couponName: 'spring10', deleteAssigned: true, options: { dryRun: true } },
			{ mode: 'manual' },
		);
		expect(preview.output).toEqual([
			{
				json: {
					couponName: 'SPRING10',
					deleted: false,
					dryRun: true,
					message:
						'Coupon "SPRING10" and its 3 codes would be deleted (1 of them given to contacts, deleted with their history)',
					source: 'imported',
					codes: 3,
					available: 2,
					lapsed: 0,
					assigned: 1,
					active: 1,
					expired: 0,
					redeemed: 0,
					replaced: 0,
					uses: 0,
					held: 0,
				},
				pairedItem: { item: 0 },
			},
		]);
		expect(preview.hints.map((hint) => hint.message)).toEqual([
			'Dry Run: nothing was deleted; the items say what would be.',
		]);
		expect(await names()).toEqual(['SPRING10']);

		const refused = await nodeFailure(
			run('deleteCoupon', [{}, {}], { couponName: 'SPRING10', options: {} }),
		);
		expect(refused.message).toBe(
			'Coupon "SPRING10" has 1 code contacts were given (1 active), so deleting it would delete them and their history too',
		);
		expect(refused.context.itemIndex).toBe(0);
		expect(await names()).toEqual(['SPRING10']);

		const { output } = await run('deleteCoupon', [{}], {
			couponName: 'SPRING10',
			deleteAssigned: true,
			options: {},
		});
		expect(output[0].json).toMatchObject({ couponName: 'SPRING10', deleted: true, dryRun: false });
		expect(await names()).toEqual([]);
	});
});
