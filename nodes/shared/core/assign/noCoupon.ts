import type { ErrorCode } from '../common/errorCodes';
import { NoCouponError, type NoCouponReason, type Outcome } from '../common/errors';
import { parseChoice } from '../common/names';
import { parseCode } from '../codes/codes';
import type { AssignmentOutcome, AssignmentRequest, AssignmentResult } from './assign';

/** What Generate for Contact does for a contact the coupon has no code for. */
export type NoCouponAction = 'fail' | 'noCouponOutput' | 'fallbackCode';
export const NO_COUPON_ACTIONS: readonly NoCouponAction[] = [
	'fail',
	'noCouponOutput',
	'fallbackCode',
];

/** Why a contact got no coupon, as its item carries it. */
export interface NoCoupon {
	couponName: string;
	/** The contact as stored (trimmed, lower case). */
	contact: string;
	reason: NoCouponReason;
	/** The error code the item would have failed with (`COUPON_EXHAUSTED`, `LENGTH_TOO_SHORT`). */
	errorCode: ErrorCode;
	message: string;
}

/** The fixed code given in place of a coupon: never stored, so nobody holds it and it has no dates. */
export interface FallbackCoupon extends Omit<
	AssignmentResult,
	'assignedAt' | 'validUntil' | 'source'
> {
	assignedAt: null;
	validUntil: null;
	source: 'fallback';
}

/** If No Coupon Is Available as an item set it: the choice, and for `fallbackCode` the code. */
export type NoCouponSetting =
	| { action: 'fail' }
	| { action: 'noCouponOutput' }
	| { action: 'fallbackCode'; fallbackCode: string };

/** A request of Generate for Contact: the contact, the coupon, and what to do if it has no code. */
export interface GenerateRequest extends AssignmentRequest {
	ifNoCoupon: NoCouponSetting;
}

/** A contact's answer: its coupon, or why it has none (with the fallback code, when one is given). */
export type GenerateAnswer =
	| { coupon: AssignmentResult }
	| { noCoupon: NoCoupon }
	| { coupon: FallbackCoupon; noCoupon: NoCoupon };

/** The fallback code as entered (trimmed), or a CouponError that says what to enter. */
const parseFallbackCode = (raw: unknown): string =>
	parseCode(
		raw,
		'The fallback code',
		'Enter the code to send when no coupon is available, such as SORRY10, or choose another If No Coupon Is Available.',
	).code;

/**
 * The answers to Generate for Contact's requests once each request's If No Coupon Is Available has
 * settled those the coupon had no code for. With `fail` they stay errors; otherwise each becomes an
 * answer that says why, with the fallback code for `fallbackCode`. Any other error stays an error:
 * bad input is never a branch.
 */
export function settleNoCoupons(
	requests: GenerateRequest[],
	outcomes: AssignmentOutcome[],
): Array<Outcome<GenerateAnswer>> {
	return outcomes.map((outcome, i) => {
		if ('value' in outcome) return { value: { coupon: outcome.value } };
		const { error } = outcome;
		const setting = requests[i].ifNoCoupon;
		if (setting.action === 'fail' || !(error instanceof NoCouponError)) return outcome;
		const noCoupon = noCouponOf(error, requests[i]);
		if (setting.action === 'noCouponOutput') return { value: { noCoupon } };
		return { value: { coupon: fallbackCoupon(noCoupon, setting.fallbackCode), noCoupon } };
	});
}

/** Why the request's contact got no code of its coupon. */
export const noCouponOf = (
	error: NoCouponError,
	{ settings, contactKey }: AssignmentRequest,
): NoCoupon => ({
	couponName: settings.couponName,
	contact: contactKey,
	reason: error.reason,
	errorCode: error.code,
	message: error.message,
});

/** The fallback code as the coupon a contact got instead of one of its own. */
export const fallbackCoupon = (
	{ couponName, contact }: NoCoupon,
	code: string,
): FallbackCoupon => ({
	name: couponName,
	code,
	contact,
	assignedAt: null,
	validUntil: null,
	source: 'fallback',
	reused: false,
	details: {},
});

/**
 * If No Coupon Is Available as one of its choices, with its fallback code read by `fallbackCode`
 * only when chosen; or a CouponError.
 */
export function parseNoCouponSetting(raw: unknown, fallbackCode: () => unknown): NoCouponSetting {
	const action = parseChoice(raw, NO_COUPON_ACTIONS, 'If No Coupon Is Available', 'fail');
	return action === 'fallbackCode'
		? { action, fallbackCode: parseFallbackCode(fallbackCode()) }
		: { action };
}

/** Whether an answer goes to the "No Coupon" output: it has no code at all. */
export const goesToNoCouponOutput = (answer: GenerateAnswer): boolean => !('coupon' in answer);
