import type { IDataObject } from 'n8n-workflow';
import { codeKey, UNAMBIGUOUS_CHARACTERS } from '../../nodes/shared/core/codes/codes';
import { CouponError } from '../../nodes/shared/core/common/errors';
import {
	assignCoupons,
	type ActiveCouponPolicy,
	type AssignmentOutcome,
	type AssignmentSettings,
} from '../../nodes/shared/core/assign/assign';
import { DAY_MS } from '../../nodes/shared/core/common/validity';
import { StaticDataStore } from '../../nodes/shared/stores/staticData/StaticDataStore';

const T0 = Date.UTC(2026, 2, 1, 9, 30);

function settings(overrides: Partial<AssignmentSettings> = {}): AssignmentSettings {
	return {
		couponName: 'WELCOME',
		validDays: 30,
		policy: 'reuse',
		format: { characters: UNAMBIGUOUS_CHARACTERS, length: 8, prefix: '' },
		usesPerCode: 1,
		...overrides,
	};
}

const request = (contact: string) => ({ contact, contactKey: contact.toLowerCase() });

describe('assignCoupons', () => {
	let data: IDataObject;
	const store = () => new StaticDataStore(data);
	const assign = async (
		contacts: string[],
		overrides: Partial<AssignmentSettings> = {},
		now = T0,
	) =>
		await store().transaction(
			async (s) => await assignCoupons(s, settings(overrides), contacts.map(request), now),
		);
	const codesOf = (outcomes: AssignmentOutcome[]) =>
		outcomes.map((o) => ('value' in o ? o.value.code : 'ERROR'));
	const importCodes = async (name: string, values: string[]) =>
		await store().transaction(async (s) => {
			await s.createPool(name, 'imported');
			await s.addImported(
				name,
				values.map((code, i) => ({ code, key: codeKey(code), row: i + 2 })),
			);
		});

	beforeEach(() => (data = {}));

	it('creates a generated coupon for a new name, with codes of the set length valid for the set days', async () => {
		const { pool, outcomes } = await assign(['ann@x.com', 'bob@x.com'], {
			validDays: 7,
			format: { characters: UNAMBIGUOUS_CHARACTERS, length: 10, prefix: 'W-' },
		});
		expect(pool).toMatchObject({ name: 'WELCOME', kind: 'generated' });
		for (const outcome of outcomes) {
			if (!('value' in outcome)) throw outcome.error;
			expect(outcome.value.code).toMatch(/^W-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{10}$/);
			expect(outcome.value).toMatchObject({
				name: 'WELCOME',
				source: 'generated',
				reused: false,
				assignedAt: new Date(T0).toISOString(),
				validUntil: new Date(T0 + 7 * DAY_MS).toISOString(),
			});
		}
		expect(new Set(codesOf(outcomes)).size).toBe(2);
	});

	it('assigns imported values, keeping them exactly as written, and ignores Length', async () => {
		await importCodes('Spring', ['00042', 'abc-1']);
		const { pool, outcomes } = await assign(['a', 'b'], {
			couponName: 'SPRING',
			format: { characters: '0123456789', length: 40, prefix: 'X' },
		});
		expect(pool.kind).toBe('imported');
		expect(codesOf(outcomes).sort()).toEqual(['00042', 'abc-1']);
		expect(
			outcomes.every(
				(o) => 'value' in o && o.value.source === 'imported' && o.value.name === 'Spring',
			),
		).toBe(true);
	});

	it('gives a contact who holds an active coupon the same one again, matching contacts ignoring case', async () => {
		const first = await assign(['Ann@X.com']);
		const again = await assign(['ann@x.com'], {}, T0 + DAY_MS);
		expect(codesOf(again.outcomes)).toEqual(codesOf(first.outcomes));
		expect(again.outcomes[0]).toMatchObject({
			value: { reused: true, assignedAt: new Date(T0).toISOString(), contact: 'ann@x.com' },
		});
	});

	it('does not burn imported codes when the same contact comes twice in one batch', async () => {
		await importCodes('P', ['A1', 'B2', 'C3']);
		const { outcomes } = await assign(['ann', 'ANN', 'bob'], { couponName: 'P' });
		const [a1, a2, b] = codesOf(outcomes);
		expect(a1).toBe(a2);
		expect(b).not.toBe(a1);
		expect(outcomes.map((o) => 'value' in o && o.value.reused)).toEqual([false, true, false]);
		expect(await store().transaction(async (s) => await s.countPool('P', T0, 0))).toMatchObject({
			available: 1,
			assigned: 2,
		});
	});

	it('never returns an expired coupon as active: after validUntil the contact gets a new one', async () => {
		const first = await assign(['ann'], { validDays: 2 });
		const justBefore = await assign(['ann'], { validDays: 2 }, T0 + 2 * DAY_MS - 1);
		expect(codesOf(justBefore.outcomes)).toEqual(codesOf(first.outcomes));
		const atExpiry = await assign(['ann'], { validDays: 2 }, T0 + 2 * DAY_MS);
		expect(codesOf(atExpiry.outcomes)[0]).not.toBe(codesOf(first.outcomes)[0]);
		expect(atExpiry.outcomes[0]).toMatchObject({ value: { reused: false } });
		const counts = await store().transaction(
			async (s) => await s.countPool('WELCOME', T0 + 2 * DAY_MS, 0),
		);
		expect(counts).toMatchObject({ assigned: 2, active: 1, expired: 1 });
	});

	it.each<[ActiveCouponPolicy, number, number]>([
		['replace', 2, 1],
		['issueAnother', 2, 2],
	])(
		'with "%s" a contact holding a coupon gets a new one (%i assigned, %i active)',
		async (policy, assigned, active) => {
			const first = await assign(['ann']);
			const second = await assign(['ann'], { policy }, T0 + 1000);
			expect(codesOf(second.outcomes)[0]).not.toBe(codesOf(first.outcomes)[0]);
			const counts = await store().transaction(
				async (s) => await s.countPool('WELCOME', T0 + 2000, 0),
			);
			expect(counts).toMatchObject({ assigned, active, replaced: assigned - active });
			if (policy === 'replace') {
				const held = await store().transaction(
					async (s) => await s.assignmentsOf('WELCOME', ['ann']),
				);
				expect(
					held.get('ann')!.find((a) => a.code === codesOf(first.outcomes)[0])!.replacedAt,
				).toBe(T0 + 1000);
			}
		},
	);

	it('with "replace", a contact twice in one batch gets one new coupon, which stays active', async () => {
		const first = await assign(['ann']);
		const { outcomes } = await assign(['ann', 'ANN'], { policy: 'replace' }, T0 + 1000);
		const [a, b] = codesOf(outcomes);
		expect(a).toBe(b);
		expect(a).not.toBe(codesOf(first.outcomes)[0]);
		expect(outcomes.map((o) => 'value' in o && o.value.reused)).toEqual([false, true]);
		expect(
			await store().transaction(async (s) => await s.countPool('WELCOME', T0 + 2000, 0)),
		).toMatchObject({ assigned: 2, active: 1, replaced: 1 });
	});

	it('with "replace", ends every active coupon the contact holds', async () => {
		await assign(['ann']);
		await assign(['ann'], { policy: 'issueAnother' }, T0 + 1);
		await assign(['ann'], { policy: 'replace' }, T0 + 2);
		expect(
			await store().transaction(async (s) => await s.countPool('WELCOME', T0 + 3, 0)),
		).toMatchObject({ assigned: 3, active: 1, replaced: 2 });
	});

	it('with "issueAnother", a contact twice in one batch gets two coupons', async () => {
		const { outcomes } = await assign(['ann', 'ann'], { policy: 'issueAnother' });
		expect(new Set(codesOf(outcomes)).size).toBe(2);
	});

	it('fails only the requests an imported pool cannot serve, with its counts, and consumes nothing for them', async () => {
		await importCodes('Tiny', ['ONE', 'TWO']);
		await assign(['old'], { couponName: 'Tiny', validDays: 1 });
		const { outcomes } = await assign(
			['a', 'b', 'c'],
			{ couponName: 'Tiny', policy: 'replace' },
			T0 + 2 * DAY_MS,
		);
		expect(outcomes.map((o) => 'value' in o)).toEqual([true, false, false]);
		const error = (outcomes[1] as { error: CouponError }).error;
		expect(error.message).toBe(
			'Coupon "Tiny" has no unused codes left: 2 assigned (1 active, 1 expired, 0 redeemed, 0 replaced), 0 available',
		);
		expect(error.description).toMatch(/Import more codes/);
	});

	it('replaces nothing for a request that failed', async () => {
		await importCodes('Tiny', ['ONE']);
		const first = await assign(['ann'], { couponName: 'Tiny' });
		const second = await assign(['ann'], { couponName: 'Tiny', policy: 'replace' }, T0 + 1);
		expect('error' in second.outcomes[0]).toBe(true);
		const again = await assign(['ann'], { couponName: 'Tiny' }, T0 + 2);
		expect(codesOf(again.outcomes)).toEqual(codesOf(first.outcomes));
	});

	it('refuses a length too short for the number of codes the coupon will hold', async () => {
		await expect(
			assign(['a', 'b'], { format: { characters: '0123456789', length: 6, prefix: '' } }),
		).rejects.toThrow(/Length 6 is too short for coupon "WELCOME"/);
		expect(await store().transaction(async (s) => await s.findPool('WELCOME'))).toBeUndefined();
	});
});
