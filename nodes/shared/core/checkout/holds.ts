import type { CouponStoreSession, StoredCode } from '../storeContract';
import type { AssignmentView } from '../assign/assignmentView';
import {
	check,
	checkOf,
	checkoutView,
	decideOnCodes,
	isoTime,
	judge,
	assignedCandidates,
	type CodeRequest,
	type CodeStatus,
} from './checkout';
import { isShared } from '../codes/sharedCodes';
import { CouponError, type Outcome } from '../common/errors';
import { echo } from '../common/names';
import { numberParameter } from '../common/limits';
import { activeHold } from '../common/validity';

export const DEFAULT_HOLD_MINUTES = 15;
/** A week: long enough for a bank transfer, short enough that a forgotten hold frees the code. */
export const MAX_HOLD_MINUTES = 7 * 24 * 60;
const MINUTE_MS = 60_000;

export interface ReserveRequest extends CodeRequest {
	orderReference: string;
	holdMinutes: number;
}

export interface ReleaseRequest extends CodeRequest {
	orderReference: string;
}

export interface Reservation {
	code: string;
	/** True when the code is now held for the order (status `held`). */
	held: boolean;
	/** `held`, or why the code cannot be held: as Validate Code says (`reserved`: held for another order). */
	status: 'held' | Exclude<CodeStatus, 'valid'>;
	message: string;
	/** When the hold ends by itself; null when the code is not held for this order. */
	heldUntil: string | null;
	coupon: AssignmentView | null;
}

export interface Release {
	code: string;
	/** True when this call ended the order's hold. */
	released: boolean;
	/**
	 * `released`; `not_held` when no hold is running (never held, released, run out or redeemed);
	 * `reserved` when another order holds it (left running).
	 */
	status: 'released' | 'not_held' | 'reserved' | 'unknown' | 'ambiguous';
	message: string;
	coupon: AssignmentView | null;
}

/** Hold For as whole minutes, or a CouponError. */
export function parseHoldMinutes(raw: unknown): number {
	const minutes = numberParameter(raw);
	if (
		typeof minutes !== 'number' ||
		!Number.isInteger(minutes) ||
		minutes < 1 ||
		minutes > MAX_HOLD_MINUTES
	)
		throw new CouponError(
			'NUMBER_INVALID',
			`Hold For must be a whole number of minutes from 1 to ${MAX_HOLD_MINUTES}; got ${echo(raw)}`,
			`Enter how long the payment may take, for example ${DEFAULT_HOLD_MINUTES} minutes.`,
		);
	return minutes;
}

/**
 * Holds each code that can be used now for its order until the time asked for; holding again for
 * the same order extends the hold. While it runs, Validate and Redeem by other orders answer
 * `reserved`; Redeem by the same order confirms it, Release ends it, and it ends by itself when its
 * time is up. Codes stay locked until the session ends, so of two runs holding one code for
 * different orders, exactly one holds it.
 */
export async function reserveCodes(
	session: CouponStoreSession,
	requests: ReserveRequest[],
	now: number,
): Promise<Array<Outcome<Reservation>>> {
	return await decideOnCodes(session, requests, (request, found, writes): Reservation => {
		const verdict = judge(found, request, now);
		const { status, stored } = verdict;
		if (status !== 'valid') {
			const { code, message, coupon } = checkOf(verdict, request, now);
			return { code, held: false, status, message, heldUntil: null, coupon };
		}
		const { code } = request;
		if (isShared(stored!.terms))
			throw new CouponError(
				'CODE_SHARED',
				`Code ${code} of coupon "${stored!.couponName}" is shared: every customer uses it, so it cannot be held for one order`,
				"Check the code with Validate (with Contact) before the payment and Redeem it after; the customer's uses are counted at Redeem.",
			);
		const { assignment } = stored!;
		const extended = activeHold(assignment!, now) !== undefined;
		const until = now + request.holdMinutes * MINUTE_MS;
		writes.setHold(stored!, { orderReference: request.orderReference, until });
		return {
			code,
			held: true,
			status: 'held',
			message: `Code ${request.code} of coupon "${stored!.couponName}" is ${extended ? 'still ' : ''}held for order ${request.orderReference} until ${isoTime(until)}`,
			heldUntil: isoTime(until),
			coupon: checkoutView(stored, request, now),
		};
	});
}

/**
 * Ends each code's hold for the order. No hold running is an answer (`not_held`), so a payment
 * failure reported twice is harmless; a hold for another order is left running (`reserved`).
 */
export async function releaseCodes(
	session: CouponStoreSession,
	requests: ReleaseRequest[],
	now: number,
): Promise<Array<Outcome<Release>>> {
	return await decideOnCodes(session, requests, (request, found, writes): Release => {
		const { code, orderReference } = request;
		const candidates = assignedCandidates(found, request);
		const answer = (status: Release['status'], message: string, stored?: StoredCode): Release => ({
			code,
			released: status === 'released',
			status,
			message,
			coupon: checkoutView(stored, request, now),
		});
		if (candidates.length === 0) {
			const { status, message } = check(found, request, now).result;
			return answer(status === 'unknown' ? 'unknown' : 'not_held', message);
		}
		const held = candidates.filter(({ assignment }) => activeHold(assignment!, now));
		const mine = held.filter(
			({ assignment }) => assignment!.hold!.orderReference === orderReference,
		);
		if (mine.length > 1)
			return answer(
				'ambiguous',
				`The code ${code} is held for order ${orderReference} in ${mine.length} coupons; set Coupon Name in the options`,
			);
		if (mine.length === 1) {
			writes.setHold(mine[0], undefined);
			return answer(
				'released',
				`Code ${code} of coupon "${mine[0].couponName}" is no longer held for order ${orderReference}`,
				mine[0],
			);
		}
		if (held.length > 0)
			return answer(
				'reserved',
				`Code ${code} is held for another order, not for order ${orderReference}; the hold was left as it is`,
				held.length === 1 ? held[0] : undefined,
			);
		const only = candidates.length === 1 ? candidates[0] : undefined;
		return answer(
			'not_held',
			`Code ${code} is not held for any order now; nothing to release`,
			only,
		);
	});
}
