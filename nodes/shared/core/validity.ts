import { CouponError } from './errors';

export const DAY_MS = 24 * 60 * 60 * 1000;
export const MAX_VALID_DAYS = 3650;

/** What a store keeps of one coupon handed to one contact. Times are epoch milliseconds. */
export interface AssignmentRecord {
	code: string;
	contactKey: string;
	assignedAt: number;
	validUntil: number;
	/** Set when "replace" ended this coupon before its time. */
	replacedAt?: number;
}

/** The one definition of "usable": not replaced and `now` strictly before validUntil. */
export function isActive(assignment: AssignmentRecord, now: number): boolean {
	return assignment.replacedAt === undefined && now < assignment.validUntil;
}

export function parseValidDays(raw: unknown): number {
	const days = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
	if (typeof days !== 'number' || !Number.isInteger(days) || days < 1 || days > MAX_VALID_DAYS) {
		throw new CouponError(
			`Valid (Days) must be a whole number from 1 to ${MAX_VALID_DAYS}; got ${JSON.stringify(raw)}`,
			'Enter how many days each coupon stays usable after it is handed out, for example 30.',
		);
	}
	return days;
}

export function validUntilFor(assignedAt: number, validDays: number): number {
	return assignedAt + validDays * DAY_MS;
}
