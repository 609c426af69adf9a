import type { CouponStoreSession } from './store';
import { closestNames } from './similarNames';

/**
 * A broken coupon rule or bad input, described for the person who has to fix it.
 * Core code throws this; the n8n layer turns it into a NodeOperationError with the item index.
 */
export class CouponError extends Error {
	constructor(
		message: string,
		readonly description?: string,
	) {
		super(message);
		this.name = 'CouponError';
	}
}

/**
 * The storage failed (a lost connection, a timeout) or another run got in the way (a deadlock, a
 * coupon created meanwhile). Unlike a CouponError, which concerns one item, it ends the whole
 * transaction: nothing of it was kept.
 */
export class StoreError extends Error {
	constructor(
		message: string,
		readonly description?: string,
	) {
		super(message);
		this.name = 'StoreError';
	}
}

/** What one request of a batch came to: its value, or the error that concerns it alone. */
export type Outcome<T> = { value: T } | { error: CouponError };

/** Runs `serve` for each request in order; a CouponError concerns that request alone. */
export async function outcomesOf<R, T>(
	requests: R[],
	serve: (request: R) => Promise<T>,
): Promise<Array<Outcome<T>>> {
	const outcomes: Array<Outcome<T>> = [];
	for (const request of requests) {
		try {
			outcomes.push({ value: await serve(request) });
		} catch (error) {
			if (!(error instanceof CouponError)) throw error;
			outcomes.push({ error });
		}
	}
	return outcomes;
}

const LISTED_NAMES = 10;

/** The names, quoted, as one list: "A", "B" and "C". */
export function quotedList(names: string[]): string {
	const quoted = names.map((name) => `"${name}"`);
	return quoted.length < 2
		? quoted.join('')
		: `${quoted.slice(0, -1).join(', ')} and ${quoted.at(-1)}`;
}

/**
 * What a user who typed a coupon name nobody has should know: the names closest to it, or else
 * the names there are (the first few), or that there are none.
 */
export function knownCouponsText(names: string[], wanted: string): string {
	if (names.length === 0) return 'There are no coupons yet';
	const closest = closestNames(names, wanted);
	if (closest.length > 0)
		return `The closest ${closest.length === 1 ? 'is' : 'are'} ${quotedList(closest)}`;
	const more = names.length - LISTED_NAMES;
	return more > 0
		? `The coupons are ${names
				.slice(0, LISTED_NAMES)
				.map((name) => `"${name}"`)
				.join(', ')} and ${more} more`
		: `The coupons are ${quotedList(names)}`;
}

/** "No coupon is named X", naming the closest names there are, so a typo is easy to spot. */
export async function unknownCoupon(
	session: CouponStoreSession,
	couponName: string,
	fix: string,
): Promise<CouponError> {
	const names = (await session.listPools()).map((pool) => pool.name);
	return new CouponError(
		`No coupon is named "${couponName}". ${knownCouponsText(names, couponName)}.`,
		fix,
	);
}
