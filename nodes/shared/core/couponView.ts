import type { AssignmentRecord } from './store';
import { couponStatus, type CouponStatus } from './validity';

/** A coupon as the operations output it: the contact card, and the coupon a checked code belongs to. */
export interface CouponView {
	name: string;
	code: string;
	status: CouponStatus;
	assignedAt: string;
	validUntil: string;
	redeemedAt: string | null;
	orderReference: string | null;
}

const isoOrNull = (ms: number | undefined) =>
	ms === undefined ? null : new Date(ms).toISOString();

export function viewCoupon(name: string, assignment: AssignmentRecord, now: number): CouponView {
	return {
		name,
		code: assignment.code,
		status: couponStatus(assignment, now),
		assignedAt: new Date(assignment.assignedAt).toISOString(),
		validUntil: new Date(assignment.validUntil).toISOString(),
		redeemedAt: isoOrNull(assignment.redeemedAt),
		orderReference: assignment.orderReference ?? null,
	};
}
