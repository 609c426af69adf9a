import type { AssignmentRecord } from './store';
import { assignmentStatus, type AssignmentStatus } from './validity';

/** A coupon as the operations output it: the contact card, and the coupon a checked code belongs to. */
export interface AssignmentView {
	name: string;
	code: string;
	status: AssignmentStatus;
	assignedAt: string;
	validUntil: string;
	redeemedAt: string | null;
	orderReference: string | null;
}

const isoOrNull = (ms: number | undefined) =>
	ms === undefined ? null : new Date(ms).toISOString();

export function viewAssignment(
	name: string,
	assignment: AssignmentRecord,
	now: number,
): AssignmentView {
	return {
		name,
		code: assignment.code,
		status: assignmentStatus(assignment, now),
		assignedAt: new Date(assignment.assignedAt).toISOString(),
		validUntil: new Date(assignment.validUntil).toISOString(),
		redeemedAt: isoOrNull(assignment.redeemedAt),
		orderReference: assignment.orderReference ?? null,
	};
}
