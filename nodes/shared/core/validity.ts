import { CouponError } from './errors';
import type { AssignmentRecord } from './store';

export const DAY_MS = 24 * 60 * 60 * 1000;
export const MAX_VALID_DAYS = 3650;

/** What became of a coupon a contact was given. */
export type AssignmentStatus = 'active' | 'expired' | 'redeemed' | 'replaced';

/**
 * The one definition of a coupon's state. "Replace" and redemption each need an active coupon,
 * so a coupon is never both; expiry applies only to one that is neither.
 * PostgresStore.countPool classifies rows in SQL the same way (the contract suite checks both).
 */
export function assignmentStatus(assignment: AssignmentRecord, now: number): AssignmentStatus {
	if (assignment.replacedAt !== undefined) return 'replaced';
	if (assignment.redeemedAt !== undefined) return 'redeemed';
	return now < assignment.validUntil ? 'active' : 'expired';
}

/** Usable now: neither replaced nor redeemed, and `now` strictly before validUntil. */
export function isActive(assignment: AssignmentRecord, now: number): boolean {
	return assignmentStatus(assignment, now) === 'active';
}

export function parseValidDays(raw: unknown): number {
	const days = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
	if (typeof days !== 'number' || !Number.isInteger(days) || days < 1 || days > MAX_VALID_DAYS) {
		throw new CouponError(
			`Valid (Days) must be a whole number from 1 to ${MAX_VALID_DAYS}; got ${JSON.stringify(raw)}`,
			'Enter how many days each coupon stays usable after it is assigned, for example 30.',
		);
	}
	return days;
}

export function validUntilFor(assignedAt: number, validDays: number): number {
	return assignedAt + validDays * DAY_MS;
}
