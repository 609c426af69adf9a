import { codeKey, UNAMBIGUOUS_CHARACTERS } from '../../nodes/shared/core/codes/codes';
import { createCodesForRun, parseCount } from '../../nodes/shared/core/codes/createCodes';
import { StoreError } from '../../nodes/shared/core/common/errors';
import type { CouponStoreSession, ImportCandidate } from '../../nodes/shared/core/storeContract';
import { StaticDataStore } from '../../nodes/shared/stores/staticData/StaticDataStore';

const FORMAT = { characters: UNAMBIGUOUS_CHARACTERS, length: 8, prefix: '' };

/**
 * A session whose first addition of codes meets `held` of its candidates already in the pool, as
 * when another run added the same random codes a moment before.
 */
function meetingHeldCodes(session: CouponStoreSession, held: number): CouponStoreSession {
	let first = true;
	return new Proxy(session, {
		get(target, property, receiver) {
			if (property !== 'addImported') return Reflect.get(target, property, receiver) as unknown;
			return async (name: string, candidates: ImportCandidate[]) => {
				if (first) {
					first = false;
					await target.addImported(name, candidates.slice(0, held));
				}
				return await target.addImported(name, candidates);
			};
		},
	});
}

describe('createCodesForRun', () => {
	it('draws again for codes the coupon already held, and returns only the codes it added', async () => {
		const store = new StaticDataStore({});
		await store.transaction(async (s) => await s.createPool('BULK', 'imported'));
		const [outcome] = await store.transaction(
			async (s) =>
				await createCodesForRun(
					meetingHeldCodes(s, 3),
					[{ couponName: 'BULK', count: 50, format: FORMAT, usesPerCode: 1 }],
					0,
				),
		);
		if (!('value' in outcome)) throw outcome.error;
		expect(outcome.value).toMatchObject({ created: 50, poolSize: 53, available: 53 });
		const keys = new Set(outcome.value.codes.map(codeKey));
		expect(keys.size).toBe(50);
		// The three the other run added are not reported as this run's.
		const all = await store.transaction(async (s) => await s.countPool('BULK', 0, 0));
		expect(all.available).toBe(53);
	});

	it('ends the run, keeping nothing, when more codes than chance allows were already there', async () => {
		const store = new StaticDataStore({});
		const run = store.transaction(
			async (s) =>
				await createCodesForRun(
					meetingHeldCodes(s, 21),
					[{ couponName: 'BULK', count: 50, format: FORMAT, usesPerCode: 1 }],
					0,
				),
		);
		await expect(run).rejects.toThrow(StoreError);
		await expect(run).rejects.toThrow(
			'Could not find 50 unused codes for coupon "BULK" after 10 tries',
		);
		expect(await store.transaction(async (s) => await s.findPool('BULK'))).toBeUndefined();
	});

	it('reads Count as a whole number from 1 to 1,000,000', () => {
		expect(parseCount(1)).toBe(1);
		expect(parseCount(1_000_000)).toBe(1_000_000);
		expect(parseCount('5')).toBe(5);
		for (const bad of [0, 1_000_001, 2.5, '0x5', null])
			expect(() => parseCount(bad)).toThrow(/^Count must be a whole number from 1 to 1,000,000/);
	});
});
