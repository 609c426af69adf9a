import type { CouponStoreSession, RedeemedCode, StoredCode } from './store';
import { viewAssignment, type AssignmentView } from './assignmentView';
import { CouponError, outcomesOf, unknownCoupon, type Outcome } from './errors';
import { parseCheckoutCode } from './codes';
import {
	couponNameKey,
	describeCharacter,
	parseContact,
	parseCouponName,
	textParameter,
	UNSAFE_CHARACTER,
} from './names';
import { assignmentStatus } from './validity';

/** Why a code can or cannot be used now. */
export type CodeStatus =
	| 'valid'
	| 'unknown'
	| 'not_assigned'
	| 'other_contact'
	| 'expired'
	| 'redeemed'
	| 'replaced'
	| 'ambiguous';

export interface CodeRequest {
	/** The code as the customer typed it, trimmed. */
	code: string;
	/** Its `codeKey`: codes match trimmed, case-insensitively, with separators ignored. */
	key: string;
	/** When given, the code must be held by this contact. */
	contactKey?: string;
	/** When given, only this coupon's codes count. */
	couponName?: string;
}

export interface RedeemRequest extends CodeRequest {
	orderReference?: string;
}

export interface CodeCheck {
	code: string;
	/** True when the code can be used now (status `valid`). */
	valid: boolean;
	status: CodeStatus;
	/** The status in words, naming the coupon and the relevant date. */
	message: string;
	/** The coupon the code belongs to; null when no coupon (of the given name) has it, nobody holds it, or someone else does. */
	coupon: AssignmentView | null;
}

export interface Redemption extends Omit<CodeCheck, 'valid' | 'status'> {
	accepted: boolean;
	/** `accepted`, or why the code was refused. */
	status: 'accepted' | Exclude<CodeStatus, 'valid'>;
}

export const MAX_ORDER_REFERENCE_LENGTH = 200;

/** The options that narrow a code check, as the item gave them: a key is present once added. */
export interface CodeCheckOptions {
	contact?: unknown;
	couponName?: unknown;
}

/** The request to check `rawCode` with these options, or a CouponError that says what to map. */
export function parseCodeRequest(rawCode: unknown, options: CodeCheckOptions): CodeRequest {
	const request: CodeRequest = parseCheckoutCode(rawCode);
	// An added option that comes out empty (a checkout without an email) is an error, not "anyone":
	// otherwise a missing field would quietly let any customer use the code.
	if ('contact' in options)
		request.contactKey = withFix(
			() => parseContact(options.contact).key,
			'Map Contact to the field holding the customer, such as {{ $json.body.email }}, or remove the Contact option to accept the code from anyone.',
		);
	if ('couponName' in options)
		request.couponName = withFix(
			() => parseCouponName(options.couponName),
			'Enter the coupon the code must belong to, or remove the Coupon Name option to accept codes of every coupon.',
		);
	return request;
}

/** Runs `parse`, giving a CouponError it throws the fix that fits this option. */
function withFix<T>(parse: () => T, fix: string): T {
	try {
		return parse();
	} catch (error) {
		if (error instanceof CouponError) throw new CouponError(error.message, fix);
		throw error;
	}
}

/** The trimmed order reference, undefined when empty, or a CouponError. */
export function parseOrderReference(raw: unknown): string | undefined {
	const fix = 'Map Order Reference to the order number or ID, such as {{ $json.body.orderId }}.';
	const reference = textParameter(raw, 'The order reference', fix);
	if (reference === '') return undefined;
	const control = UNSAFE_CHARACTER.exec(reference);
	const problem =
		reference.length > MAX_ORDER_REFERENCE_LENGTH
			? `is longer than ${MAX_ORDER_REFERENCE_LENGTH} characters`
			: control
				? `contains ${describeCharacter(control[0])}`
				: undefined;
	if (problem) throw new CouponError(`The order reference ${problem}`, fix);
	return reference;
}

/** Found codes by code key: one code may be in several coupons. */
type CodesByKey = Map<string, StoredCode[]>;

function byKey(found: StoredCode[]): CodesByKey {
	const codes: CodesByKey = new Map();
	for (const stored of found) {
		const list = codes.get(stored.key);
		if (list) list.push(stored);
		else codes.set(stored.key, [stored]);
	}
	return codes;
}

/** When a code is in several coupons, the one whose status says most about this request wins. */
const PREFERENCE: CodeStatus[] = [
	'valid',
	'redeemed',
	'expired',
	'replaced',
	'other_contact',
	'not_assigned',
];

function statusOf(stored: StoredCode, request: CodeRequest, now: number): CodeStatus {
	const { assignment } = stored;
	if (!assignment) return 'not_assigned';
	// Checked before the coupon's state: a stranger learns nothing about someone else's coupon.
	if (request.contactKey !== undefined && assignment.contactKey !== request.contactKey)
		return 'other_contact';
	const status = assignmentStatus(assignment, now);
	return status === 'active' ? 'valid' : status;
}

const isoTime = (ms: number | undefined) => new Date(ms!).toISOString();

function describe(
	status: CodeStatus,
	request: CodeRequest,
	stored: StoredCode | undefined,
	validIn: string[],
): string {
	const subject = stored ? `Code ${request.code} of coupon "${stored.couponName}"` : '';
	const a = stored?.assignment;
	switch (status) {
		case 'unknown':
			return `No coupon${request.couponName ? ` named "${request.couponName}"` : ''} has the code ${request.code}`;
		case 'not_assigned':
			return `${subject} has not been given to anyone yet`;
		case 'other_contact':
			return `${subject} belongs to another contact`;
		case 'replaced':
			return `${subject} was replaced by a newer coupon on ${isoTime(a?.replacedAt)}`;
		case 'redeemed':
			return `${subject} was already redeemed on ${isoTime(a?.redeemedAt)}`;
		case 'expired':
			return `${subject} expired on ${isoTime(a?.validUntil)}`;
		case 'valid':
			return `${subject} is valid until ${isoTime(a?.validUntil)}`;
		case 'ambiguous':
			return `The code ${request.code} is valid in ${validIn.length} coupons (${validIn.map((name) => `"${name}"`).join(', ')}), so it is not clear which one is meant; set Coupon Name or Contact in the options`;
	}
}

/**
 * The code's status for this request, and the stored code it concerns. A code several coupons
 * hold is judged by the coupon that can take it; two that both can make the request ambiguous.
 */
function judge(
	found: CodesByKey,
	request: CodeRequest,
	now: number,
): { status: CodeStatus; stored?: StoredCode; validIn?: string[] } {
	const nameKey = request.couponName === undefined ? undefined : couponNameKey(request.couponName);
	const candidates = (found.get(request.key) ?? [])
		.filter((stored) => nameKey === undefined || couponNameKey(stored.couponName) === nameKey)
		.map((stored) => ({ stored, status: statusOf(stored, request, now) }))
		.sort(
			(a, b) =>
				PREFERENCE.indexOf(a.status) - PREFERENCE.indexOf(b.status) ||
				(b.stored.assignment?.assignedAt ?? 0) - (a.stored.assignment?.assignedAt ?? 0) ||
				couponNameKey(a.stored.couponName).localeCompare(couponNameKey(b.stored.couponName)),
		);
	if (candidates.length === 0) return { status: 'unknown' };
	const usable = candidates.filter((c) => c.status === 'valid');
	// Refused rather than guessed: redeeming the wrong coupon's code would burn another customer's.
	if (usable.length > 1)
		return { status: 'ambiguous', validIn: usable.map((c) => c.stored.couponName) };
	return candidates[0];
}

function check(
	found: CodesByKey,
	request: CodeRequest,
	now: number,
): { result: CodeCheck; stored?: StoredCode } {
	const { status, stored, validIn = [] } = judge(found, request, now);
	// Someone else's coupon stays private: its dates and order are none of this caller's business.
	const coupon =
		stored?.assignment && status !== 'other_contact'
			? viewAssignment(stored.couponName, stored.assignment, now)
			: null;
	return {
		result: {
			code: request.code,
			valid: status === 'valid',
			status,
			message: describe(status, request, stored, validIn),
			coupon,
		},
		stored,
	};
}

/**
 * The codes of these requests, by key, once every Coupon Name they give is known to exist: a
 * misspelt name would otherwise refuse every code as unknown, quietly.
 */
async function findRequested(
	session: CouponStoreSession,
	requests: CodeRequest[],
	forUpdate: boolean,
): Promise<{ found: CodesByKey; missing: Map<string, CouponError> }> {
	const missing = new Map<string, CouponError>();
	for (const name of new Set(
		requests.flatMap((r) => (r.couponName === undefined ? [] : [r.couponName])),
	)) {
		const key = couponNameKey(name);
		if (!missing.has(key) && !(await session.findPool(name)))
			missing.set(
				key,
				await unknownCoupon(
					session,
					name,
					'Correct Coupon Name in the options (case does not matter), or remove it to accept codes of every coupon.',
				),
			);
	}
	return {
		found: byKey(
			await session.findCodes(
				requests.map((r) => r.key),
				forUpdate,
			),
		),
		missing,
	};
}

function assertNamed(missing: Map<string, CouponError>, request: CodeRequest): void {
	const error =
		request.couponName === undefined ? undefined : missing.get(couponNameKey(request.couponName));
	if (error) throw error;
}

/** Says of each code whether it can be used now, and why not. Changes nothing. */
export async function validateCodes(
	session: CouponStoreSession,
	requests: CodeRequest[],
	now: number,
): Promise<Array<Outcome<CodeCheck>>> {
	const { found, missing } = await findRequested(session, requests, false);
	return await outcomesOf(requests, async (request) => {
		assertNamed(missing, request);
		return check(found, request, now).result;
	});
}

/** A Redemption with its fields in one order, accepted or refused, as the output shows them. */
const redemption = ({ code, accepted, status, message, coupon }: Redemption): Redemption => ({
	code,
	accepted,
	status,
	message,
	coupon,
});

/**
 * Redeems each code that can be used now, in request order, so a code given twice is accepted
 * once. The codes stay locked until the session ends: of two sessions redeeming one code, the
 * second waits for the first, then finds it redeemed. Redemption never frees or reassigns a code.
 */
export async function redeemCodes(
	session: CouponStoreSession,
	requests: RedeemRequest[],
	now: number,
): Promise<Array<Outcome<Redemption>>> {
	const { found, missing } = await findRequested(session, requests, true);
	// Written per coupon after the decisions, in few statements; the locks keep them valid meanwhile.
	const redeemed = new Map<string, RedeemedCode[]>();
	const outcomes = await outcomesOf(requests, async (request): Promise<Redemption> => {
		assertNamed(missing, request);
		const { result, stored } = check(found, request, now);
		const { status } = result;
		if (status !== 'valid') return redemption({ ...result, accepted: false, status });
		const { couponName, code, assignment } = stored!;
		const ofCoupon = redeemed.get(couponName);
		if (ofCoupon) ofCoupon.push({ code, orderReference: request.orderReference });
		else redeemed.set(couponName, [{ code, orderReference: request.orderReference }]);
		assignment!.redeemedAt = now;
		if (request.orderReference !== undefined) assignment!.orderReference = request.orderReference;
		return redemption({
			code: request.code,
			accepted: true,
			status: 'accepted',
			message: `Code ${request.code} of coupon "${couponName}" is redeemed now`,
			coupon: viewAssignment(couponName, assignment!, now),
		});
	});
	for (const [couponName, codes] of redeemed) await session.markRedeemed(couponName, codes, now);
	return outcomes;
}
