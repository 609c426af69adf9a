import type { AssignmentRecord, Details, OfCoupon } from '../storeContract';
import { mergedDetails } from '../common/details';
import { isShared } from '../codes/sharedCodes';
import {
	activeHold,
	assignmentStatus,
	redemptionsOf,
	UNLIMITED_USES,
	usesOf,
	type AssignmentStatus,
} from '../common/validity';

/** One use of a code as the outputs show it. */
export interface RedemptionView {
	redeemedAt: string;
	orderReference: string | null;
	undoneAt: string | null;
	undoReason: string | null;
}

/** A coupon as the operations output it: the contact card, and the coupon a checked code belongs to. */
export interface AssignmentView {
	name: string;
	code: string;
	status: AssignmentStatus;
	assignedAt: string;
	validUntil: string;
	/** When the last use was taken: set while the status is `redeemed`. */
	redeemedAt: string | null;
	/** The order of the newest use that is not undone. */
	orderReference: string | null;
	/** Null for a shared code that all customers together may use without limit. */
	usesPerCode: number | null;
	/** Uses taken and not undone (of a shared code: by all customers). */
	uses: number;
	/** Null where usesPerCode is. */
	usesLeft: number | null;
	/** Set for a shared code: how often each customer may use it. */
	usesPerCustomer: number | null;
	/** Of a shared code shown to a customer: their uses, taken and not undone; null otherwise. */
	customerUses: number | null;
	/** The checkout holding the code now, if any; its order is null when shown to another order. */
	hold: { orderReference: string | null; until: string } | null;
	/** The coupon's details with the code's own over them. */
	details: Details;
	/** Every use, undone ones included, oldest first; of a shared code, this customer's only. */
	redemptions: RedemptionView[];
}

const isoOrNull = (ms: number | undefined) =>
	ms === undefined ? null : new Date(ms).toISOString();

/**
 * The coupon of an assignment as the outputs show it. `forOrder` is set when the answer goes to
 * one order at checkout (Validate, Redeem, Reserve, Release): references of other orders, of a
 * hold or of uses, are then null, so that a checkout never learns another customer's order. A
 * shared code's view shows the uses of `customer` only, and none without one.
 */
export function viewAssignment(
	{ couponName, terms }: OfCoupon,
	assignment: AssignmentRecord,
	now: number,
	forOrder?: { orderReference?: string },
	customer?: string,
): AssignmentView {
	const shared = isShared(terms);
	// A shared code's uses are every customer's: a view shows one customer's alone.
	const redemptions = shared
		? redemptionsOf(assignment).filter(
				(entry) => customer !== undefined && entry.contactKey === customer,
			)
		: redemptionsOf(assignment);
	const uses = usesOf(assignment);
	const unlimited = terms.usesPerCode === UNLIMITED_USES;
	const hold = activeHold(assignment, now);
	const latestUse = redemptions.filter((entry) => entry.undoneAt === undefined).at(-1);
	const shown = (reference: string | undefined): string | null =>
		reference === undefined || (forOrder !== undefined && reference !== forOrder.orderReference)
			? null
			: reference;
	return {
		name: couponName,
		code: assignment.code,
		status: assignmentStatus(assignment, now),
		assignedAt: new Date(assignment.assignedAt).toISOString(),
		validUntil: new Date(assignment.validUntil).toISOString(),
		redeemedAt: isoOrNull(assignment.redeemedAt),
		orderReference: shown(latestUse?.orderReference),
		usesPerCode: unlimited ? null : terms.usesPerCode,
		uses,
		usesLeft: unlimited ? null : Math.max(0, terms.usesPerCode - uses),
		usesPerCustomer: terms.usesPerCustomer ?? null,
		customerUses:
			shared && customer !== undefined
				? redemptions.filter((entry) => entry.undoneAt === undefined).length
				: null,
		hold: hold
			? { orderReference: shown(hold.orderReference), until: isoOrNull(hold.until)! }
			: null,
		details: mergedDetails(terms.details, assignment.details),
		redemptions: redemptions.map((entry) => ({
			redeemedAt: isoOrNull(entry.at)!,
			orderReference: shown(entry.orderReference),
			undoneAt: isoOrNull(entry.undoneAt),
			undoReason: entry.undoReason ?? null,
		})),
	};
}
