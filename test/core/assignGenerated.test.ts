import type { IDataObject } from 'n8n-workflow';
import { assignCoupons, type AssignmentOutcome } from '../../nodes/shared/core/assign/assign';
import { DAY_MS } from '../../nodes/shared/core/common/validity';
import type { CouponStoreSession } from '../../nodes/shared/core/storeContract';
import { StaticDataStore } from '../../nodes/shared/stores/staticData/StaticDataStore';

// Collisions are rare at safe lengths by design, so the generator is scripted to produce them on demand.
const scripted: string[] = [];
jest.mock('nanoid', () => ({
	customAlphabet: () => () => {
		const next = scripted.shift();
		if (next === undefined) throw new Error('The test scripted too few codes');
		return next;
	},
}));

const T0 = Date.UTC(2026, 2, 1);
const format = { characters: '23456789ABCDEFGHJKMNPQRSTUVWXYZ', length: 8, prefix: '' };
const codesOf = (outcomes: AssignmentOutcome[]) =>
	outcomes.map((o) => ('value' in o ? o.value.code : 'ERROR'));

describe('generated codes, with a scripted generator', () => {
	let data: IDataObject;
	const assign = async (
		contacts: string[],
		policy: 'reuse' | 'replace' = 'reuse',
		now = T0,
		spy?: (session: CouponStoreSession) => void,
	) =>
		await new StaticDataStore(data).transaction(async (session) => {
			spy?.(session);
			return await assignCoupons(
				session,
				{ couponName: 'G', validDays: 1, policy, format, usesPerCode: 1 },
				contacts.map((c) => ({ contact: c, contactKey: c })),
				now,
			);
		});

	beforeEach(() => {
		data = {};
		scripted.length = 0;
	});

	it('regenerates exactly the codes that collided, within the batch and with the pool', async () => {
		scripted.push('OLD22222');
		await assign(['first']);
		scripted.push('OLD22222', 'NEW22222', 'NEW22222', 'NEW33333', 'NEW44444');
		const batches: number[] = [];
		const { outcomes } = await assign(['a', 'b', 'c'], 'reuse', T0, (session) => {
			const insert = session.insertGenerated.bind(session);
			session.insertGenerated = async (name, candidates) => {
				batches.push(candidates.length);
				return await insert(name, candidates);
			};
		});
		// Round 1: OLD22222 is taken, NEW22222 came twice (one kept). Round 2: the two left over.
		expect(batches).toEqual([2, 2]);
		expect(codesOf(outcomes).sort()).toEqual(['NEW22222', 'NEW33333', 'NEW44444']);
		expect(scripted).toEqual([]);
	});

	it('never reissues a generated value, even once it expired or was replaced', async () => {
		scripted.push('OLD22222');
		await assign(['ann']);
		scripted.push('OLD22222', 'NEW22222');
		const later = await assign(['ann'], 'replace', T0 + 3 * DAY_MS);
		expect(codesOf(later.outcomes)).toEqual(['NEW22222']);
	});

	it('gives up after ten rounds of collisions with a message to increase Length', async () => {
		scripted.push(...Array(11).fill('SAME2222'));
		const { outcomes } = await assign(['a', 'b']);
		expect(codesOf(outcomes)).toEqual(['SAME2222', 'ERROR']);
		const error = (outcomes[1] as { error: Error & { description?: string } }).error;
		expect(error.message).toMatch(/Could not find unused codes for coupon "G" after 10 tries/);
		expect(error.description).toBe('Increase Length above 8.');
	});
});
