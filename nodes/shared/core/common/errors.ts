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
