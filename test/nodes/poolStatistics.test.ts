import { nodeFailure } from '../helpers/executeFunctions';
import { contactCouponRuns } from '../helpers/contactCouponRuns';

describe('Contact Coupon', () => {
	const { run, generate } = contactCouponRuns();

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
			// A report per run: three input items get each coupon once, with the first item that asked.
			const perRun = await run('stats', [{ n: 1 }, { n: 2 }, { n: 3 }], { couponName: '' });
			expect(perRun.output.map((item) => [item.json.name, item.pairedItem])).toEqual([
				['SPRING10', { item: 0 }],
				['WELCOME', { item: 0 }],
			]);
			const named = await run('stats', [{ n: 1 }, { n: 2 }], {
				couponName: (i: number) => ['welcome', 'SPRING10'][i],
			});
			expect(named.output.map((item) => [item.json.name, item.pairedItem])).toEqual([
				['WELCOME', { item: 0 }],
				['SPRING10', { item: 1 }],
			]);
			const error = await nodeFailure(run('stats', [{}], { couponName: 'SPRNG10' }));
			expect(error.message).toBe('No coupon is named "SPRNG10". The closest is "SPRING10".');
		});

		it('says which coupons Create Codes made, and rounds the days left to one decimal', async () => {
			await run('createCodes', [{}], {
				couponName: 'SHOP15',
				count: 4_000,
				length: 10,
				options: {},
			});
			// 6 assigned in 7 days leave 3,994 codes: 4,659.67 days, which rounds to 4,659.7.
			await generate(['a', 'b', 'c', 'd', 'e', 'f'], 'SHOP15');
			const [created] = (await run('stats', [{}], { couponName: 'SHOP15' })).output;
			expect(created.json).toMatchObject({ source: 'created', available: 3_994, daysLeft: 4659.7 });
			const [list] = (await run('stats', [{}], { couponName: 'SPRING10' })).output;
			expect(list.json).toMatchObject({ source: 'imported' });
			// Nodes saved before version 3 called both imported lists.
			const [saved] = (await run('stats', [{}], { couponName: 'SHOP15' }, { typeVersion: 2 }))
				.output;
			expect(saved.json.source).toBe('imported');
		});
	});
});
