import {
	validateCodes,
	redeemCodes,
	type CodeRequest,
} from '../../nodes/shared/core/checkout/checkout';
import { releaseCodes, reserveCodes } from '../../nodes/shared/core/checkout/holds';
import { undoRedemptions, type UndoRequest } from '../../nodes/shared/core/checkout/undo';
import { codeKey, UNAMBIGUOUS_CHARACTERS } from '../../nodes/shared/core/codes/codes';
import { contactCards } from '../../nodes/shared/core/assign/contactCard';
import type { Outcome } from '../../nodes/shared/core/common/errors';
import {
	assignCoupons,
	assignCouponsForRun,
	type ActiveCouponPolicy,
	type AssignmentResult,
} from '../../nodes/shared/core/assign/assign';
import {
	renderMessages,
	type MissingCouponAction,
	type UnfilledAction,
} from '../../nodes/shared/core/render/render';
import { poolStatistics } from '../../nodes/shared/core/pool/statistics';
import { DAY_MS } from '../../nodes/shared/core/common/validity';
import type {
	CodeFormat,
	CouponStoreSession,
	Details,
} from '../../nodes/shared/core/storeContract';
import { listedCodes, type StoreFixture } from './contract';
import { UNTOUCHED_CODE } from '../helpers/contactCouponRuns';
import {
	createCodesForRun,
	MAX_CODES_PER_RUN,
	type CreateCodesRequest,
} from '../../nodes/shared/core/codes/createCodes';
import { checkAgainstFormat, generateCode } from '../../nodes/shared/core/codes/codeFormat';
import {
	EXPORT_PAGE,
	exportCodes,
	FIXED_COLUMNS,
	MAX_DETAIL_COLUMNS,
	OTHER_DETAILS_COLUMN,
	type ExportCell,
	type ExportStatus,
} from '../../nodes/shared/core/codes/exportCodes';
import { importInto } from '../helpers/imports';
import { deleteCoupons } from '../../nodes/shared/core/pool/deleteCoupon';

/** A code of the format that is not one of `keys`: well formed, with a right check character. */
function generateCodeNotIn(format: CodeFormat, keys: Set<string>): string {
	for (;;) {
		const code = generateCode(format);
		if (!keys.has(codeKey(code))) return code;
	}
}

const T0 = Date.UTC(2026, 5, 1, 12);
const FORMAT = { characters: UNAMBIGUOUS_CHARACTERS, length: 8, prefix: '' };
const DATES = { format: 'isoDate' as const, timeZone: 'UTC', locale: 'en-US' };

function value<T>(outcome: Outcome<T>): T {
	if ('error' in outcome) throw outcome.error;
	return outcome.value;
}

/**
 * The rules that work on assigned coupons (contact card, placeholders, validation, redemption,
 * statistics), run through the core functions on a store. Each store's test file runs this suite
 * unchanged.
 */
export function describeOperationsContract(
	label: string,
	makeFixture: () => Promise<StoreFixture>,
): void {
	describe(`Coupon operations: ${label}`, () => {
		let fixture: StoreFixture;
		beforeEach(async () => (fixture = await makeFixture()));
		afterEach(async () => await fixture.close());

		const run = <T>(work: (session: CouponStoreSession) => Promise<T>): Promise<T> =>
			fixture.open().transaction(work);
		const give = async (
			couponName: string,
			contacts: string[],
			at = T0,
			validDays = 30,
			policy: ActiveCouponPolicy = 'reuse',
			usesPerCode = 1,
		) =>
			(
				await run(
					async (s) =>
						await assignCoupons(
							s,
							{ couponName, validDays, policy, format: FORMAT, usesPerCode },
							contacts.map((c) => ({ contact: c, contactKey: c.toLowerCase() })),
							at,
						),
				)
			).outcomes.map((o) => ('value' in o ? o.value.code : o.error.message));
		const importList = async (name: string, values: string[], usesPerCode = 1) =>
			await run(async (s) => {
				await s.createPool(name, 'imported', { usesPerCode });
				await s.addImported(
					name,
					values.map((code, i) => ({ code, key: codeKey(code), row: i + 2 })),
				);
			});
		const request = (code: string, extra: Partial<CodeRequest> = {}): CodeRequest => ({
			code: code.trim(),
			key: codeKey(code),
			...extra,
		});
		const validate = async (requests: CodeRequest[], at: number) =>
			await run(async (s) => await validateCodes(s, requests, at));
		const redeem = async (requests: CodeRequest[], at: number) =>
			await run(async (s) => await redeemCodes(s, requests, at));

		describe('validate and redeem', () => {
			let annCode: string;
			beforeEach(async () => {
				await importList('VIP', ['VIP-0001', 'VIP-0002']);
				[annCode] = await give('VIP', ['ann@example.com']);
			});

			it('says why a code can or cannot be used, comparing codes without case, spaces or dashes', async () => {
				const loose = ` ${annCode.toLowerCase().replace('-', ' ')} `;
				const other = annCode === 'VIP-0001' ? 'VIP-0002' : 'VIP-0001';
				await importList('Other', ['OTH-1']);
				const checks = (
					await validate(
						[
							request(loose),
							request(loose, { contactKey: 'ann@example.com' }),
							request(loose, { contactKey: 'bob@example.com' }),
							request(other),
							request('NOPE-1'),
							request(annCode, { couponName: 'other' }),
						],
						T0 + DAY_MS,
					)
				).map(value);
				expect(checks.map((c) => c.status)).toEqual([
					'valid',
					'valid',
					'other_contact',
					'not_assigned',
					'unknown',
					'unknown',
				]);
				expect(checks[0]).toEqual({
					code: loose.trim(),
					valid: true,
					status: 'valid',
					message: `Code ${loose.trim()} of coupon "VIP" is valid until 2026-07-01T12:00:00.000Z`,
					coupon: {
						name: 'VIP',
						code: annCode,
						status: 'active',
						assignedAt: '2026-06-01T12:00:00.000Z',
						validUntil: '2026-07-01T12:00:00.000Z',
						redeemedAt: null,
						orderReference: null,
						...UNTOUCHED_CODE,
					},
				});
				expect(checks[4]).toEqual({
					code: 'NOPE-1',
					valid: false,
					status: 'unknown',
					message: 'No coupon has the code NOPE-1',
					coupon: null,
				});
				expect(checks[5].message).toBe(`No coupon named "other" has the code ${annCode}`);
				// A coupon name that no coupon has is an error of the request, not an "unknown" code.
				const [misspelt] = await validate([request(annCode, { couponName: 'VPI' })], T0);
				expect('error' in misspelt && misspelt.error.message).toBe(
					'No coupon is named "VPI". The closest is "VIP".',
				);
				// A stranger holding the code learns nothing about the holder's coupon.
				expect(checks[2]).toEqual({
					code: loose.trim(),
					valid: false,
					status: 'other_contact',
					message: `Code ${loose.trim()} of coupon "VIP" belongs to another contact`,
					coupon: null,
				});
				// An expired coupon is refused from the moment validUntil is reached.
				const [expired] = (await validate([request(annCode)], T0 + 30 * DAY_MS)).map(value);
				expect(expired).toMatchObject({
					status: 'expired',
					message: `Code ${annCode} of coupon "VIP" expired on 2026-07-01T12:00:00.000Z`,
				});
				const [lastMoment] = (await validate([request(annCode)], T0 + 30 * DAY_MS - 1)).map(value);
				expect(lastMoment.status).toBe('valid');
			});

			it('redeems a code once with its order reference; the second attempt is refused as redeemed', async () => {
				const [first] = (
					await redeem(
						[request(annCode, { orderReference: 'ORDER-17', contactKey: 'ann@example.com' })],
						T0 + DAY_MS,
					)
				).map(value);
				expect(first).toMatchObject({
					accepted: true,
					status: 'accepted',
					coupon: {
						status: 'redeemed',
						redeemedAt: '2026-06-02T12:00:00.000Z',
						orderReference: 'ORDER-17',
					},
				});
				const [second] = (
					await redeem([request(annCode, { orderReference: 'ORDER-18' })], T0 + 2 * DAY_MS)
				).map(value);
				expect(second).toMatchObject({
					accepted: false,
					status: 'redeemed',
					message: `Code ${annCode} of coupon "VIP" was already redeemed on 2026-06-02T12:00:00.000Z`,
					// Another order's reference is not told to this one; the contact card keeps it.
					coupon: {
						orderReference: null,
						redemptions: [expect.objectContaining({ orderReference: null })],
					},
				});
				const [card] = (await run(async (s) => await contactCards(s, ['ann@example.com'], T0))).get(
					'ann@example.com',
				)!;
				expect(card).toMatchObject({ orderReference: 'ORDER-17' });
				const [checked] = (await validate([request(annCode)], T0 + 2 * DAY_MS)).map(value);
				expect(checked.status).toBe('redeemed');
				// Redeeming never frees the code: the other code is still the only one available, and
				// the contact, asking again, gets that one rather than the redeemed code.
				const [stats] = await run(async (s) => await poolStatistics(s, 'VIP', T0 + 2 * DAY_MS));
				expect(stats).toMatchObject({ available: 1, assigned: 1, active: 0, redeemed: 1 });
				const [again] = await give('VIP', ['ann@example.com'], T0 + 2 * DAY_MS);
				expect(again).not.toBe(annCode);
			});

			it('accepts a code given twice in one batch once, and refuses codes that cannot be used, changing nothing', async () => {
				const outcomes = (
					await redeem(
						[
							request(annCode),
							request(annCode.toLowerCase()),
							request('VIP 0003'),
							request(annCode, { contactKey: 'eve' }),
						],
						T0,
					)
				).map(value);
				expect(outcomes.map((o) => o.status)).toEqual([
					'accepted',
					'redeemed',
					'unknown',
					'other_contact',
				]);
				await give('VIP', ['bob'], T0, 1);
				const bobCode = annCode === 'VIP-0001' ? 'VIP-0002' : 'VIP-0001';
				const [late] = (await redeem([request(bobCode)], T0 + DAY_MS)).map(value);
				expect(late).toMatchObject({ accepted: false, status: 'expired' });
				const [stats] = await run(async (s) => await poolStatistics(s, 'VIP', T0 + DAY_MS));
				expect(stats).toMatchObject({ redeemed: 1, expired: 1 });
			});

			it('refuses a replaced coupon at once', async () => {
				await importList('VIP', ['VIP-0003']);
				await give('VIP', ['ann@example.com'], T0 + 1000, 30, 'replace');
				const [old] = (await redeem([request(annCode)], T0 + 2000)).map(value);
				expect(old).toMatchObject({
					accepted: false,
					status: 'replaced',
					message: `Code ${annCode} of coupon "VIP" was replaced by a newer coupon on 2026-06-01T12:00:01.000Z`,
				});
			});

			it('refuses a code valid in two coupons as ambiguous, and takes the coupon name or contact to decide', async () => {
				await importList('Other', [annCode]);
				await give('Other', ['bob']);
				const [ambiguous] = (await validate([request(annCode)], T0)).map(value);
				expect(ambiguous).toEqual({
					code: annCode,
					valid: false,
					status: 'ambiguous',
					message: `The code ${annCode} is valid in 2 coupons ("Other", "VIP"), so it is not clear which one is meant; set Coupon Name or Contact in the options`,
					coupon: null,
				});
				const [refused] = (await redeem([request(annCode)], T0)).map(value);
				expect(refused).toMatchObject({ accepted: false, status: 'ambiguous' });
				const [named, byContact] = (
					await validate(
						[
							request(annCode, { couponName: 'other' }),
							request(annCode, { contactKey: 'ann@example.com' }),
						],
						T0,
					)
				).map(value);
				expect(named.coupon!.name).toBe('Other');
				expect(byContact.coupon!.name).toBe('VIP');
			});
		});

		describe('undo, hold and uses', () => {
			let code: string;
			const MINUTE = 60_000;
			const undo = async (requests: UndoRequest[], at: number) =>
				await run(async (s) => await undoRedemptions(s, requests, at));
			const reserve = async (
				order: string,
				at: number,
				minutes = 15,
				extra: Partial<CodeRequest> = {},
			) =>
				value(
					(
						await run(
							async (s) =>
								await reserveCodes(
									s,
									[{ ...request(code, extra), orderReference: order, holdMinutes: minutes }],
									at,
								),
						)
					)[0],
				);
			const release = async (order: string, at: number) =>
				(
					await run(
						async (s) => await releaseCodes(s, [{ ...request(code), orderReference: order }], at),
					)
				)[0];
			const redeemOne = async (order: string | undefined, at: number) =>
				value(
					(
						await redeem([request(code, order === undefined ? {} : { orderReference: order })], at)
					)[0],
				);
			const validateOne = async (at: number, extra: Partial<CodeRequest> = {}) =>
				value((await validate([request(code, extra)], at))[0]);
			const isoAt = (ms: number) => new Date(ms).toISOString();

			beforeEach(async () => {
				await importList('VIP', ['VIP-0001']);
				[code] = await give('VIP', ['ann@example.com']);
			});

			it('undoes a redemption for a refunded order: the code is usable again, and the history keeps both', async () => {
				await redeemOne('ORDER-1', T0 + 1000);
				const [undone] = (
					await undo(
						[request(code, { orderReference: 'ORDER-1', reason: 'refunded' } as UndoRequest)],
						T0 + 2000,
					)
				).map(value);
				expect(undone).toMatchObject({
					code,
					undone: true,
					status: 'undone',
					message: `The use of code ${code} of coupon "VIP" for order ORDER-1 is undone; it is usable again until 2026-07-01T12:00:00.000Z`,
					coupon: {
						status: 'active',
						uses: 0,
						usesLeft: 1,
						redeemedAt: null,
						orderReference: null,
					},
				});
				expect((await validateOne(T0 + 3000)).status).toBe('valid');
				expect(await redeemOne('ORDER-2', T0 + 4000)).toMatchObject({ accepted: true });
				const [card] = [
					...(
						await run(async (s) => await contactCards(s, ['ann@example.com'], T0 + 5000))
					).values(),
				];
				expect(card[0]).toMatchObject({
					status: 'redeemed',
					orderReference: 'ORDER-2',
					redemptions: [
						{
							redeemedAt: isoAt(T0 + 1000),
							orderReference: 'ORDER-1',
							undoneAt: isoAt(T0 + 2000),
							undoReason: 'refunded',
						},
						{
							redeemedAt: isoAt(T0 + 4000),
							orderReference: 'ORDER-2',
							undoneAt: null,
							undoReason: null,
						},
					],
				});
				const [stats] = await run(async (s) => await poolStatistics(s, 'VIP', T0 + 5000));
				expect(stats).toMatchObject({ redeemed: 1, active: 0, uses: 1 });
			});

			it('answers an undo with nothing to undo, or for another order, changing nothing', async () => {
				expect(value((await undo([request(code)], T0))[0])).toMatchObject({
					undone: false,
					status: 'not_redeemed',
					message: `Code ${code} was never redeemed`,
				});
				expect(value((await undo([request('NOPE-1')], T0))[0])).toMatchObject({
					undone: false,
					status: 'unknown',
				});
				await redeemOne('ORDER-1', T0 + 1000);
				const [wrong, first, twice] = await undo(
					[request(code, { orderReference: 'ORDER-9' }), request(code), request(code)],
					T0 + 2000,
				);
				expect(value(wrong)).toMatchObject({
					undone: false,
					status: 'other_order',
					message: `Code ${code} was not redeemed for order ORDER-9: its uses were for other orders, so nothing was undone`,
				});
				expect(value(first)).toMatchObject({ undone: true });
				expect(value(twice)).toMatchObject({
					undone: false,
					status: 'already_undone',
					message: `Every use of code ${code} was undone already; nothing to undo`,
				});
				expect(
					value((await undo([request(code, { orderReference: 'ORDER-1' })], T0 + 3000))[0]),
				).toMatchObject({
					status: 'already_undone',
				});
			});

			it('reports a code whose validity ended as expired when its redemption is undone', async () => {
				await redeemOne(undefined, T0 + 1000);
				const [late] = (await undo([request(code)], T0 + 31 * DAY_MS)).map(value);
				expect(late).toMatchObject({
					undone: true,
					message: `The use of code ${code} of coupon "VIP" is undone; it expired on 2026-07-01T12:00:00.000Z, so it stays unusable`,
					coupon: { status: 'expired', uses: 0 },
				});
			});

			it('holds a code for one order: other orders are told it is reserved until the hold ends, the same order confirms it', async () => {
				const held = await reserve('cart-1', T0);
				expect(held).toMatchObject({
					held: true,
					status: 'held',
					heldUntil: isoAt(T0 + 15 * MINUTE),
					message: `Code ${code} of coupon "VIP" is held for order cart-1 until ${isoAt(T0 + 15 * MINUTE)}`,
					coupon: {
						status: 'active',
						hold: { orderReference: 'cart-1', until: isoAt(T0 + 15 * MINUTE) },
					},
				});
				expect(await validateOne(T0 + MINUTE)).toMatchObject({
					valid: false,
					status: 'reserved',
					message: `Code ${code} of coupon "VIP" is held for another order until ${isoAt(T0 + 15 * MINUTE)}`,
				});
				expect((await validateOne(T0 + MINUTE, { orderReference: 'cart-1' })).status).toBe('valid');
				expect(await redeemOne('cart-2', T0 + MINUTE)).toMatchObject({
					accepted: false,
					status: 'reserved',
				});
				expect(await redeemOne(undefined, T0 + MINUTE)).toMatchObject({
					accepted: false,
					status: 'reserved',
				});
				expect(await reserve('cart-2', T0 + MINUTE)).toMatchObject({
					held: false,
					status: 'reserved',
					heldUntil: null,
				});
				// Again for the same order: the hold is extended.
				expect(await reserve('cart-1', T0 + 10 * MINUTE, 30)).toMatchObject({
					held: true,
					heldUntil: isoAt(T0 + 40 * MINUTE),
					message: `Code ${code} of coupon "VIP" is still held for order cart-1 until ${isoAt(T0 + 40 * MINUTE)}`,
				});
				const [stats] = await run(async (s) => await poolStatistics(s, 'VIP', T0 + 20 * MINUTE));
				expect(stats).toMatchObject({ held: 1 });
				const confirmed = await redeemOne('cart-1', T0 + 20 * MINUTE);
				expect(confirmed).toMatchObject({
					accepted: true,
					coupon: { status: 'redeemed', hold: null },
				});
				expect(await reserve('cart-1', T0 + 21 * MINUTE)).toMatchObject({
					held: false,
					status: 'redeemed',
				});
			});

			it('frees a hold that ran out without any job, and one released by its order', async () => {
				await reserve('cart-1', T0, 5);
				expect((await validateOne(T0 + 5 * MINUTE - 1)).status).toBe('reserved');
				expect((await validateOne(T0 + 5 * MINUTE)).status).toBe('valid');
				expect(await reserve('cart-2', T0 + 5 * MINUTE)).toMatchObject({ held: true });
				// Another order's hold is an answer, and that order is not named to this one.
				expect(value(await release('cart-1', T0 + 6 * MINUTE))).toMatchObject({
					released: false,
					status: 'reserved',
					message: `Code ${code} is held for another order, not for order cart-1; the hold was left as it is`,
					coupon: {
						hold: { orderReference: null, until: new Date(T0 + 20 * MINUTE).toISOString() },
					},
				});
				expect((await validateOne(T0 + 6 * MINUTE)).coupon).toMatchObject({
					hold: { orderReference: null },
				});
				expect(await redeemOne('cart-9', T0 + 6 * MINUTE)).toMatchObject({
					status: 'reserved',
					coupon: { hold: { orderReference: null } },
				});
				expect(
					(await validateOne(T0 + 6 * MINUTE, { orderReference: 'cart-2' })).coupon,
				).toMatchObject({ hold: { orderReference: 'cart-2' } });
				expect(value(await release('cart-2', T0 + 6 * MINUTE))).toMatchObject({
					released: true,
					status: 'released',
					coupon: { hold: null },
				});
				expect(value(await release('cart-2', T0 + 7 * MINUTE))).toMatchObject({
					released: false,
					status: 'not_held',
				});
				expect(await redeemOne('cart-3', T0 + 7 * MINUTE)).toMatchObject({ accepted: true });
			});

			it('counts uses of a code allowed several times: one per order, the last redeems it, undo gives one back', async () => {
				await importList('MULTI', ['M-1'], 3);
				[code] = await give('MULTI', ['bob']);
				const first = await redeemOne('o1', T0 + 1);
				expect(first).toMatchObject({
					accepted: true,
					message: `Code ${code} of coupon "MULTI" is redeemed now, with 2 of 3 uses left`,
					coupon: { status: 'active', uses: 1, usesLeft: 2, usesPerCode: 3 },
				});
				// The same order twice in one run, and once more later: one use per order.
				const twice = (
					await redeem(
						[request(code, { orderReference: 'o2' }), request(code, { orderReference: 'o2' })],
						T0 + 2,
					)
				).map(value);
				expect(twice.map((r) => r.status)).toEqual(['accepted', 'redeemed']);
				expect(twice[1].message).toBe(
					`Code ${code} of coupon "MULTI" was already redeemed for order o2 on ${isoAt(T0 + 2)}`,
				);
				expect(await validateOne(T0 + 3)).toMatchObject({
					status: 'valid',
					message: `Code ${code} of coupon "MULTI" is valid until 2026-07-01T12:00:00.000Z, with 1 of 3 uses left`,
				});
				expect(await redeemOne('o3', T0 + 4)).toMatchObject({
					accepted: true,
					message: `Code ${code} of coupon "MULTI" is redeemed now`,
					coupon: { status: 'redeemed', uses: 3, usesLeft: 0 },
				});
				expect(await redeemOne('o4', T0 + 5)).toMatchObject({
					accepted: false,
					status: 'redeemed',
				});
				expect(
					value((await undo([request(code, { orderReference: 'o2' })], T0 + 6))[0]),
				).toMatchObject({
					undone: true,
					coupon: { status: 'active', uses: 2, usesLeft: 1 },
				});
				const [stats] = await run(async (s) => await poolStatistics(s, 'MULTI', T0 + 7));
				expect(stats).toMatchObject({ active: 1, redeemed: 0, uses: 2 });
				// Two orders in one run take the last use and find none left.
				const last = (
					await redeem(
						[request(code, { orderReference: 'o5' }), request(code, { orderReference: 'o6' })],
						T0 + 8,
					)
				).map(value);
				expect(last.map((r) => r.status)).toEqual(['accepted', 'redeemed']);
			});

			it('answers a code redeemed or held in two coupons as ambiguous until Coupon Name decides, and an unknown one as unknown', async () => {
				await importList('TWIN', [code]);
				await give('TWIN', ['bob']);
				await redeem([request(code, { couponName: 'VIP', orderReference: 'o1' })], T0 + 1);
				await redeem([request(code, { couponName: 'TWIN', orderReference: 'o1' })], T0 + 2);
				expect(value((await undo([request(code)], T0 + 3))[0])).toMatchObject({
					undone: false,
					status: 'ambiguous',
					message: `The code ${code} was redeemed in 2 coupons ("TWIN", "VIP"); set Coupon Name in the options`,
				});
				expect(
					value((await undo([request(code, { couponName: 'twin' })], T0 + 4))[0]),
				).toMatchObject({ undone: true, coupon: { name: 'TWIN' } });
				const [both] = await run(
					async (s) =>
						await reserveCodes(
							s,
							[
								{
									...request(code, { couponName: 'TWIN' }),
									orderReference: 'cart',
									holdMinutes: 5,
								},
							],
							T0 + 5,
						),
				);
				expect(value(both)).toMatchObject({ held: true });
				expect(value(await release('cart', T0 + 6))).toMatchObject({
					released: true,
					coupon: { name: 'TWIN' },
				});
				code = 'NOPE-9';
				expect(value(await release('cart', T0 + 7))).toMatchObject({
					released: false,
					status: 'unknown',
				});
			});

			it('makes a generated coupon of several uses per code from Generate for Contact', async () => {
				[code] = await give('GENMULTI', ['cy'], T0, 30, 'reuse', 2);
				expect(await redeemOne('a', T0 + 1)).toMatchObject({
					coupon: { usesLeft: 1, usesPerCode: 2 },
				});
				expect(await redeemOne('b', T0 + 2)).toMatchObject({ coupon: { status: 'redeemed' } });
			});
		});

		describe('contact card', () => {
			it('lists every coupon of a contact newest first with its status; none is an empty list', async () => {
				await importList('SPRING', ['S-1', 'S-2']);
				const [spring] = await give('SPRING', ['Ann'], T0);
				const [welcome] = await give('WELCOME', ['ann'], T0 + 1000, 1);
				const [later] = await give('WELCOME', ['ann'], T0 + 2 * DAY_MS, 30);
				await redeem([request(spring)], T0 + 3 * DAY_MS);
				const cards = await run(
					async (s) => await contactCards(s, ['ann', 'nobody'], T0 + 3 * DAY_MS),
				);
				expect(cards.get('ann')!.map((c) => [c.name, c.code, c.status])).toEqual([
					['WELCOME', later, 'active'],
					['WELCOME', welcome, 'expired'],
					['SPRING', spring, 'redeemed'],
				]);
				expect(cards.get('nobody')).toEqual([]);
			});
		});

		describe('statistics', () => {
			it("counts each coupon by status, with days left at the last 7 days' rate", async () => {
				await importList(
					'LIST',
					Array.from({ length: 30 }, (_, i) => `L-${i}`),
				);
				await give('LIST', ['old1', 'old2'], T0 - 20 * DAY_MS, 10);
				await give(
					'LIST',
					Array.from({ length: 7 }, (_, i) => `new${i}`),
					T0 - DAY_MS,
				);
				const [redeemedCode] = await give('GEN', ['g1', 'g2', 'g3'], T0 - DAY_MS);
				await redeem([request(redeemedCode)], T0);
				await give('GEN', ['g2'], T0, 30, 'replace');
				const all = await run(async (s) => await poolStatistics(s, undefined, T0));
				expect(all).toEqual([
					{
						name: 'GEN',
						source: 'generated',
						available: 0,
						lapsed: 0,
						assigned: 4,
						active: 2,
						expired: 0,
						redeemed: 1,
						replaced: 1,
						uses: 1,
						held: 0,
						generated: 4,
						assignedLast7Days: 4,
						daysLeft: null,
					},
					// 7 assigned in the last 7 days: one a day, 21 left.
					{
						name: 'LIST',
						source: 'imported',
						available: 21,
						lapsed: 0,
						assigned: 9,
						active: 7,
						expired: 2,
						redeemed: 0,
						replaced: 0,
						uses: 0,
						held: 0,
						generated: 0,
						assignedLast7Days: 7,
						daysLeft: 21,
					},
				]);
				const quiet = await run(async (s) => await poolStatistics(s, 'list', T0 + 30 * DAY_MS));
				expect(quiet).toEqual([
					expect.objectContaining({
						name: 'LIST',
						active: 0,
						expired: 9,
						assignedLast7Days: 0,
						daysLeft: null,
					}),
				]);
				await expect(run(async (s) => await poolStatistics(s, 'LSIT', T0))).rejects.toThrow(
					'No coupon is named "LSIT". The closest is "LIST".',
				);
			});
		});

		describe('render placeholders', () => {
			const render = async (
				template: string,
				contact: string,
				whenMissing: MissingCouponAction,
				at = T0,
			) =>
				(
					await run(
						async (s) =>
							await renderMessages(
								s,
								[
									{
										template,
										contact,
										contactKey: contact.toLowerCase(),
										settings: {
											whenMissing,
											createCoupons: true,
											whenUnfilled: 'leave' as const,
											validDays: 14,
											format: FORMAT,
											maxNewCoupons: 100,
											dates: DATES,
										},
									},
								],
								at,
							),
					)
				).outcomes;

			beforeEach(async () => {
				await importList('SPRING10', ['SPR-AAAA']);
				await importList('VIP', ['VIP-1', 'VIP-2']);
				await give('SPRING10', ['ann@example.com']);
				await give('WELCOME', ['ann@example.com'], T0 - 40 * DAY_MS);
			});

			it('creates no coupon for a name nobody has unless asked, names the closest, and removes what it cannot fill when asked', async () => {
				const renderAs = async (
					template: string,
					createCoupons: boolean,
					whenUnfilled: UnfilledAction,
				) =>
					await run(
						async (s) =>
							await renderMessages(
								s,
								[
									{
										template,
										contact: 'bob@example.com',
										contactKey: 'bob@example.com',
										settings: {
											whenMissing: 'assign',
											createCoupons,
											whenUnfilled,
											validDays: 14,
											format: FORMAT,
											maxNewCoupons: 100,
											dates: DATES,
										},
									},
								],
								T0,
							),
					);
				const template = 'A $cst.SPRNG10.coupon$ B $cst.VIP.coupon$';
				const failed = await renderAs(template, false, 'fail');
				expect(failed.createdCoupons).toEqual([]);
				expect('error' in failed.outcomes[0] && failed.outcomes[0].error.message).toBe(
					'$cst.SPRNG10.coupon$: no coupon is named "SPRNG10". The closest is "SPRING10".',
				);
				const [removed] = (await renderAs(template, false, 'remove')).outcomes.map(value);
				expect(removed.text).toMatch(/^A {2}B VIP-[12]$/);
				expect(removed.unresolved.map((u) => u.problem)).toEqual(['unknown_coupon']);
				expect((await run(async (s) => await s.listPools())).map((p) => p.name)).toEqual([
					'SPRING10',
					'VIP',
					'WELCOME',
				]);
				const created = await renderAs(template, true, 'fail');
				expect(created.createdCoupons).toEqual(['SPRNG10']);
				expect(value(created.outcomes[0]).unresolved).toEqual([]);
			});

			it("puts the coupon's details and the end of its validity into the text, the code's own details over the coupon's", async () => {
				await run(async (s) => {
					await s.createPool('DEAL', 'imported', {
						usesPerCode: 1,
						details: { discount: '15%', minimumOrder: 50, note: 'Tom & <Jerry>', gone: null },
					});
					await s.addImported('DEAL', [
						{ code: 'DEAL-1', key: 'DEAL1', row: 2, details: { discount: '20%', token: 'tk-9' } },
					]);
				});
				await give('DEAL', ['ann@example.com']);
				const template =
					'$cst.DEAL.coupon$ gives $cst.DEAL.coupon.discount$ over $cst.DEAL.coupon.minimumOrder$ ($cst.deal.coupon.token$) until $cst.DEAL.coupon.validUntil$: $cst.DEAL.coupon.note$[$cst.DEAL.coupon.gone$] $cst.DEAL.coupon.discont$';
				const [text] = (await render(template, 'ann@example.com', 'leave')).map(value);
				expect(text.text).toBe(
					'DEAL-1 gives 20% over 50 (tk-9) until 2026-07-01: Tom & <Jerry>[] $cst.DEAL.coupon.discont$',
				);
				expect(text.coupons).toEqual([
					expect.objectContaining({
						code: 'DEAL-1',
						details: {
							discount: '20%',
							minimumOrder: 50,
							note: 'Tom & <Jerry>',
							gone: null,
							token: 'tk-9',
						},
					}),
				]);
				expect(text.unresolved).toEqual([
					{
						placeholder: '$cst.DEAL.coupon.discont$',
						problem: 'unknown_detail',
						message:
							'$cst.DEAL.coupon.discont$: coupon "DEAL" has no detail "discont" (its details are "discount", "gone", "minimumOrder", "note", "token"); validUntil is always there',
					},
				]);
				// Validate, Redeem and the contact card show the same details.
				const [checked] = (await validate([request('deal 1')], T0)).map(value);
				expect(checked.coupon!.details).toEqual(text.coupons[0].details);
				// In HTML a detail is written as text.
				const [inHtml] = (
					await render('<p>$cst.DEAL.coupon.note$</p>', 'ann@example.com', 'fail')
				).map(value);
				expect(inHtml.text).toBe('<p>Tom &amp; &lt;Jerry&gt;</p>');
				// "Fail" lets no message out with a detail it cannot fill.
				const [failed] = await render('$cst.DEAL.coupon.discont$', 'ann@example.com', 'fail');
				expect('error' in failed && failed.error.message).toMatch(/has no detail "discont"/);
			});

			const html =
				'<p>Spring: <b>$cst.SPRING10.coupon$</b></p><p>VIP: $cst.vip.coupon$</p><p>Welcome: $cst.WELCOME.coupon$</p><p>$cst.spring10.coupon$ $cst.firstname$ $cst.NOPE.coupon$ $cst.a.b.coupon$ $cst.SPRING10.coupon</p>';

			it('leaves placeholders the contact has no active coupon for, and reports each problem once', async () => {
				const [rendered] = (await render(html, 'Ann@example.com', 'leave')).map(value);
				expect(rendered.text).toBe(
					'<p>Spring: <b>SPR-AAAA</b></p><p>VIP: $cst.vip.coupon$</p><p>Welcome: $cst.WELCOME.coupon$</p><p>SPR-AAAA $cst.firstname$ $cst.NOPE.coupon$ $cst.a.b.coupon$ $cst.SPRING10.coupon</p>',
				);
				expect(rendered.coupons).toEqual([
					expect.objectContaining({
						name: 'SPRING10',
						code: 'SPR-AAAA',
						// As stored, not as this message spelled it.
						contact: 'ann@example.com',
						reused: true,
						source: 'imported',
					}),
				]);
				expect(rendered.unresolved.map((u) => [u.placeholder, u.problem])).toEqual([
					['$cst.firstname$', 'not_a_coupon'],
					['$cst.a.b.coupon$', 'invalid_name'],
					['$cst.SPRING10.coupon</p>', 'malformed'],
					['$cst.vip.coupon$', 'no_active_coupon'],
					['$cst.WELCOME.coupon$', 'no_active_coupon'],
					['$cst.NOPE.coupon$', 'unknown_coupon'],
				]);
				expect(
					rendered.unresolved.find((u) => u.placeholder === '$cst.WELCOME.coupon$')!.message,
				).toBe(
					'$cst.WELCOME.coupon$: Ann@example.com has no active coupon "WELCOME" (the last one is expired)',
				);
			});

			it('assigns a coupon now where the contact has none, as Generate would, never rendering the expired one', async () => {
				const { outcomes, createdCoupons } = await run(
					async (s) =>
						await renderMessages(
							s,
							[
								{
									template: html,
									contact: 'ann@example.com',
									contactKey: 'ann@example.com',
									settings: {
										whenMissing: 'assign',
										createCoupons: true,
										whenUnfilled: 'leave' as const,
										validDays: 14,
										format: FORMAT,
										maxNewCoupons: 100,
										dates: DATES,
									},
								},
							],
							T0,
						),
				);
				const rendered = value(outcomes[0]);
				const byName = Object.fromEntries(rendered.coupons.map((c) => [c.name, c]));
				// A name no coupon had becomes a generated coupon, and the caller hears of it (a typo shows).
				expect(Object.keys(byName)).toEqual(['SPRING10', 'VIP', 'WELCOME', 'NOPE']);
				expect(createdCoupons).toEqual(['NOPE']);
				expect(byName.NOPE).toMatchObject({ source: 'generated', reused: false });
				expect(byName.VIP).toMatchObject({
					reused: false,
					validUntil: new Date(T0 + 14 * DAY_MS).toISOString(),
				});
				expect(byName.WELCOME.code).toMatch(/^[23456789A-Z]{8}$/);
				expect(rendered.text).toContain(
					`VIP: ${byName.VIP.code}</p><p>Welcome: ${byName.WELCOME.code}</p>`,
				);
				expect(rendered.unresolved.map((u) => u.problem)).toEqual([
					'not_a_coupon',
					'invalid_name',
					'malformed',
				]);
				// The coupons assigned while rendering are the contact's from now on.
				const [again] = (await render('$cst.VIP.coupon$', 'ann@example.com', 'fail')).map(value);
				expect(again.text).toBe(byName.VIP.code);
			});

			it('renders the newest of several active coupons, and never a redeemed or replaced one', async () => {
				const [older] = await give('MULTI', ['ann@example.com'], T0 - 1000);
				const [newer] = await give('MULTI', ['ann@example.com'], T0 - 500, 30, 'issueAnother');
				const [newest] = (await render('$cst.MULTI.coupon$', 'ann@example.com', 'leave')).map(
					value,
				);
				expect(newest.text).toBe(newer);
				expect(newer).not.toBe(older);
				// Redeemed: the contact holds no active SPRING10 any more.
				await redeem([request('SPR-AAAA')], T0);
				const [afterRedeem] = (
					await render('$cst.SPRING10.coupon$', 'ann@example.com', 'leave', T0 + 1)
				).map(value);
				expect(afterRedeem.unresolved[0].message).toBe(
					'$cst.SPRING10.coupon$: ann@example.com has no active coupon "SPRING10" (the last one is redeemed)',
				);
				// Replaced by a one-day coupon that has since expired: the replaced one, still within its
				// own 30 days, is not rendered either.
				await give('MULTI', ['ann@example.com'], T0, 1, 'replace');
				const [afterReplace] = (
					await render('$cst.MULTI.coupon$', 'ann@example.com', 'leave', T0 + 2 * DAY_MS)
				).map(value);
				expect(afterReplace.text).toBe('$cst.MULTI.coupon$');
			});

			it('tells a contact who comes twice in one run that the second message carries the same coupon', async () => {
				const twice = ['bob@example.com', 'BOB@example.com'].map((contact) => ({
					template: '$cst.VIP.coupon$',
					contact,
					contactKey: 'bob@example.com',
				}));
				const { outcomes } = await run(
					async (s) =>
						await renderMessages(
							s,
							twice.map((request) => ({
								...request,
								settings: {
									whenMissing: 'assign',
									createCoupons: true,
									whenUnfilled: 'leave' as const,
									validDays: 14,
									format: FORMAT,
									maxNewCoupons: 100,
									dates: DATES,
								},
							})),
							T0,
						),
				);
				const [first, second] = outcomes.map(value);
				expect(second.text).toBe(first.text);
				expect([first.coupons[0].reused, second.coupons[0].reused]).toEqual([false, true]);
			});

			it('assigns the coupons Generate for Contact would for the same items, whatever settings each maps', async () => {
				// Items y (30 days), x (60 days), x (30 days): Generate serves the 30-day items first, as
				// one batch, then finds x holding that coupon for the 60-day item.
				const items = [
					['y', 30],
					['x', 60],
					['x', 30],
				] as const;
				const { outcomes } = await run(
					async (s) =>
						await renderMessages(
							s,
							items.map(([contact, validDays]) => ({
								template: 'Yours: $cst.MIXED.coupon$',
								contact,
								contactKey: contact,
								settings: {
									whenMissing: 'assign',
									createCoupons: true,
									whenUnfilled: 'leave' as const,
									validDays,
									format: FORMAT,
									maxNewCoupons: 100,
									dates: DATES,
								},
							})),
							T0,
						),
				);
				const rendered = outcomes.map((outcome) => value(outcome).coupons[0]);
				const generated = await run(
					async (s) =>
						await assignCouponsForRun(
							s,
							items.map(([contact, validDays]) => ({
								contact,
								contactKey: contact,
								settings: {
									couponName: 'MIXED2',
									validDays,
									policy: 'reuse',
									format: FORMAT,
									usesPerCode: 1,
								},
							})),
							T0,
						),
				);
				const shape = ({
					contact,
					validUntil,
					reused,
				}: Pick<AssignmentResult, 'contact' | 'reused'> & { validUntil: string | null }) => ({
					contact,
					validUntil,
					reused,
				});
				expect(rendered.map(shape)).toEqual(generated.outcomes.map((o) => shape(value(o))));
				expect(rendered.map(shape)).toEqual([
					{ contact: 'y', validUntil: new Date(T0 + 30 * DAY_MS).toISOString(), reused: false },
					{ contact: 'x', validUntil: new Date(T0 + 30 * DAY_MS).toISOString(), reused: true },
					{ contact: 'x', validUntil: new Date(T0 + 30 * DAY_MS).toISOString(), reused: false },
				]);
				expect(rendered[1].code).toBe(rendered[2].code);
			});

			it.each([
				[
					'a coupon no one has',
					'Hi $cst.NOPE.coupon$',
					'$cst.NOPE.coupon$: no coupon is named "NOPE"',
					/Generate for Contact/,
				],
				[
					'a name that cannot be a coupon',
					'Hi $cst.a.b.coupon$',
					'$cst.a.b.coupon$ cannot name a coupon',
					/Correct the placeholder/,
				],
				[
					'a placeholder without its closing $',
					'Hi $cst.SPRING10.coupon, bye',
					'"$cst.SPRING10.coupon, bye" starts a placeholder',
					/Correct the placeholder/,
				],
			])('with "fail", refuses %s', async (_label, template, message, fix) => {
				const [outcome] = await render(template, 'ann@example.com', 'fail');
				expect('error' in outcome && outcome.error.message).toMatch(
					new RegExp(`^${message.replace(/[$.*+?()[\]{}|\\^]/g, '\\$&')}`),
				);
				expect('error' in outcome && outcome.error.description).toMatch(fix);
			});

			it('fails only the contacts a refused format concerns', async () => {
				await give('SHORT', ['bob@example.com']);
				const requests = ['bob@example.com', 'ann@example.com'].map((contact) => ({
					template: 'Code: $cst.short.coupon$',
					contact,
					contactKey: contact,
				}));
				const format = { ...FORMAT, characters: '0123456789', length: 4 };
				const { outcomes } = await run(
					async (s) =>
						await renderMessages(
							s,
							requests.map((request) => ({
								...request,
								settings: {
									whenMissing: 'assign',
									createCoupons: true,
									whenUnfilled: 'leave' as const,
									validDays: 14,
									format,
									maxNewCoupons: 100,
									dates: DATES,
								},
							})),
							T0,
						),
				);
				expect(value(outcomes[0]).text).toMatch(/^Code: [23456789A-Z]{8}$/);
				expect('error' in outcomes[1] && outcomes[1].error.message).toMatch(
					/^Length 4 is too short for coupon "SHORT"/,
				);
			});

			it('fails a contact without the coupon when asked to, naming the placeholder', async () => {
				const [outcome] = await render(
					'Hi $cst.SPRING10.coupon$ and $cst.VIP.coupon$',
					'ann@example.com',
					'fail',
				);
				expect('error' in outcome && outcome.error.message).toBe(
					'$cst.VIP.coupon$: ann@example.com has no active coupon "VIP"',
				);
				const [fine] = (
					await render('Hi $cst.SPRING10.coupon$ $cst.firstname$', 'ann@example.com', 'fail')
				).map(value);
				expect(fine.text).toBe('Hi SPR-AAAA $cst.firstname$');
			});

			it('creates at most Max New Coupons coupons in one run, failing the messages that would pass it', async () => {
				const poolsBefore = (await run(async (s) => await s.listPools())).length;
				const message = (template: string, contact: string) => ({
					template,
					contact,
					contactKey: contact,
					settings: {
						whenMissing: 'assign' as const,
						createCoupons: true,
						whenUnfilled: 'leave' as const,
						validDays: 14,
						format: FORMAT,
						maxNewCoupons: 2,
						dates: DATES,
					},
				});
				const { outcomes } = await run(
					async (s) =>
						await renderMessages(
							s,
							[
								message('$cst.NEW1.coupon$ $cst.NEW2.coupon$ $cst.VIP.coupon$', 'x'),
								message('$cst.NEW3.coupon$ $cst.NEW4.coupon$', 'y'),
								message('$cst.new1.coupon$', 'z'),
							],
							T0,
						),
				);
				expect('value' in outcomes[0] && outcomes[0].value.coupons.map((c) => c.name)).toEqual([
					'NEW1',
					'NEW2',
					'VIP',
				]);
				expect('error' in outcomes[1] && outcomes[1].error.message).toBe(
					'The text names 2 coupons that do not exist yet ("NEW3", "NEW4"); creating them would pass Max New Coupons (2 in one run, 2 created already)',
				);
				expect('value' in outcomes[2] && outcomes[2].value.coupons[0].name).toBe('NEW1');
				expect((await run(async (s) => await s.listPools())).length).toBe(poolsBefore + 2);
			});
		});

		describe('delete coupon', () => {
			const remove = async (couponName: string, withAssigned: boolean, rollBack = false) =>
				await fixture
					.open()
					.transaction(
						async (s) => await deleteCoupons(s, [{ couponName, withAssigned }], T0 + DAY_MS),
						{ rollBack },
					);

			it('refuses a coupon contacts hold codes of, saying what would go, and deletes it when asked', async () => {
				await importList('SPRING10', ['S-1', 'S-2', 'S-3']);
				const [annCode] = await give('SPRING10', ['ann@example.com']);
				await redeem([request(annCode)], T0 + 1);
				await give('SPRING10', ['bob@example.com']);
				const [refused] = await remove('SPRING10', false);
				expect('error' in refused && refused.error.message).toBe(
					'Coupon "SPRING10" has 2 codes contacts were given (1 active, 1 redeemed), so deleting it would delete them and their history too',
				);
				expect('error' in refused && refused.error.description).toMatch(/^Nothing was deleted\./);
				expect(await run(async (s) => await s.findPool('SPRING10'))).toBeDefined();
				const [preview] = (await remove('spring10', true, true)).map(value);
				expect(preview).toMatchObject({ couponName: 'SPRING10', codes: 3, available: 1 });
				const [deleted] = (await remove('spring10', true)).map(value);
				expect(deleted).toMatchObject({
					couponName: 'SPRING10',
					source: 'imported',
					codes: 3,
					available: 1,
					assigned: 2,
					active: 1,
					redeemed: 1,
					uses: 1,
					message:
						'Coupon "SPRING10" and its 3 codes were deleted (2 of them given to contacts, deleted with their history)',
				});
				expect(await run(async (s) => await s.findPool('SPRING10'))).toBeUndefined();
				const cards = await run(async (s) => await contactCards(s, ['ann@example.com'], T0));
				expect(cards.get('ann@example.com')).toEqual([]);
				expect(value((await validate([request(annCode)], T0 + 2))[0]).status).toBe('unknown');
			});

			it('deletes a coupon nobody holds a code of at once, and names the closest to an unknown name', async () => {
				await importList('WELCOME', ['W-1', 'W-2']);
				const [deleted] = (await remove('WELCOME', false)).map(value);
				expect(deleted.message).toBe('Coupon "WELCOME" and its 2 codes were deleted');
				await importList('SPRING10', ['S-1']);
				const [unknown] = await remove('SPRNG10', true);
				expect('error' in unknown && unknown.error.message).toBe(
					'No coupon is named "SPRNG10". The closest is "SPRING10".',
				);
			});
		});

		describe('create codes', () => {
			const create = async (requests: Array<Partial<CreateCodesRequest>>) =>
				await run(
					async (s) =>
						await createCodesForRun(
							s,
							requests.map((r) => ({
								couponName: 'BULK',
								count: 5,
								format: FORMAT,
								usesPerCode: 1,
								...r,
							})),
							T0,
						),
				);
			const SHOP_FORMAT: CodeFormat = {
				characters: UNAMBIGUOUS_CHARACTERS,
				length: 8,
				prefix: 'SHOP-',
				pattern: '####-???',
				checkCharacter: true,
			};

			it('makes unused codes in the format that Generate for Contact assigns as a list, failing when they run out', async () => {
				const [made] = await create([
					{ count: 3, format: SHOP_FORMAT, usesPerCode: 2, details: { discount: '10%' } },
				]);
				const created = value(made);
				expect(created).toMatchObject({
					couponName: 'BULK',
					created: 3,
					createdCoupon: true,
					poolSize: 3,
					available: 3,
					usesPerCode: 2,
				});
				expect(new Set(created.codes).size).toBe(3);
				for (const code of created.codes) {
					expect(code).toMatch(/^SHOP-[2-9]{4}-[A-HJKMNP-Z]{3}[2-9A-HJKMNP-Z]$/);
					expect(checkAgainstFormat(codeKey(code), SHOP_FORMAT)).toBe('fits');
				}
				const assigned = await give('bulk', ['ann', 'bob', 'cid', 'dan']);
				expect(assigned.slice(0, 3).sort()).toEqual([...created.codes].sort());
				expect(assigned[3]).toMatch(/^Coupon "BULK" has no unused codes left: 3 assigned/);
				const cards = await run(async (s) => await contactCards(s, ['ann'], T0));
				expect(cards.get('ann')![0]).toMatchObject({
					usesPerCode: 2,
					details: { discount: '10%' },
				});
			});

			it('adds codes to an imported list, noting the format of its newest codes', async () => {
				await importList('BULK', ['LIST-1', 'LIST-2']);
				const [made] = await create([{ count: 4, format: SHOP_FORMAT }]);
				expect(value(made)).toMatchObject({ created: 4, createdCoupon: false, poolSize: 6 });
				const pool = await run(async (s) => await s.findPool('BULK'));
				expect(pool).toMatchObject({ kind: 'imported', codeCount: 6, codeFormat: SHOP_FORMAT });
				const [again] = await create([{ count: 1, format: FORMAT }]);
				expect(value(again).poolSize).toBe(7);
				expect((await run(async (s) => await s.findPool('BULK')))!.codeFormat).toEqual(FORMAT);
			});

			it('refuses a generated coupon, a format with too few codes and a run past the limit, changing nothing', async () => {
				await give('A-GEN', ['ann']);
				const outcomes = await create([
					{ couponName: 'A-GEN' },
					{ couponName: 'A-TINY', count: 2, format: { ...FORMAT, pattern: '##-??' } },
					{ couponName: 'B-BIG', count: MAX_CODES_PER_RUN, format: { ...FORMAT, length: 10 } },
					{ couponName: 'C-ONE', count: 1 },
				]);
				expect('error' in outcomes[0] && outcomes[0].error.message).toBe(
					'Coupon "A-GEN" is a generated coupon: its codes are made as contacts get them, so codes cannot be created for it in advance',
				);
				expect('error' in outcomes[1] && outcomes[1].error.description).toMatch(/such as "##-\?+"/);
				// A run's codes are counted in coupon-name order: B-BIG's million leaves none for C-ONE.
				expect('value' in outcomes[2] && outcomes[2].value.created).toBe(MAX_CODES_PER_RUN);
				expect('error' in outcomes[3] && outcomes[3].error.message).toMatch(
					/^This run would create more than 1,000,000 codes over its items/,
				);
				const names = (await run(async (s) => await s.listPools())).map((pool) => pool.name);
				expect(names).toEqual(['A-GEN', 'B-BIG']);
				expect((await run(async (s) => await s.findPool('A-GEN')))!.codeCount).toBe(1);
				expect((await run(async (s) => await s.findPool('B-BIG')))!.codeCount).toBe(
					MAX_CODES_PER_RUN,
				);
			}, 120_000);

			it('answers typo for a mistyped code of a coupon with check characters, without it for other unknown codes', async () => {
				const created = value((await create([{ count: 2, format: SHOP_FORMAT }]))[0]);
				await give('BULK', ['ann']);
				const cards = await run(async (s) => await contactCards(s, ['ann'], T0));
				const { code } = cards.get('ann')![0];
				expect(created.codes).toContain(code);
				const key = codeKey(code);
				// One digit of the pattern typed wrong: still the shape, the check no longer matches.
				const wrongDigit = `SHOP-${key[4] === '9' ? '8' : '9'}${code.slice(6)}`;
				const wellFormed = codeKey(
					generateCodeNotIn(SHOP_FORMAT, new Set(created.codes.map(codeKey))),
				);
				const checks = await validate(
					[
						request(code.toLowerCase()),
						request(wrongDigit),
						request(wrongDigit, { couponName: 'bulk' }),
						request(wellFormed),
						request('SHOP-1'),
					],
					T0,
				);
				expect(checks.map((c) => value(c).status)).toEqual([
					'valid',
					'typo',
					'typo',
					'unknown',
					'unknown',
				]);
				expect(value(checks[1]).message).toBe(
					`The code ${wrongDigit} looks mistyped: it has the shape of coupon "BULK"'s codes but its check character does not match; ask the customer to check each character`,
				);
				const [redeemed] = await redeem([request(wrongDigit, { orderReference: 'o-1' })], T0);
				expect(value(redeemed)).toMatchObject({ accepted: false, status: 'typo' });
			});
		});

		describe('export codes', () => {
			const exported = async (
				status: ExportStatus,
				at: number,
				{ maxRows = Infinity, session = (s: CouponStoreSession) => s } = {},
			) => {
				const written: ExportCell[][] = [];
				const summary = await run(
					async (s) =>
						await exportCodes(session(s), { couponName: 'list', status, timeZone: 'UTC' }, at, {
							maxRows,
							tooManyRows: 'the test allows',
							write: async (rows) => void written.push(...rows),
						}),
				);
				const [header, ...rows] = written;
				return { summary, header, rows };
			};
			/** A moment as the export gives it in UTC, where the wall clock reads as the moment. */
			const date = (at: number) => ({ at, wallClock: at });
			const addCodes = async (codes: Array<{ code: string; details?: Details }>) =>
				await run(async (s) => {
					await s.createPool('LIST', 'imported', { usesPerCode: 1 });
					await s.addImported(
						'LIST',
						codes.map((code, i) => ({ ...code, key: codeKey(code.code), row: i + 2 })),
					);
				});

			it('lists the codes of each status, a page at a time, with holders, dates and details', async () => {
				const codes = Array.from({ length: EXPORT_PAGE + 3 }, (_, i) => `L-${i}`);
				await importList('LIST', codes);
				await run(async (s) => await s.setCouponDetails('LIST', { discount: '5%' }));
				const [ann, bob, cid] = await give('LIST', ['ann', 'bob', 'cid'], T0, 10);
				await redeem([request(ann, { orderReference: 'A-1' })], T0 + DAY_MS);
				await give('LIST', ['bob'], T0 + 2 * DAY_MS, 10, 'replace');
				const at = T0 + 11 * DAY_MS;
				const all = await exported('all', at);
				expect(all.summary).toEqual({ couponName: 'LIST', status: 'all', rows: codes.length });
				expect(all.header).toEqual([...FIXED_COLUMNS, 'discount']);
				expect(new Set(all.rows.map((row) => row[0]))).toEqual(new Set(codes));
				const byCode = new Map(all.rows.map((row) => [row[0], row]));
				expect(byCode.get(ann)).toEqual([
					ann,
					'redeemed',
					'ann',
					date(T0),
					date(T0 + 10 * DAY_MS),
					date(T0 + DAY_MS),
					'A-1',
					'5%',
				]);
				expect(byCode.get(bob)![1]).toBe('replaced');
				expect(byCode.get(cid)![1]).toBe('expired');
				const unused = codes.find((code) => ![ann, bob, cid].includes(code))!;
				expect(byCode.get(unused)).toEqual([unused, 'available', '', '', '', '', '', '5%']);
				const counts = new Map<string, number>();
				for (const [, status] of all.rows)
					counts.set(String(status), (counts.get(String(status)) ?? 0) + 1);
				expect(Object.fromEntries(counts)).toEqual({
					available: codes.length - 4,
					redeemed: 1,
					replaced: 1,
					expired: 1,
					active: 1,
				});
				for (const status of ['available', 'active', 'expired', 'redeemed', 'replaced'] as const) {
					const one = await exported(status, at);
					expect(one.rows.every((row) => row[1] === status)).toBe(true);
					expect(one.summary.rows).toBe(counts.get(status));
				}
			});

			it("gives each detail name a column, from every page, named apart from the export's own columns", async () => {
				// The codes of the first page carry the coupon's details only; one on the second page more.
				const first = Array.from({ length: EXPORT_PAGE }, (_, i) => ({
					code: `A-${String(i).padStart(5, '0')}`,
				}));
				await addCodes([
					...first,
					{ code: 'Z-1', details: { Discount: '7', 'free gift': true, note: null, level: 2 } },
				]);
				await run(
					async (s) => await s.setCouponDetails('LIST', { discount: 5, 'Valid Until': 'June' }),
				);
				const { header, rows } = await exported('available', T0);
				// By name; apart from the export's own columns and each other as Coupon Import compares
				// headers: case and spaces aside.
				expect(header).toEqual([
					...FIXED_COLUMNS,
					'discount',
					'Discount (detail)',
					'free gift',
					'level',
					'note',
					'Valid Until (detail)',
				]);
				const unused = [first[0].code, 'available', '', '', '', '', ''];
				expect(rows).toHaveLength(EXPORT_PAGE + 1);
				expect(rows[0]).toEqual([...unused, 5, '', '', '', '', 'June']);
				// A detail's cell shows what its placeholder would: true as text, null as nothing.
				expect(rows.at(-1)).toEqual(['Z-1', ...unused.slice(1), 5, '7', 'true', 2, '', 'June']);
			});

			it(`puts the details past ${MAX_DETAIL_COLUMNS} names into one column, as JSON`, async () => {
				const names = Array.from({ length: MAX_DETAIL_COLUMNS + 2 }, (_, i) => `n${i}`);
				const detailsOf = (some: string[]) =>
					Object.fromEntries(some.map((name) => [name, name.toUpperCase()]));
				await addCodes([
					{ code: 'A', details: detailsOf(names.slice(0, 50)) },
					{ code: 'B', details: detailsOf(names.slice(50, MAX_DETAIL_COLUMNS)) },
					{ code: 'C', details: detailsOf(['n0', ...names.slice(MAX_DETAIL_COLUMNS - 1)]) },
				]);
				await run(async (s) => await s.setCouponDetails('LIST', { 'Other Details': 'all' }));
				const { header, rows } = await exported('available', T0);
				const withColumns = names.slice(0, MAX_DETAIL_COLUMNS - 1);
				const byName = [...withColumns, 'Other Details'].sort((a, b) => a.localeCompare(b, 'en'));
				expect(header).toEqual([
					...FIXED_COLUMNS,
					...byName.map((name) => (name === 'Other Details' ? 'Other Details (detail)' : name)),
					OTHER_DETAILS_COLUMN,
				]);
				const row = (code: string, own: string[], other: string) => [
					code,
					'available',
					'',
					'',
					'',
					'',
					'',
					...byName.map((name) =>
						name === 'Other Details' ? 'all' : own.includes(name) ? name.toUpperCase() : '',
					),
					other,
				];
				expect(rows).toEqual([
					row('A', names.slice(0, 50), ''),
					row('B', names.slice(50, MAX_DETAIL_COLUMNS - 1), '{"n99":"N99"}'),
					row('C', ['n0'], '{"n99":"N99","n100":"N100","n101":"N101"}'),
				]);
			});

			it.each([
				['between the pass for their names and the rows', true],
				['after the store said none has any, while it writes the rows', false],
			])('refuses when codes gain details it has no column for %s', async (_when, namesPass) => {
				await importList('LIST', ['A', 'B']);
				let passes = 0;
				// Another run's import lands before the rows are written.
				const racing = (s: CouponStoreSession) => {
					const session = Object.create(s) as CouponStoreSession;
					session.hasCodeDetails = async () => namesPass;
					session.listCodes = async function* (name, pageSize) {
						passes++;
						for await (const page of s.listCodes(name, pageSize))
							yield namesPass && passes < 2
								? page
								: page.map((code) => ({ ...code, details: { late: 'x' } }));
					};
					return session;
				};
				await expect(exported('all', T0, { session: racing })).rejects.toThrow(
					'Coupon "LIST" changed while its codes were exported: code A has a detail "late" the file has no column for',
				);
				expect(passes).toBe(namesPass ? 2 : 1);
			});

			it('refuses more rows than the file can hold before writing any, and an unknown coupon', async () => {
				await importList('LIST', ['A', 'B', 'C']);
				const written: ExportCell[][] = [];
				await expect(
					run(
						async (s) =>
							await exportCodes(
								s,
								{ couponName: 'LIST', status: 'available', timeZone: 'UTC' },
								T0,
								{
									maxRows: 2,
									tooManyRows: 'the test allows',
									write: async (rows) => void written.push(...rows),
								},
							),
					),
				).rejects.toThrow('Coupon "LIST" has 3 available codes, more than the test allows');
				expect(written).toEqual([]);
				expect((await exported('available', T0, { maxRows: 3 })).summary.rows).toBe(3);
				await expect(
					run(
						async (s) =>
							await exportCodes(s, { couponName: 'NONE', status: 'all', timeZone: 'UTC' }, T0, {
								maxRows: 1,
								tooManyRows: '',
								write: async () => undefined,
							}),
					),
				).rejects.toThrow(/^No coupon is named "NONE"/);
			});
		});

		describe('import modes', () => {
			const sheet = (codes: string[]) => ({
				sheetName: 'S',
				rows: [['coupon value'], ...codes.map((code) => [code])],
				cell: (raw: unknown) => raw as string,
			});
			// Coupon Import's modes, as its operation turns them into settings and transactions.
			const importMode = async (codes: string[], mode: 'add' | 'replace' | 'dryRun') =>
				await importInto(
					fixture.open(),
					sheet(codes),
					{
						withdraw: mode !== 'add',
						nameColumn: 'coupon name',
						valueColumn: 'coupon value',
						couponName: 'LIST',
						maxRows: 1000,
						maxNewCoupons: 10,
						usesPerCode: 1,
						now: T0,
					},
					{ rollBack: mode === 'dryRun' },
				);

			it('adds, previews and replaces: held codes stay, unused codes the file does not list go', async () => {
				await importList('LIST', ['A-1', 'A-2', 'A-3', 'A-4']);
				const [held] = await give('LIST', ['ann']);
				const file = ['A-1', 'B-1'];
				const unlisted = ['A-1', 'A-2', 'A-3', 'A-4'].filter(
					(code) => code !== held && !file.includes(code),
				);
				const preview = await importMode(file, 'dryRun');
				expect(preview.pools[0]).toMatchObject({
					added: 1,
					duplicates: 1,
					withdrawn: unlisted.length,
				});
				const codesNow = async () =>
					(await run(async (s) => await listedCodes(s, 'LIST'))).codes
						.map((code) => code.code)
						.sort();
				expect(await codesNow()).toEqual(['A-1', 'A-2', 'A-3', 'A-4']);
				const replaced = await importMode(file, 'replace');
				expect(replaced.pools[0]).toMatchObject({
					added: 1,
					withdrawn: unlisted.length,
					poolSize: 5 - unlisted.length,
				});
				expect(await codesNow()).toEqual([...new Set(['A-1', 'B-1', held])].sort());
				const cards = await run(async (s) => await contactCards(s, ['ann'], T0));
				expect(cards.get('ann')![0].code).toBe(held);
			});

			it('refuses a Replace (and its Dry Run) that would leave no code to assign, changing nothing', async () => {
				await importList('LIST', ['A-1', 'A-2', 'A-3', 'A-4']);
				const given = await give('LIST', ['ann', 'bob']);
				// Last week's "redeemed" export: only codes contacts hold.
				const before = (await run(async (s) => await listedCodes(s, 'LIST'))).codes;
				const message = `Replace would leave coupon "LIST" with no code to assign: it would withdraw 2 codes nobody holds and keep only 2 that cannot be assigned, and of the 2 codes sheet "S" lists for it, 2 are held by contacts`;
				for (const mode of ['replace', 'dryRun'] as const)
					await expect(importMode(given, mode)).rejects.toThrow(message);
				expect((await run(async (s) => await listedCodes(s, 'LIST'))).codes).toEqual(before);
				expect(await run(async (s) => await s.countPool('LIST', T0, T0))).toMatchObject({
					available: 2,
				});
				// One unused code of the file is enough: it stays, the other unused one goes.
				const unused = ['A-1', 'A-2', 'A-3', 'A-4'].filter((code) => !given.includes(code));
				const replaced = await importMode([...given, unused[0]], 'replace');
				expect(replaced.pools[0]).toMatchObject({ withdrawn: 1, available: 1 });
				// A file that lists nothing usable is refused too, as is a new coupon without codes.
				await expect(importMode(['--'], 'replace')).rejects.toThrow(
					'Replace would leave coupon "LIST" with no code to assign: it would withdraw 1 code nobody holds and keep only 2 that cannot be assigned, and sheet "S" lists no usable code for it',
				);
			});

			it('counts an unused code past its own expiry as nothing to assign', async () => {
				await run(async (s) => {
					await s.createPool('LIST', 'imported');
					await s.addImported('LIST', [
						{ code: 'OLD-1', key: 'OLD1', row: 2, expiresAt: T0 - 1 },
						{ code: 'NEW-1', key: 'NEW1', row: 3 },
					]);
				});
				await expect(importMode(['OLD-1'], 'replace')).rejects.toThrow(
					'it would withdraw 1 code nobody holds and keep only 1 that cannot be assigned, and of the 1 code sheet "S" lists for it, 1 is past their own expiry',
				);
				expect(await run(async (s) => await s.countPool('LIST', T0, T0))).toMatchObject({
					available: 1,
					lapsed: 1,
				});
			});
		});
	});
}
