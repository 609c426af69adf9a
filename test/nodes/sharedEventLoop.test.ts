import { Turns } from '../../nodes/shared/core/common/turns';
import { contactCouponRuns } from '../helpers/contactCouponRuns';

/**
 * Long steps share n8n's event loop (docs/ARCHITECTURE.md): their loops ask for their turn as they
 * go. Here every turn is due at once, so each ask passes it; a loop that stopped asking would pass
 * none. How long a step may keep the loop is measured by npm run bench, not here.
 */
describe('long steps pass the event loop its turn as they go', () => {
	const { run, runEach, perItem } = contactCouponRuns();
	let passes = 0;
	beforeEach(() => {
		passes = 0;
		jest.spyOn(Turns.prototype, 'due').mockReturnValue(true);
		// Counted and not awaited: the tests' fake timers hold setImmediate.
		jest.spyOn(Turns.prototype, 'pass').mockImplementation(async () => {
			passes++;
		});
	});
	afterEach(() => jest.restoreAllMocks());
	const passesOf = async (step: () => Promise<unknown>) => {
		passes = 0;
		await step();
		return passes;
	};

	it('in Create Codes, Export Codes (.xlsx and CSV) and Get Pool Statistics of 20,000 codes', async () => {
		const counts = {
			create: await passesOf(
				async () =>
					await run('createCodes', [{}], {
						couponName: 'BULK',
						count: 20_000,
						length: 10,
						options: {},
					}),
			),
			exportXlsx: await passesOf(
				async () =>
					await run('exportCodes', [{}], { couponName: 'BULK', status: 'all', options: {} }),
			),
			exportCsv: await passesOf(
				async () =>
					await run('exportCodes', [{}], {
						couponName: 'BULK',
						status: 'all',
						options: { fileFormat: 'csv' },
					}),
			),
			statistics: await passesOf(async () => await run('stats', [{}], { couponName: 'BULK' })),
		};
		// At least one turn offered per code: each step's loops over the codes ask.
		expect(counts).toEqual({
			create: expect.any(Number),
			exportXlsx: expect.any(Number),
			exportCsv: expect.any(Number),
			statistics: expect.any(Number),
		});
		for (const [step, count] of Object.entries(counts))
			expect({ step, atLeastOnePerCode: count >= 20_000 }).toEqual({
				step,
				atLeastOnePerCode: true,
			});
	}, 120_000);

	it('in Render Placeholders of 2,000 items', async () => {
		const items = Array.from({ length: 2_000 }, (_, i) => ({
			email: `c${i}@example.com`,
			text: 'Your code: $cst.NEWS.coupon$',
		}));
		const count = await passesOf(
			async () =>
				await runEach('render', items, {
					text: perItem('text'),
					contact: perItem('email'),
					length: 8,
					validDays: 30,
					createCoupons: true,
					options: {},
				}),
		);
		expect(count).toBeGreaterThanOrEqual(2_000);
	}, 120_000);
});
