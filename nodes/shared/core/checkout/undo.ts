import type { CouponStoreSession, RedemptionEntry, StoredCode } from '../storeContract';
import type { AssignmentView } from '../assign/assignmentView';
import {
	check,
	decideOnCodes,
	viewOf,
	isoTime,
	assignedCandidates,
	untilText,
	usesLeftText,
	type CodeRequest,
} from './checkout';
import { CouponError, type Outcome } from '../common/errors';
import {
	compareCouponNames,
	describeCharacter,
	textParameter,
	UNSAFE_CHARACTER,
} from '../common/names';
import { assignmentStatus, redemptionsOf } from '../common/validity';
import { isShared } from '../codes/sharedCodes';

export const MAX_UNDO_REASON_LENGTH = 500;

export interface UndoRequest extends CodeRequest {
	reason?: string;
}

export interface Undo {
	code: string;
	/** True when this call gave a use back. */
	undone: boolean;
	/**
	 * `undone`; `not_redeemed` when the code has no use to give back, `already_undone` when the use
	 * asked for was given back before, `other_order` when its uses were for other orders than the
	 * one named, `unknown` or `ambiguous` as Validate Code says.
	 */
	status: 'undone' | 'not_redeemed' | 'already_undone' | 'other_order' | 'unknown' | 'ambiguous';
	message: string;
	coupon: AssignmentView | null;
}

/** The trimmed reason, undefined when empty, or a CouponError. */
export function parseUndoReason(raw: unknown): string | undefined {
	const fix =
		'Enter why the redemption is undone, such as "order refunded", or map it from the order.';
	const reason = textParameter(raw, 'The reason', fix);
	if (reason === '') return undefined;
	const unsafe = UNSAFE_CHARACTER.exec(reason);
	if (reason.length > MAX_UNDO_REASON_LENGTH || unsafe)
		throw new CouponError(
			'TEXT_INVALID',
			`The reason ${unsafe ? `contains ${describeCharacter(unsafe[0])}` : `is longer than ${MAX_UNDO_REASON_LENGTH} characters`}`,
			fix,
		);
	return reason;
}

/** The code's newest use that is not undone, for the request's order if it names one. */
/**
 * The uses of a code this request may undo: of its order, if it names one, and on a shared code of
 * its customer; oldest first.
 */
function usesFor({ assignment, terms }: StoredCode, request: CodeRequest): RedemptionEntry[] {
	const { orderReference, contactKey } = request;
	const shared = isShared(terms);
	return redemptionsOf(assignment!).filter(
		(entry) =>
			(orderReference === undefined || entry.orderReference === orderReference) &&
			(!shared || contactKey === undefined || entry.contactKey === contactKey),
	);
}

const openUse = (stored: StoredCode, request: CodeRequest) =>
	usesFor(stored, request)
		.filter((entry) => entry.undoneAt === undefined)
		.at(-1);

export async function undoRedemptions(
	session: CouponStoreSession,
	requests: UndoRequest[],
	now: number,
): Promise<Array<Outcome<Undo>>> {
	return await decideOnCodes(session, requests, (request, found, writes): Undo => {
		const { code, orderReference } = request;
		const forOrder = orderReference === undefined ? '' : ` for order ${orderReference}`;
		// The newest use of a shared code is any customer's: which one is undone must be named, unless
		// another coupon's code of the key has a use to undo.
		const unnamed = orderReference === undefined && request.contactKey === undefined;
		const candidates = assignedCandidates(found, request);
		const assigned = unnamed ? candidates.filter(({ terms }) => !isShared(terms)) : candidates;
		const shared = candidates.find(({ terms }) => isShared(terms));
		if (unnamed && shared && !assigned.some((stored) => openUse(stored, request)))
			throw new CouponError(
				'CONTACT_REQUIRED',
				`Code ${code} of coupon "${shared.couponName}" is shared, so the step must know whose use to undo`,
				'Set Order Reference to the refunded order, or add the Contact option mapped to the customer.',
			);
		const answer = (
			status: Undo['status'],
			message: string,
			stored?: StoredCode,
			use?: RedemptionEntry,
		): Undo => ({
			code,
			undone: status === 'undone',
			status,
			message,
			// A shared code's answer lists the uses of the customer whose use it concerns.
			coupon: viewOf(stored, now, request.contactKey ?? use?.contactKey),
		});
		if (assigned.length === 0) {
			const { status, message } = check(found, request, now).result;
			return answer(status === 'unknown' ? 'unknown' : 'not_redeemed', message);
		}
		const open = assigned.filter((stored) => openUse(stored, request));
		if (open.length > 1)
			return answer(
				'ambiguous',
				`The code ${code} was redeemed${forOrder} in ${open.length} coupons (${open
					.map((s) => s.couponName)
					.sort(compareCouponNames)
					.map((name) => `"${name}"`)
					.join(', ')}); set Coupon Name in the options`,
			);
		if (open.length === 1) {
			const [stored] = open;
			const use = openUse(stored, request)!;
			writes.undoUse(stored, use.n, request.reason, now);
			return answer(
				'undone',
				`The use of code ${code} of coupon "${stored.couponName}"${use.orderReference === undefined ? '' : ` for order ${use.orderReference}`} is undone; ${afterUndo(stored, now, use.contactKey)}`,
				stored,
				use,
			);
		}
		const only = assigned.length === 1 ? assigned[0] : undefined;
		const history = assigned.flatMap((stored) =>
			usesFor(stored, { ...request, orderReference: undefined }),
		);
		if (history.length === 0)
			return answer(
				'not_redeemed',
				`Code ${code} was never redeemed${only && isShared(only.terms) && request.contactKey !== undefined ? ' by this customer' : ''}`,
				only,
			);
		if (orderReference === undefined || history.some((e) => e.orderReference === orderReference))
			return answer(
				'already_undone',
				`Every use of code ${code}${forOrder} was undone already; nothing to undo`,
				only,
			);
		return answer(
			'other_order',
			`Code ${code} was not redeemed for order ${orderReference}: its uses were for other orders, so nothing was undone`,
			only,
		);
	});
}

/** What the code is after a use was given back. */
function afterUndo(stored: StoredCode, now: number, contactKey: string | undefined): string {
	const assignment = stored.assignment!;
	switch (assignmentStatus(assignment, now)) {
		case 'active':
			return `it is usable again${untilText(assignment)}${usesLeftText(stored, contactKey)}`;
		case 'expired':
			return `it expired on ${isoTime(assignment.validUntil)}, so it stays unusable`;
		case 'replaced':
			return `it was replaced by a newer coupon on ${isoTime(assignment.replacedAt)}, so it stays unusable`;
		case 'redeemed':
			// A use given back never leaves the code redeemed: undoUse clears it.
			throw new Error('A code stayed redeemed after a use was given back');
	}
}
