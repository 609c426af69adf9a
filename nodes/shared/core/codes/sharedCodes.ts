import type {
	AssignmentRecord,
	CouponStoreSession,
	CouponTerms,
	PendingAssignment,
	OfCoupon,
	PoolInfo,
	RedemptionEntry,
} from '../storeContract';
import { SHARED_HOLDER } from '../storeContract';
import { CouponError } from '../common/errors';
import { redemptionsOf, UNLIMITED_USES, usesOf } from '../common/validity';

/**
 * When a shared code without an expiry of its own ends: the last moment that every store and an ISO
 * date can hold.
 */
export const SHARED_CODE_END = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** Codes shared at a time: the pending assignments of a batch are held in memory. */
const SHARE_BATCH = 1_000;

/** The terms of a shared coupon. */
export type SharedTerms = CouponTerms & { usesPerCustomer: number };

export const isShared = (terms: CouponTerms): terms is SharedTerms =>
	terms.usesPerCustomer !== undefined;

/** The uses of the code this customer took and did not undo. */
export const usesByCustomer = (
	assignment: AssignmentRecord,
	contactKey: string,
): RedemptionEntry[] =>
	redemptionsOf(assignment).filter(
		(entry) => entry.undoneAt === undefined && entry.contactKey === contactKey,
	);

/**
 * Makes every unused code of a shared coupon shared: held by `SHARED_HOLDER` from `now`, valid until
 * its own expiry or `SHARED_CODE_END`. Codes past their expiry stay unused (lapsed). Returns how
 * many it shared. Create Codes and Coupon Import call it after adding a shared coupon's codes.
 */
export async function shareUnusedCodes(
	session: CouponStoreSession,
	pool: PoolInfo,
	now: number,
): Promise<number> {
	if (!isShared(pool)) return 0;
	const pending: PendingAssignment[] = Array.from({ length: SHARE_BATCH }, () => ({
		contactKey: SHARED_HOLDER,
		assignedAt: now,
		validUntil: SHARED_CODE_END,
	}));
	let shared = 0;
	for (;;) {
		const batch = await session.assignImported(pool.name, pending, true);
		shared += batch.length;
		if (batch.length < SHARE_BATCH) return shared;
		await session.turns.share();
	}
}

/** How a shared coupon's uses read in messages: "2 uses per customer, 100 in all". */
export function sharedUsesText(terms: SharedTerms): string {
	const perCustomer = `${terms.usesPerCustomer} use${terms.usesPerCustomer === 1 ? '' : 's'} per customer`;
	return terms.usesPerCode === UNLIMITED_USES
		? perCustomer
		: `${perCustomer}, ${terms.usesPerCode} in all`;
}

/** Generate for Contact and Render cannot give a shared coupon's code to one contact. */
export function sharedCouponError(pool: PoolInfo & SharedTerms): CouponError {
	return new CouponError(
		'CODE_SHARED',
		`Coupon "${pool.name}" is shared (${sharedUsesText(pool)}): its codes belong to no contact, so none can be assigned`,
		'Write the shared code into the message as it is, or use a coupon without Uses per Customer for codes that each belong to one contact.',
	);
}

/** A shared code checked without the customer, whose uses it counts. */
export function contactRequired(stored: OfCoupon, code: string): CouponError {
	return new CouponError(
		'CONTACT_REQUIRED',
		`Code ${code} of coupon "${stored.couponName}" is shared (${sharedUsesText(stored.terms as SharedTerms)}), so the step must know the customer`,
		'Add the Contact option and map it to the customer, such as {{ $json.body.email }}.',
	);
}

/** "once, the most each customer may" */
export function perCustomerText(terms: CouponTerms): string {
	const times = terms.usesPerCustomer === 1 ? 'once' : `${terms.usesPerCustomer} times`;
	return `${times}, the most each customer may`;
}

/** ", with 1 of 2 uses left for this customer": what the customer's uses and the total cap leave. */
export function customerUsesLeftText(
	terms: SharedTerms,
	assignment: AssignmentRecord,
	contactKey: string | undefined,
): string {
	const left = Math.min(
		terms.usesPerCustomer - usesByCustomer(assignment, contactKey ?? '').length,
		terms.usesPerCode - usesOf(assignment),
	);
	return `, with ${left} of ${terms.usesPerCustomer} use${terms.usesPerCustomer === 1 ? '' : 's'} left for this customer`;
}
