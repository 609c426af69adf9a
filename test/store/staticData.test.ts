import type { IDataObject } from 'n8n-workflow';
import { STATIC_DATA_KEY } from '../../nodes/shared/stores/staticData/codec';
import { StaticDataStore } from '../../nodes/shared/stores/staticData/StaticDataStore';
import { DAY_MS } from '../../nodes/shared/core/common/validity';
import {
	parseCodeRequest,
	redeemCodes,
	validateCodes,
} from '../../nodes/shared/core/checkout/checkout';
import { undoRedemptions } from '../../nodes/shared/core/checkout/undo';
import { describeCouponStoreContract, type StoreFixture } from './contract';
import { describeOperationsContract } from './operationsContract';
import { describeSharedCodesContract } from './sharedCodesContract';
import { describeTriggerEventsContract } from './eventsContract';

/** n8n saves static data as JSON after an execution and parses it for the next one. */
const roundTrip = (data: IDataObject): IDataObject =>
	JSON.parse(JSON.stringify(data)) as IDataObject;

async function staticDataFixture(): Promise<StoreFixture> {
	let saved: IDataObject = {};
	let current: IDataObject | undefined;
	return {
		open: () => {
			// Each open is a new execution: the previous one's data, saved and loaded again.
			if (current) saved = roundTrip(current);
			current = roundTrip(saved);
			return new StaticDataStore(current);
		},
		close: async () => undefined,
	};
}

describeCouponStoreContract('workflow static data', staticDataFixture);
describeOperationsContract('workflow static data', staticDataFixture);
describeSharedCodesContract('workflow static data', staticDataFixture);
// One execution at a time owns static data: its transactions do not overlap.
describeTriggerEventsContract('workflow static data', staticDataFixture, { overlapping: false });

describe('StaticDataStore', () => {
	describe('size limit', () => {
		const LIMIT = 64 * 1024;
		const codes = (prefix: string, count: number) =>
			Array.from({ length: count }, (_, i) => {
				const code = `${prefix}${String(i).padStart(8, '0')}`;
				return { code, key: code, row: i + 2 };
			});
		const addCodes = async (store: StaticDataStore, prefix: string, count: number) =>
			await store.transaction(async (s) => {
				await s.createPool('LIST', 'imported');
				return await s.addImported('LIST', codes(prefix, count));
			});

		it('refuses a step that would add codes past it, keeping nothing, and says what to use instead', async () => {
			const data: IDataObject = {};
			const store = new StaticDataStore(data, LIMIT);
			await addCodes(store, 'A', 1_000);
			const before = JSON.stringify(data);
			const refusal = addCodes(store, 'B', 10_000);
			await expect(refusal).rejects.toMatchObject({
				name: 'StoreError',
				code: 'LIMIT_EXCEEDED',
				message: expect.stringMatching(/static data .* MB, over the limit of 0\.1 MB/),
				description: expect.stringMatching(/choose Local .* or Database/),
			});
			expect(JSON.stringify(data)).toBe(before);
			// A generated coupon's new code is a code added too.
			const generated = store.transaction(async (s) => {
				await s.createPool('GEN', 'generated');
				return await s.insertGenerated(
					'GEN',
					codes('G', 3_000).map(({ code }, i) => ({
						code,
						contactKey: `c${i}`,
						assignedAt: 0,
						validUntil: DAY_MS,
					})),
				);
			});
			await expect(generated).rejects.toMatchObject({ code: 'LIMIT_EXCEEDED' });
			expect(JSON.stringify(data)).toBe(before);
		});

		it('refuses a file while it is staged, once one coupon of it would pass the limit alone, keeping nothing', async () => {
			const data: IDataObject = {};
			const store = new StaticDataStore(data, LIMIT);
			const staged = jest.fn();
			const refusal = store.withStaging(async (staging) => {
				const list = staging.newList();
				// Batches of 1,000 codes of 12 bytes each (with their line ends): the sixth passes 64 KB.
				for (let batch = 0; batch < 10; batch++) {
					await staging.stage(list, codes(`B${batch}-`, 1_000));
					staged(batch);
				}
			});
			await expect(refusal).rejects.toMatchObject({
				name: 'CouponError',
				code: 'LIMIT_EXCEEDED',
				message: expect.stringMatching(
					/^The codes of one coupon read so far \(to row 1,001\) would take more than 0\.1 MB of this workflow's static data/,
				),
				description: expect.stringMatching(/choose Local .* or Database/),
			});
			expect(staged).toHaveBeenCalledTimes(5);
			expect(data).toEqual({});
		});

		it('lets coupons already past it be read, assigned from and deleted', async () => {
			const data: IDataObject = {};
			await addCodes(new StaticDataStore(data), 'A', 10_000);
			const store = new StaticDataStore(data, LIMIT);
			const [assigned] = await store.transaction(
				async (s) =>
					await s.assignImported('LIST', [
						{ contactKey: 'ann', assignedAt: 0, validUntil: DAY_MS },
					]),
			);
			expect(assigned.contactKey).toBe('ann');
			await expect(addCodes(store, 'B', 1)).rejects.toMatchObject({ code: 'LIMIT_EXCEEDED' });
			await store.transaction(async (s) => await s.deletePool('LIST'));
			expect(await store.transaction(async (s) => await s.listPools())).toEqual([]);
		});
	});

	it('keeps a pool of 50,000 codes with 10,000 assignments compact', async () => {
		const data: IDataObject = {};
		const store = new StaticDataStore(data);
		const now = Date.UTC(2026, 0, 1);
		await store.transaction(async (s) => {
			await s.createPool('Big', 'imported');
			await s.addImported(
				'Big',
				Array.from({ length: 50_000 }, (_, i) => ({
					code: `CODE${String(i).padStart(6, '0')}`,
					key: `CODE${String(i).padStart(6, '0')}`,
					row: i + 2,
				})),
			);
			await s.assignImported(
				'Big',
				Array.from({ length: 10_000 }, (_, i) => ({
					contactKey: `person${i}@example.com`,
					assignedAt: now,
					validUntil: now + 30 * DAY_MS,
				})),
			);
		});
		const json = JSON.stringify(data);
		// 50,000 ten-character codes plus 10,000 contacts of ~24 characters: about 1 MB of payload, no overhead per code.
		expect(json.length).toBeLessThan(50_000 * 11 + 10_000 * (11 + 25 + 3 * 9 + 1) + 1_000);
		const stored = data[STATIC_DATA_KEY] as { pools: Array<Record<string, unknown>> };
		expect(typeof stored.pools[0].available).toBe('string');
		expect(typeof stored.pools[0].assignments).toBe('string');
	});

	it('leaves static data untouched when a transaction changes nothing', async () => {
		const data: IDataObject = { other: 1 };
		await new StaticDataStore(data).transaction(async (s) => await s.findPool('x'));
		expect(data).toEqual({ other: 1 });
	});

	it('reads static data of format version 1 and saves it as version 5 once something changes', async () => {
		const t = (ms: number) => ms.toString(36);
		const assignedAt = Date.UTC(2026, 0, 1);
		const data: IDataObject = {
			[STATIC_DATA_KEY]: {
				version: 1,
				pools: [
					{
						name: 'Old',
						kind: 'imported',
						createdAt: '2026-01-01T00:00:00.000Z',
						available: 'OLD-2',
						assignments: `OLD-1\tann\t${t(assignedAt)}\t${t(assignedAt + DAY_MS)}\t`,
					},
				],
			},
		};
		const [found] = await new StaticDataStore(data).transaction(
			async (s) => await s.findCodes(['OLD1'], true),
		);
		expect(found.assignment).toEqual({
			code: 'OLD-1',
			contactKey: 'ann',
			assignedAt,
			validUntil: assignedAt + DAY_MS,
		});
		expect((data[STATIC_DATA_KEY] as { version: number }).version).toBe(1);
		const [redemption] = await new StaticDataStore(data).transaction(
			async (s) =>
				await redeemCodes(
					s,
					[parseCodeRequest('old 1', { orderReference: 'A\u00e9-1' })],
					assignedAt + 1,
				),
		);
		expect(redemption).toMatchObject({ value: { accepted: true } });
		const use = { n: 1, at: assignedAt + 1, orderReference: 'A\u00e9-1' };
		expect(data[STATIC_DATA_KEY]).toMatchObject({
			version: 5,
			pools: [
				{
					available: 'OLD-2',
					assignments: `OLD-1\tann\t${t(assignedAt)}\t${t(assignedAt + DAY_MS)}\t\t${t(assignedAt + 1)}\tA\u00e9-1\t${JSON.stringify({ uses: 1, redemptions: [use] })}`,
				},
			],
		});
	});

	it('reads a redemption of format version 2 as one use, which can be undone', async () => {
		const t = (ms: number) => ms.toString(36);
		const assignedAt = Date.UTC(2026, 0, 1);
		const line = `OLD-1\tann\t${t(assignedAt)}\t${t(assignedAt + 9 * DAY_MS)}\t\t${t(assignedAt + 1)}\tA-1`;
		const data: IDataObject = {
			[STATIC_DATA_KEY]: {
				version: 2,
				pools: [{ name: 'Old', kind: 'imported', createdAt: '', available: '', assignments: line }],
			},
		};
		const store = new StaticDataStore(data);
		const [check] = await store.transaction(
			async (s) =>
				await validateCodes(
					s,
					[parseCodeRequest('OLD-1', { orderReference: 'A-1' })],
					assignedAt + 2,
				),
		);
		expect(check).toMatchObject({
			value: { status: 'redeemed', coupon: { uses: 1, usesLeft: 0, orderReference: 'A-1' } },
		});
		const [undo] = await store.transaction(
			async (s) =>
				await undoRedemptions(
					s,
					[parseCodeRequest('OLD-1', { orderReference: 'A-1' })],
					assignedAt + 3,
				),
		);
		expect(undo).toMatchObject({
			value: {
				undone: true,
				coupon: {
					status: 'active',
					uses: 0,
					redemptions: [
						{ orderReference: 'A-1', undoneAt: new Date(assignedAt + 3).toISOString() },
					],
				},
			},
		});
	});

	it('refuses static data written by an unknown format version, saying what to do', async () => {
		const store = new StaticDataStore({ [STATIC_DATA_KEY]: { version: 99, pools: [] } });
		await expect(store.transaction(async (s) => await s.findPool('x'))).rejects.toThrow(
			/format version 99/,
		);
	});
});
