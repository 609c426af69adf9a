import {
	redeemCodes,
	validateCodes,
	type CodeRequest,
} from '../../nodes/shared/core/checkout/checkout';
import { reserveCodes } from '../../nodes/shared/core/checkout/holds';
import { undoRedemptions, type UndoRequest } from '../../nodes/shared/core/checkout/undo';
import { codeKey, UNAMBIGUOUS_CHARACTERS } from '../../nodes/shared/core/codes/codes';
import { createCodesForRun } from '../../nodes/shared/core/codes/createCodes';
import { SHARED_CODE_END, shareUnusedCodes } from '../../nodes/shared/core/codes/sharedCodes';
import { assignCoupons } from '../../nodes/shared/core/assign/assign';
import { contactCards } from '../../nodes/shared/core/assign/contactCard';
import { poolStatistics } from '../../nodes/shared/core/pool/statistics';
import { deleteCoupons } from '../../nodes/shared/core/pool/deleteCoupon';
import type { Outcome } from '../../nodes/shared/core/common/errors';
import { DAY_MS, UNLIMITED_USES } from '../../nodes/shared/core/common/validity';
import {
	SHARED_HOLDER,
	type CouponStoreSession,
	type UseScope,
} from '../../nodes/shared/core/storeContract';
import { importInto } from '../helpers/imports';
import type { StoreFixture } from './contract';

const T0 = Date.UTC(2026, 6, 1, 9);
const FORMAT = { characters: UNAMBIGUOUS_CHARACTERS, length: 10, prefix: 'SUMMER-' };

function value<T>(outcome: Outcome<T>): T {
	if ('error' in outcome) throw outcome.error;
	return outcome.value;
}

function error<T>(outcome: Outcome<T>): Error & { code?: string } {
	if ('error' in outcome) return outcome.error;
	throw new Error(`expected a refusal, got ${JSON.stringify(outcome.value)}`);
}

/**
 * Shared codes (a coupon with Uses per Customer): one code for everyone, used up to Uses per
 * Customer times by each customer and Uses per Code times by all. Each store's test file runs this
 * suite unchanged.
 */
export function describeSharedCodesContract(
	label: string,
	makeFixture: () => Promise<StoreFixture>,
): void {
	describe(`Shared codes: ${label}`, () => {
		let fixture: StoreFixture;
		beforeEach(async () => (fixture = await makeFixture()));
		afterEach(async () => await fixture.close());

		const run = <T>(work: (session: CouponStoreSession) => Promise<T>): Promise<T> =>
			fixture.open().transaction(work);
		const request = (code: string, contactKey?: string, orderReference?: string): CodeRequest => ({
			code,
			key: codeKey(code),
			...(contactKey === undefined ? {} : { contactKey }),
			...(orderReference === undefined ? {} : { orderReference }),
		});
		const redeem = async (...requests: CodeRequest[]) =>
			await run(async (s) => await redeemCodes(s, requests, T0 + DAY_MS));
		const validate = async (...requests: CodeRequest[]) =>
			await run(async (s) => await validateCodes(s, requests, T0 + DAY_MS));
		const undo = async (...requests: UndoRequest[]) =>
			await run(async (s) => await undoRedemptions(s, requests, T0 + 2 * DAY_MS));
		/** Creates a shared coupon of one code; returns the code. */
		const shared = async (usesPerCustomer: number, usesPerCode = UNLIMITED_USES) => {
			const [created] = await run(
				async (s) =>
					await createCodesForRun(
						s,
						[{ couponName: 'SUMMER', count: 1, format: FORMAT, usesPerCode, usesPerCustomer }],
						T0,
					),
			);
			return value(created).codes[0];
		};

		it('Create Codes shares the codes of a new shared coupon: no contact holds them, none is left to assign', async () => {
			const [created] = await run(
				async (s) =>
					await createCodesForRun(
						s,
						[
							{
								couponName: 'SUMMER',
								count: 3,
								format: FORMAT,
								usesPerCode: UNLIMITED_USES,
								usesPerCustomer: 1,
							},
						],
						T0,
					),
			);
			expect(value(created)).toMatchObject({
				created: 3,
				poolSize: 3,
				available: 0,
				usesPerCode: null,
				usesPerCustomer: 1,
			});
			const pool = await run(async (s) => await s.findPool('summer'));
			expect(pool).toMatchObject({ usesPerCode: UNLIMITED_USES, usesPerCustomer: 1 });
			const found = await run(
				async (s) =>
					await s.findCodes(
						value(created).codes.map((code) => codeKey(code)),
						false,
					),
			);
			expect(found.map((stored) => stored.assignment)).toEqual(
				value(created).codes.map(() =>
					expect.objectContaining({
						contactKey: SHARED_HOLDER,
						assignedAt: T0,
						validUntil: SHARED_CODE_END,
					}),
				),
			);
			const counts = await run(async (s) => await s.countPool('SUMMER', T0, 0));
			expect(counts).toMatchObject({ available: 0, assigned: 3, active: 3 });
		});

		it('each customer redeems a shared code up to Uses per Customer; another customer still can', async () => {
			const code = await shared(1);
			const [first, again] = await redeem(
				request(code, 'ann@example.com', 'A-1'),
				request(code, 'ann@example.com', 'A-2'),
			);
			expect(value(first)).toMatchObject({ accepted: true, status: 'accepted' });
			expect(value(first).coupon).toMatchObject({
				usesPerCode: null,
				usesLeft: null,
				usesPerCustomer: 1,
				customerUses: 1,
				uses: 1,
			});
			expect(value(again)).toMatchObject({ accepted: false, status: 'used_by_customer' });
			expect(value(again).message).toBe(
				`Code ${code} of coupon "SUMMER" was already used by this customer once, the most each customer may`,
			);
			// Redeemed in a later run too: the use was stored with its customer.
			const [later, bob] = await redeem(
				request(code, 'ann@example.com', 'A-3'),
				request(code, 'bob@example.com', 'B-1'),
			);
			expect(value(later).status).toBe('used_by_customer');
			expect(value(bob)).toMatchObject({ accepted: true, status: 'accepted' });
			// Bob's answer names only Bob's use.
			expect(value(bob).coupon?.redemptions).toEqual([
				expect.objectContaining({ orderReference: 'B-1' }),
			]);
			expect(value(bob).coupon).toMatchObject({ uses: 2, customerUses: 1 });
			const [ann, carl] = await validate(
				request(code, 'ann@example.com'),
				request(code, 'carl@example.com'),
			);
			expect(value(ann)).toMatchObject({ valid: false, status: 'used_by_customer' });
			expect(value(carl)).toMatchObject({ valid: true, status: 'valid' });
			expect(value(carl).message).toBe(
				`Code ${code} of coupon "SUMMER" is valid, with 1 of 1 use left for this customer`,
			);
		});

		it('Uses per Code caps all customers together; an order redeems once', async () => {
			const code = await shared(2, 3);
			const outcomes = await redeem(
				request(code, 'ann@example.com', 'A-1'),
				request(code, 'ann@example.com', 'A-1'),
				request(code, 'ann@example.com', 'A-2'),
				request(code, 'bob@example.com', 'B-1'),
				request(code, 'carl@example.com', 'C-1'),
			);
			expect(outcomes.map((outcome) => value(outcome).status)).toEqual([
				'accepted',
				'redeemed',
				'accepted',
				'accepted',
				'redeemed',
			]);
			const cards = await run(async (s) => await contactCards(s, ['ann@example.com'], T0));
			// A shared code is on nobody's card.
			expect(cards.get('ann@example.com') ?? []).toEqual([]);
		});

		it('Validate and Redeem refuse a shared code without the customer, and change nothing', async () => {
			const code = await shared(1);
			const [validated] = await validate(request(code));
			expect(error(validated)).toMatchObject({ code: 'CONTACT_REQUIRED' });
			expect(error(validated).message).toBe(
				`Code ${code} of coupon "SUMMER" is shared (1 use per customer), so the step must know the customer`,
			);
			const [redeemed] = await redeem(request(code, undefined, 'A-1'));
			expect(error(redeemed)).toMatchObject({ code: 'CONTACT_REQUIRED' });
			const counts = await run(async (s) => await s.countPool('SUMMER', T0 + DAY_MS, 0));
			expect(counts.uses).toBe(0);
		});

		it("Undo Redemption gives the customer's use back, and only theirs", async () => {
			const code = await shared(1);
			await redeem(
				request(code, 'ann@example.com', 'A-1'),
				request(code, 'bob@example.com', 'B-1'),
			);
			const [refused] = await undo(request(code));
			expect(error(refused)).toMatchObject({ code: 'CONTACT_REQUIRED' });
			const [byOrder] = await undo({ ...request(code, undefined, 'A-1'), reason: 'refunded' });
			expect(value(byOrder)).toMatchObject({ undone: true, status: 'undone' });
			expect(value(byOrder).coupon?.redemptions).toEqual([
				expect.objectContaining({ orderReference: 'A-1', undoReason: 'refunded' }),
			]);
			expect(value(byOrder).message).toBe(
				`The use of code ${code} of coupon "SUMMER" for order A-1 is undone; it is usable again, with 1 of 1 use left for this customer`,
			);
			const [again] = await undo(request(code, 'ann@example.com'));
			expect(value(again).status).toBe('already_undone');
			const [ann, bob] = await redeem(
				request(code, 'ann@example.com', 'A-2'),
				request(code, 'bob@example.com', 'B-2'),
			);
			expect(value(ann).status).toBe('accepted');
			expect(value(bob).status).toBe('used_by_customer');
		});

		it('a shared code is never held for one order, nor a shared coupon assigned to a contact', async () => {
			const code = await shared(1);
			const [held] = await run(
				async (s) =>
					await reserveCodes(
						s,
						[
							{
								...request(code, 'ann@example.com', 'A-1'),
								orderReference: 'A-1',
								holdMinutes: 15,
							},
						],
						T0,
					),
			);
			expect(error(held)).toMatchObject({ code: 'CODE_SHARED' });
			await expect(
				run(
					async (s) =>
						await assignCoupons(
							s,
							{
								couponName: 'summer',
								validDays: 30,
								policy: 'reuse',
								format: FORMAT,
								usesPerCode: 1,
							},
							[{ contact: 'ann@example.com', contactKey: 'ann@example.com' }],
							T0,
						),
				),
			).rejects.toMatchObject({ code: 'CODE_SHARED' });
			const [statistics] = await run(async (s) => await poolStatistics(s, 'SUMMER', T0));
			const [refused] = await run(
				async (s) => await deleteCoupons(s, [{ couponName: 'SUMMER', withAssigned: false }], T0),
			);
			expect(error(refused).message).toBe(
				`Coupon "SUMMER" is shared: its 1 code (1 active) may be in every customer's hands, with 0 uses taken, so deleting it would delete them and their history too`,
			);
			// Its codes are never assigned: the list does not run out.
			expect(statistics).toMatchObject({ available: 0, active: 1, daysLeft: null });
		});

		it("reads a shared code's uses of the customers and orders asked for and its newest, not everyone's", async () => {
			const code = await shared(1);
			const customers = Array.from({ length: 30 }, (_, i) => `c${i + 1}@example.com`);
			const taken = await redeem(
				...customers.map((contact, i) => request(code, contact, `O-${i + 1}`)),
			);
			expect(taken.map((outcome) => value(outcome).status)).toEqual(
				customers.map(() => 'accepted'),
			);
			const numbersOf = async (scope?: UseScope) => {
				const [found] = await run(async (s) => await s.findCodes([codeKey(code)], false, scope));
				return found.assignment!.redemptions!.map((entry) => entry.n);
			};
			expect(await numbersOf()).toEqual([30]);
			const [found] = await run(async (s) => await s.findCodes([codeKey(code)], false));
			expect(found.assignment!.uses).toBe(30);
			expect(
				await numbersOf({ contactKeys: ['c7@example.com'], orderReferences: ['O-12'] }),
			).toEqual([7, 12, 30]);
			expect(await numbersOf({ numbers: [3] })).toEqual([3, 30]);
			// The rules count on what was read: the customer's use, the order's, the next number.
			const [again, newcomer, sameOrder] = await redeem(
				request(code, 'c7@example.com', 'O-99'),
				request(code, 'c31@example.com', 'O-31'),
				request(code, 'c40@example.com', 'O-12'),
			);
			expect(value(again).status).toBe('used_by_customer');
			expect(value(newcomer).status).toBe('accepted');
			expect(value(sameOrder).status).toBe('redeemed');
			expect(await numbersOf({ contactKeys: ['c31@example.com'] })).toEqual([31]);
			const [undone] = await undo(request(code, undefined, 'O-12'));
			expect(value(undone).message).toMatch(/for order O-12 is undone/);
			// Each event of a page carries its own use, with its customer.
			const events = await run(
				async (s) =>
					await s.events.read({
						stream: 'redeemed',
						after: { at: 0, couponKey: '', codeKey: '', n: 0 },
						upTo: T0 + 3 * DAY_MS,
						limit: 10,
					}),
			);
			expect(events).toHaveLength(10);
			for (const { position, assignment } of events) {
				const use = assignment.redemptions!.find((entry) => entry.n === position.n);
				expect(use?.contactKey).toBe(`c${position.n}@example.com`);
				expect(assignment.redemptions!.length).toBeLessThanOrEqual(11);
			}
		});

		it("a shared code leaves another coupon's code of the same key to checkouts without a customer", async () => {
			await run(async (s) => {
				await s.createPool('PLAIN', 'imported');
				await s.addImported('PLAIN', [{ code: 'VIP20', key: codeKey('VIP20'), row: 2 }]);
				await s.assignImported('PLAIN', [
					{ contactKey: 'ann@example.com', assignedAt: T0, validUntil: T0 + 30 * DAY_MS },
				]);
				const pool = await s.createPool('SHARED', 'imported', {
					usesPerCode: UNLIMITED_USES,
					usesPerCustomer: 1,
				});
				await s.addImported('SHARED', [{ code: 'VIP20', key: codeKey('VIP20'), row: 2 }]);
				await shareUnusedCodes(s, pool, T0);
			});
			const [plain] = await redeem(request('VIP20', undefined, 'P-1'));
			expect(value(plain)).toMatchObject({ accepted: true, coupon: { name: 'PLAIN' } });
			const [again] = await validate(request('VIP20', undefined, 'P-2'));
			expect(value(again)).toMatchObject({ status: 'redeemed', coupon: { name: 'PLAIN' } });
			// With the customer both are judged: the shared code is the usable one.
			const [bob] = await validate(request('VIP20', 'bob@example.com'));
			expect(value(bob)).toMatchObject({ status: 'valid', coupon: { name: 'SHARED' } });
			const [undone] = await undo(request('VIP20'));
			expect(value(undone)).toMatchObject({ status: 'undone', coupon: { name: 'PLAIN' } });
			const [nothing] = await undo(request('VIP20'));
			expect(error(nothing)).toMatchObject({ code: 'CONTACT_REQUIRED' });
		});

		it("an undo by order counts its customer's uses; the total cap limits what each customer has left", async () => {
			const code = await shared(3, 4);
			await redeem(
				request(code, 'ann@example.com', 'A-1'),
				request(code, 'ann@example.com', 'A-2'),
				request(code, 'bob@example.com', 'B-1'),
			);
			const [undone] = await undo(request(code, undefined, 'A-1'));
			expect(value(undone).message).toBe(
				`The use of code ${code} of coupon "SUMMER" for order A-1 is undone; it is usable again, with 2 of 3 uses left for this customer`,
			);
			expect(value(undone).coupon).toMatchObject({ customerUses: 1, uses: 2 });
			expect(value(undone).coupon?.redemptions.map((use) => use.orderReference)).toEqual([
				'A-1',
				'A-2',
			]);
			await redeem(
				request(code, 'bob@example.com', 'B-2'),
				request(code, 'carl@example.com', 'C-1'),
			);
			// Four uses in all: one left, whatever the customer's own three allow.
			const [dan] = await validate(request(code, 'dan@example.com'));
			expect(value(dan)).toMatchObject({ status: 'redeemed' });
			await undo(request(code, undefined, 'C-1'));
			const [eve] = await validate(request(code, 'eve@example.com'));
			expect(value(eve).message).toBe(
				`Code ${code} of coupon "SUMMER" is valid, with 1 of 3 uses left for this customer`,
			);
			const [stranger] = await undo(request(code, 'eve@example.com'));
			expect(value(stranger)).toMatchObject({ status: 'not_redeemed' });
			expect(value(stranger).message).toBe(`Code ${code} was never redeemed by this customer`);
		});

		it('Replace refuses a shared coupon, changing nothing', async () => {
			const code = await shared(1);
			const replaced = importInto(
				fixture.open(),
				{
					sheetName: 'S',
					rows: [['coupon value'], ['AUTUMN20']],
					cell: (raw: unknown) => raw as string,
				},
				{
					withdraw: true,
					nameColumn: 'coupon name',
					valueColumn: 'coupon value',
					couponName: 'SUMMER',
					maxRows: 1000,
					maxNewCoupons: 10,
					usesPerCode: 1,
					now: T0,
				},
			);
			await expect(replaced).rejects.toMatchObject({ code: 'CODE_SHARED' });
			const counts = await run(async (s) => await s.countPool('SUMMER', T0, 0));
			expect(counts).toMatchObject({ available: 0, active: 1 });
			const [still] = await validate(request(code, 'ann@example.com'));
			expect(value(still).status).toBe('valid');
		});

		it('Coupon Import makes a shared coupon of its codes; codes past their expiry stay lapsed', async () => {
			const result = await importInto(
				fixture.open(),
				{
					sheetName: 'S',
					rows: [['coupon value'], ['SUMMER20'], ['SUMMER25']],
					cell: (raw: unknown) => raw as string,
				},
				{
					withdraw: false,
					nameColumn: 'coupon name',
					valueColumn: 'coupon value',
					couponName: 'NEWSLETTER',
					maxRows: 1000,
					maxNewCoupons: 10,
					usesPerCode: UNLIMITED_USES,
					usesPerCustomer: 1,
					now: T0,
				},
			);
			expect(result.pools[0]).toMatchObject({ added: 2, available: 0, poolSize: 2 });
			const [ann, again] = await redeem(
				request('summer20', 'ann@example.com'),
				request('SUMMER20', 'ann@example.com'),
			);
			expect(value(ann).status).toBe('accepted');
			expect(value(again).status).toBe('used_by_customer');
		});
	});
}
