import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { codeKey } from '../../nodes/shared/core/codes/codes';
import { shareUnusedCodes } from '../../nodes/shared/core/codes/sharedCodes';
import { UNLIMITED_USES } from '../../nodes/shared/core/common/validity';
import type { CouponStore } from '../../nodes/shared/core/storeContract';

const run = promisify(execFile);

export interface CheckoutStep {
	action: 'redeem' | 'reserve';
	code: string;
	order: string;
	/** The customer, for a shared code. */
	contact?: string;
}

export type StepResult = CheckoutStep & { status?: string; error?: string };

export interface RaceFixture {
	/** The store the worker processes open, as checkoutWorker.ts reads it. */
	spec: string;
	store: CouponStore;
	close(): Promise<void>;
}

const PROCESSES = 6;
const CODES = 150;
/** Requests per execution: executions of different processes overlap in every way. */
const PER_EXECUTION = 5;

/** `CODES` codes of the coupon `name`, as an import reads them. */
const candidates = (name: string) =>
	Array.from({ length: CODES }, (_, i) => ({
		code: `${name}-${i}`,
		key: codeKey(`${name}-${i}`),
		row: i + 2,
	}));

/** A coupon of `CODES` codes, each assigned to its own contact; returns the codes. */
async function assignedCodes(store: CouponStore, name: string, usesPerCode = 1): Promise<string[]> {
	return await store.transaction(async (s) => {
		await s.createPool(name, 'imported', { usesPerCode });
		await s.addImported(name, candidates(name));
		const now = Date.now();
		const assigned = await s.assignImported(
			name,
			Array.from({ length: CODES }, (_, i) => ({
				contactKey: `buyer${i}`,
				assignedAt: now,
				validUntil: now + 86_400_000,
			})),
		);
		return assigned.map((a) => a.code);
	});
}

/** A shared coupon of `CODES` codes, each customer redeeming a code up to `usesPerCustomer` times. */
async function sharedCodes(
	store: CouponStore,
	name: string,
	usesPerCustomer: number,
): Promise<string[]> {
	return await store.transaction(async (s) => {
		const pool = await s.createPool(name, 'imported', {
			usesPerCode: UNLIMITED_USES,
			usesPerCustomer,
		});
		const codes = candidates(name);
		await s.addImported(name, codes);
		await shareUnusedCodes(s, pool, Date.now());
		return codes.map((candidate) => candidate.code);
	});
}

/** Runs each plan in an OS process of its own (checkoutWorker.ts), all starting at one moment. */
async function race(spec: string, plans: CheckoutStep[][]): Promise<StepResult[]> {
	const startAt = Date.now() + 1500;
	const outputs = await Promise.all(
		plans.map(async (steps) => {
			const child = run(
				process.execPath,
				[
					'-r',
					join(__dirname, '../helpers/tsRegister.js'),
					join(__dirname, 'checkoutWorker.ts'),
					spec,
					String(startAt),
					String(PER_EXECUTION),
				],
				{ maxBuffer: 16 * 1024 * 1024, env: process.env },
			);
			child.child.stdin!.end(JSON.stringify(steps));
			return JSON.parse((await child).stdout) as StepResult[];
		}),
	);
	const results = outputs.flat();
	expect(results.filter((r) => r.error)).toEqual([]);
	expect(results).toHaveLength(plans.flat().length);
	return results;
}

/** Each process in its own random order, so that executions overlap in every way. */
const shuffled = <T>(items: T[]) => [...items].sort(() => Math.random() - 0.5);

/** The results of each code, by code. */
function byCode(results: StepResult[]): Map<string, StepResult[]> {
	const codes = new Map<string, StepResult[]>();
	for (const result of results) codes.set(result.code, [...(codes.get(result.code) ?? []), result]);
	return codes;
}

/**
 * The checkout races every store that serves several processes must win, run in separate OS
 * processes. Each fails when the store's lock on the codes (PostgreSQL's FOR UPDATE, the Local
 * file's immediate write lock) is removed.
 */
export function describeCheckoutRaces(
	label: string,
	makeFixture: () => Promise<RaceFixture>,
): void {
	describe(`checkout races: ${label}`, () => {
		let fixture: RaceFixture;
		beforeEach(async () => (fixture = await makeFixture()));
		afterEach(async () => await fixture.close());

		it(`${PROCESSES} processes reserving the same ${CODES} codes for their own orders hold each once; the others are told it is reserved`, async () => {
			const codes = await assignedCodes(fixture.store, 'HOLD');
			const results = await race(
				fixture.spec,
				Array.from({ length: PROCESSES }, (_, w) =>
					shuffled(codes).map((code) => ({ action: 'reserve' as const, code, order: `w${w}` })),
				),
			);
			const holders = new Map<string, string>();
			for (const [code, tries] of byCode(results)) {
				expect(tries.filter((t) => t.status === 'held')).toHaveLength(1);
				expect(tries.filter((t) => t.status === 'reserved')).toHaveLength(PROCESSES - 1);
				holders.set(code, tries.find((t) => t.status === 'held')!.order);
			}
			const stored = await fixture.store.transaction(
				async (s) => await s.findCodes(codes.map(codeKey), false),
			);
			expect(new Map(stored.map((c) => [c.code, c.assignment?.hold?.orderReference]))).toEqual(
				holders,
			);
		}, 120_000);

		it('a reservation racing a redemption of the same code by another order: exactly one wins', async () => {
			const codes = await assignedCodes(fixture.store, 'MIXED');
			const results = await race(
				fixture.spec,
				Array.from({ length: PROCESSES }, (_, w) => {
					const action = w % 2 === 0 ? ('reserve' as const) : ('redeem' as const);
					return shuffled(codes).map((code) => ({ action, code, order: `w${w}` }));
				}),
			);
			let held = 0;
			for (const tries of byCode(results).values()) {
				const won = tries.filter((t) => t.status === 'held' || t.status === 'accepted');
				expect(won).toHaveLength(1);
				if (won[0].status === 'held') held++;
				// The others were told why: held for another order, or redeemed.
				const told = won[0].status === 'held' ? 'reserved' : 'redeemed';
				expect(tries.filter((t) => t !== won[0]).map((t) => t.status)).toEqual(
					Array(PROCESSES - 1).fill(told),
				);
			}
			const stored = await fixture.store.transaction(
				async (s) => await s.countPool('MIXED', Date.now(), 0),
			);
			expect(stored).toMatchObject({ held, redeemed: CODES - held, uses: CODES - held });
		}, 120_000);

		it.each([1, 5])(
			`a code of %i use(s) redeemed by ${PROCESSES} processes at once for different orders is accepted that often`,
			async (usesPerCode) => {
				const codes = await assignedCodes(fixture.store, 'MULTI', usesPerCode);
				const results = await race(
					fixture.spec,
					Array.from({ length: PROCESSES }, (_, w) =>
						shuffled(codes).map((code) => ({ action: 'redeem' as const, code, order: `w${w}` })),
					),
				);
				const accepted = new Map<string, string[]>();
				for (const [code, tries] of byCode(results)) {
					expect(tries.filter((t) => t.status === 'redeemed')).toHaveLength(
						PROCESSES - usesPerCode,
					);
					accepted.set(
						code,
						tries.filter((t) => t.status === 'accepted').map((t) => t.order),
					);
				}
				const stored = await fixture.store.transaction(
					async (s) => await s.findCodes(codes.map(codeKey), false),
				);
				for (const { code, assignment } of stored) {
					expect(assignment!.uses).toBe(usesPerCode);
					expect(assignment!.redemptions!.map((e) => e.orderReference).sort()).toEqual(
						accepted.get(code)!.sort(),
					);
				}
			},
			120_000,
		);

		it.each([1, 2])(
			`a shared code of %i use(s) per customer redeemed by ${PROCESSES} processes at once for one customer is accepted that often`,
			async (usesPerCustomer) => {
				const codes = await sharedCodes(fixture.store, 'SHARED', usesPerCustomer);
				const results = await race(
					fixture.spec,
					Array.from({ length: PROCESSES }, (_, w) =>
						shuffled(codes).map((code) => ({
							action: 'redeem' as const,
							code,
							order: `w${w}`,
							contact: 'ann@example.com',
						})),
					),
				);
				for (const tries of byCode(results).values()) {
					expect(tries.filter((t) => t.status === 'accepted')).toHaveLength(usesPerCustomer);
					expect(tries.filter((t) => t.status === 'used_by_customer')).toHaveLength(
						PROCESSES - usesPerCustomer,
					);
				}
				const stored = await fixture.store.transaction(
					async (s) =>
						await s.findCodes(codes.map(codeKey), false, { contactKeys: ['ann@example.com'] }),
				);
				for (const { assignment } of stored) {
					expect(assignment!.uses).toBe(usesPerCustomer);
					expect(assignment!.redemptions!.map((e) => e.contactKey)).toEqual(
						Array(usesPerCustomer).fill('ann@example.com'),
					);
				}
			},
			120_000,
		);
	});
}
