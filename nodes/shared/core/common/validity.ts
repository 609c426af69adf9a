import { CouponError } from './errors';
import { echo } from './names';
import { numberParameter } from './limits';
import type {
	AssignmentRecord,
	CouponTerms,
	Hold,
	PendingAssignment,
	RedemptionEntry,
} from '../storeContract';

export const DAY_MS = 24 * 60 * 60 * 1000;
export const MAX_VALID_DAYS = 3650;
export const MAX_USES_PER_CODE = 10_000;

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

/** Uses taken and not undone; data from before uses were counted holds one use when redeemed. */
export function usesOf(assignment: AssignmentRecord): number {
	return assignment.uses ?? (assignment.redeemedAt === undefined ? 0 : 1);
}

/** The code's uses, oldest first; data from before uses were counted holds its redemption alone. */
export function redemptionsOf(assignment: AssignmentRecord): RedemptionEntry[] {
	if (assignment.redemptions) return assignment.redemptions;
	if (assignment.redeemedAt === undefined) return [];
	const { redeemedAt: at, orderReference } = assignment;
	return [{ n: 1, at, ...(orderReference === undefined ? {} : { orderReference }) }];
}

/** The hold on the code that has not run out at `now`: an ended hold frees the code without a job. */
export function activeHold(assignment: AssignmentRecord, now: number): Hold | undefined {
	const { hold } = assignment;
	return hold && now < hold.until ? hold : undefined;
}

/** Usable now: neither replaced nor redeemed, and `now` strictly before validUntil. */
export function isActive(assignment: AssignmentRecord, now: number): boolean {
	return assignmentStatus(assignment, now) === 'active';
}

export function parseValidDays(raw: unknown): number {
	const days = numberParameter(raw);
	if (typeof days !== 'number' || !Number.isInteger(days) || days < 1 || days > MAX_VALID_DAYS) {
		throw new CouponError(
			'NUMBER_INVALID',
			`Valid (Days) must be a whole number from 1 to ${MAX_VALID_DAYS}; got ${echo(raw)}`,
			'Enter how many days each coupon stays usable after it is assigned, for example 30.',
		);
	}
	return days;
}

export function validUntilFor(assignedAt: number, validDays: number): number {
	return assignedAt + validDays * DAY_MS;
}

/** Uses per Code: how often each code of a new coupon can be redeemed. */
export function parseUsesPerCode(raw: unknown): number {
	return parseUses(
		raw,
		'Uses per Code',
		1,
		'Enter how many times each code can be redeemed, for example 1 for a single-use code.',
	);
}

/**
 * Uses per Code stored for a shared coupon that sets no cap for all customers together: the
 * integer columns' maximum, which no count of uses reaches.
 */
export const UNLIMITED_USES = 2_147_483_647;

/**
 * The uses a new coupon allows, from the options Uses per Code and Uses per Customer (missing when
 * the item did not add them). Uses per Customer from 1 makes the coupon shared; its Uses per Code
 * then caps all customers together, 0 or missing for no cap.
 */
export function parseCouponUses(
	rawPerCode: unknown,
	rawPerCustomer: unknown,
): Pick<CouponTerms, 'usesPerCode' | 'usesPerCustomer'> {
	const perCustomer =
		rawPerCustomer === undefined
			? 0
			: parseUses(
					rawPerCustomer,
					'Uses per Customer',
					0,
					'Enter how many times each customer may redeem the shared code, for example 1, or 0 for codes that each belong to one contact.',
				);
	if (perCustomer === 0) return { usesPerCode: parseUsesPerCode(rawPerCode ?? 1) };
	const perCode =
		rawPerCode === undefined
			? 0
			: parseUses(
					rawPerCode,
					'Uses per Code',
					0,
					'Enter how many times the shared code can be redeemed by all customers together, or 0 for no limit.',
				);
	return { usesPerCode: perCode === 0 ? UNLIMITED_USES : perCode, usesPerCustomer: perCustomer };
}

function parseUses(raw: unknown, name: string, min: number, fix: string): number {
	const uses = numberParameter(raw);
	if (typeof uses !== 'number' || !Number.isInteger(uses) || uses < min || uses > MAX_USES_PER_CODE)
		throw new CouponError(
			'NUMBER_INVALID',
			`${name} must be a whole number from ${min} to ${MAX_USES_PER_CODE}; got ${echo(raw)}`,
			fix,
		);
	return uses;
}

/**
 * The moment a code's own expiry must reach for it to be assigned to `pending`: the latest end of
 * validity asked for, or with `shortenToExpiry` just after the latest moment of assignment (such a
 * code is then valid until its expiry). A loop, not Math.max(...): a run may assign a million.
 */
export function expiryNeeded(pending: PendingAssignment[], shortenToExpiry: boolean): number {
	let needed = -Infinity;
	for (const p of pending)
		needed = Math.max(needed, shortenToExpiry ? p.assignedAt + 1 : p.validUntil);
	return needed;
}
