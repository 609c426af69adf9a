import type { ErrorCode } from './errorCodes';

/**
 * A broken coupon rule or bad input, described for the person who has to fix it.
 * Core code throws this; the n8n layer turns it into a NodeOperationError with the item index.
 */
export class CouponError extends Error {
	constructor(
		/** Its stable code (errorCodes.ts), which workflows may branch on. */
		readonly code: ErrorCode,
		message: string,
		readonly description?: string,
	) {
		super(message);
		this.name = 'CouponError';
	}
}

/** Why a contact could get no code of a coupon: the "No Coupon" output's `reason`. */
export type NoCouponReason = 'exhausted' | 'expires_too_soon' | 'length_too_short';

/**
 * A CouponError that means the coupon had no code to give the contact: its list is used up, its
 * codes end too soon, or its codes are too short for one more. A workflow may branch on it instead
 * of failing the item (Generate for Contact's If No Coupon Is Available).
 */
export class NoCouponError extends CouponError {
	constructor(
		readonly reason: NoCouponReason,
		code: ErrorCode,
		message: string,
		description?: string,
	) {
		super(code, message, description);
	}
}

/**
 * The storage failed (a lost connection, a timeout) or another run got in the way (a deadlock, a
 * coupon created meanwhile). Unlike a CouponError, which concerns one item, it ends the whole
 * transaction: nothing of it was kept.
 */
export class StoreError extends Error {
	constructor(
		readonly code: ErrorCode,
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
