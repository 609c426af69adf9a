import type {
	AssignmentRecord,
	CouponStoreSession,
	RedemptionEntry,
	PoolInfo,
	Hold,
	HoldChange,
	StoredCode,
	UseChange,
} from '../storeContract';
import { viewAssignment, type AssignmentView } from '../assign/assignmentView';
import { CouponError, outcomesOf, type Outcome } from '../common/errors';
import { unknownCoupon } from '../common/unknownNames';
import { parseCheckoutCode } from '../codes/codes';
import { checkAgainstFormat } from '../codes/codeFormat';
import {
	contactRequired,
	customerUsesLeftText,
	isShared,
	perCustomerText,
	SHARED_CODE_END,
	usesByCustomer,
} from '../codes/sharedCodes';
import {
	couponNameKey,
	describeCharacter,
	parseContact,
	parseCouponName,
	textParameter,
	UNSAFE_CHARACTER,
} from '../common/names';
import { activeHold, assignmentStatus, redemptionsOf, usesOf } from '../common/validity';

/** Why a code can or cannot be used now. */
export type CodeStatus =
	| 'valid'
	| 'unknown'
	| 'typo'
	| 'not_assigned'
	| 'other_contact'
	| 'expired'
	| 'redeemed'
	| 'used_by_customer'
	| 'replaced'
	| 'reserved'
	| 'ambiguous';

export interface CodeRequest {
	/** The code as the customer typed it, trimmed. */
	code: string;
	/** Its `codeKey`: codes match trimmed, case-insensitively, with separators ignored. */
	key: string;
	/** When given, the code must be held by this contact; a shared code counts this customer's uses. */
	contactKey?: string;
	/** When given, only this coupon's codes count. */
	couponName?: string;
	/** The order asking: a code held for it counts as usable, a code it already used as redeemed. */
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
	orderReference?: unknown;
}

/** The request to check `rawCode` with these options, or a CouponError that says what to map. */
export function parseCodeRequest(rawCode: unknown, options: CodeCheckOptions): CodeRequest {
	const request: CodeRequest = parseCheckoutCode(rawCode);
	const orderReference = parseOrderReference(options.orderReference);
	if (orderReference !== undefined) request.orderReference = orderReference;
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
		if (error instanceof CouponError) throw new CouponError(error.code, error.message, fix);
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
	if (problem)
		throw new CouponError('ORDER_REFERENCE_INVALID', `The order reference ${problem}`, fix);
	return reference;
}

/** The order reference a hold or an undo names, or a CouponError: it cannot be left empty. */
export function parseRequiredOrderReference(raw: unknown): string {
	const reference = parseOrderReference(raw);
	if (reference === undefined)
		throw new CouponError(
			'ORDER_REFERENCE_INVALID',
			'The order reference is empty',
			'Map Order Reference to the order number or ID, such as {{ $json.body.orderId }}: a hold belongs to one order.',
		);
	return reference;
}

/** Found codes by code key: one code may be in several coupons. */
/** The codes found for a run's requests, by code key. */
export class CodesByKey extends Map<string, StoredCode[]> {
	/** Coupons whose codes end in a check character; for a code not found, they tell a typo. */
	checked: PoolInfo[] = [];
}

function byKey(found: StoredCode[]): CodesByKey {
	const codes = new CodesByKey();
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
	'reserved',
	'redeemed',
	'used_by_customer',
	'expired',
	'replaced',
	'other_contact',
	'not_assigned',
];

function statusOf(stored: StoredCode, request: CodeRequest, now: number): CodeStatus {
	const { assignment } = stored;
	if (!assignment) return 'not_assigned';
	if (isShared(stored.terms)) return sharedStatus(stored, assignment, request, now);
	// Checked before the coupon's state: a stranger learns nothing about someone else's coupon.
	if (request.contactKey !== undefined && assignment.contactKey !== request.contactKey)
		return 'other_contact';
	const status = assignmentStatus(assignment, now);
	if (status !== 'active') return status;
	if (request.orderReference !== undefined && useFor(assignment, request.orderReference))
		return 'redeemed';
	const hold = activeHold(assignment, now);
	return hold && hold.orderReference !== request.orderReference ? 'reserved' : 'valid';
}

/** A shared code's status for a customer (judge asks with one): all customers' uses, then this one's. */
function sharedStatus(
	stored: StoredCode,
	assignment: AssignmentRecord,
	request: CodeRequest,
	now: number,
): CodeStatus {
	const status = assignmentStatus(assignment, now);
	if (status !== 'active') return status;
	if (request.orderReference !== undefined && useFor(assignment, request.orderReference))
		return 'redeemed';
	const perCustomer = stored.terms.usesPerCustomer!;
	return usesByCustomer(assignment, request.contactKey!).length >= perCustomer
		? 'used_by_customer'
		: 'valid';
}

/** The use of the code this order took and did not undo: an order takes one use of a code. */
const useFor = (assignment: AssignmentRecord, orderReference: string) =>
	redemptionsOf(assignment).find(
		(entry) => entry.undoneAt === undefined && entry.orderReference === orderReference,
	);

export const isoTime = (ms: number | undefined) => new Date(ms!).toISOString();

/** " until <time>", or nothing for a shared code that never ends. */
export const untilText = ({ validUntil }: AssignmentRecord) =>
	validUntil === SHARED_CODE_END ? '' : ` until ${isoTime(validUntil)}`;

function describe(
	status: CodeStatus,
	request: CodeRequest,
	stored: StoredCode | undefined,
	validIn: string[],
	typoIn: string | undefined,
): string {
	const subject = stored ? `Code ${request.code} of coupon "${stored.couponName}"` : '';
	const a = stored?.assignment;
	switch (status) {
		case 'unknown':
			return `No coupon${request.couponName ? ` named "${request.couponName}"` : ''} has the code ${request.code}`;
		case 'typo':
			return `The code ${request.code} looks mistyped: it has the shape of coupon "${typoIn}"'s codes but its check character does not match; ask the customer to check each character`;
		case 'not_assigned':
			return `${subject} has not been given to anyone yet`;
		case 'other_contact':
			return `${subject} belongs to another contact`;
		case 'replaced':
			return `${subject} was replaced by a newer coupon on ${isoTime(a?.replacedAt)}`;
		case 'used_by_customer':
			return `${subject} was already used by this customer ${perCustomerText(stored!.terms)}`;
		case 'redeemed': {
			const use =
				request.orderReference === undefined ? undefined : useFor(a!, request.orderReference);
			return use && a?.redeemedAt === undefined
				? `${subject} was already redeemed for order ${request.orderReference} on ${isoTime(use.at)}`
				: `${subject} was already redeemed on ${isoTime(a?.redeemedAt)}`;
		}
		case 'reserved':
			return `${subject} is held for another order until ${isoTime(a?.hold?.until)}`;
		case 'expired':
			return `${subject} expired on ${isoTime(a?.validUntil)}`;
		case 'valid':
			return `${subject} is valid${untilText(a!)}${usesLeftText(stored!, request.contactKey)}`;
		case 'ambiguous':
			return `The code ${request.code} is valid in ${validIn.length} coupons (${validIn.map((name) => `"${name}"`).join(', ')}), so it is not clear which one is meant; set Coupon Name or Contact in the options`;
	}
}

/**
 * ", with 3 of 5 uses left" for a code of several uses; nothing for a single-use code. A shared
 * code counts the customer's uses.
 */
export function usesLeftText({ terms, assignment }: StoredCode, contactKey?: string): string {
	if (isShared(terms)) return customerUsesLeftText(terms, assignment!, contactKey);
	if (terms.usesPerCode === 1) return '';
	return `, with ${terms.usesPerCode - usesOf(assignment!)} of ${terms.usesPerCode} uses left`;
}

/** The codes a request can mean: those of its Coupon Name, if it gives one. */
export function namedCandidates(found: CodesByKey, request: CodeRequest): StoredCode[] {
	const nameKey = request.couponName === undefined ? undefined : couponNameKey(request.couponName);
	return (found.get(request.key) ?? []).filter(
		(stored) => nameKey === undefined || couponNameKey(stored.couponName) === nameKey,
	);
}

/**
 * The assigned codes a request can mean: of its Coupon Name and held by its Contact, if given (a
 * shared code is every customer's).
 */
export function assignedCandidates(found: CodesByKey, request: CodeRequest): StoredCode[] {
	return namedCandidates(found, request).filter(
		({ assignment, terms }) =>
			assignment &&
			(request.contactKey === undefined ||
				assignment.contactKey === request.contactKey ||
				isShared(terms)),
	);
}

/** A code's status for a request, and the stored code it concerns. */
export interface Verdict {
	status: CodeStatus;
	stored?: StoredCode;
	/** The coupons the code is valid in, when that makes it ambiguous. */
	validIn?: string[];
	/** The coupon whose code it would be but for a mistyped character. */
	typoIn?: string;
}

/**
 * The code's status for this request, and the stored code it concerns. A code several coupons
 * hold is judged by the coupon that can take it; two that both can make the request ambiguous.
 */
export function judge(found: CodesByKey, request: CodeRequest, now: number): Verdict {
	const all = namedCandidates(found, request);
	// A shared code is judged for a customer only: without one, the other coupons' codes of the key
	// answer, and the request fails only when none is left.
	const named =
		request.contactKey === undefined ? all.filter((stored) => !isShared(stored.terms)) : all;
	if (named.length === 0 && all.length > 0) throw contactRequired(all[0], request.code);
	// One code of that key, the usual case: nothing to rank.
	if (named.length === 1) return { status: statusOf(named[0], request, now), stored: named[0] };
	const candidates = named
		.map((stored) => ({ stored, status: statusOf(stored, request, now) }))
		.sort(
			(a, b) =>
				PREFERENCE.indexOf(a.status) - PREFERENCE.indexOf(b.status) ||
				(b.stored.assignment?.assignedAt ?? 0) - (a.stored.assignment?.assignedAt ?? 0) ||
				couponNameKey(a.stored.couponName).localeCompare(couponNameKey(b.stored.couponName)),
		);
	if (candidates.length === 0) {
		const typoIn = mistypedCoupon(found.checked, request);
		return typoIn === undefined ? { status: 'unknown' } : { status: 'typo', typoIn };
	}
	const usable = candidates.filter((c) => c.status === 'valid');
	// Refused rather than guessed: redeeming the wrong coupon's code would burn another customer's.
	if (usable.length > 1)
		return { status: 'ambiguous', validIn: usable.map((c) => c.stored.couponName) };
	return candidates[0];
}

/**
 * The coupon whose code this unknown key would be but for a mistyped character: it has the shape
 * of the coupon's format and a wrong check character. None when the key is well formed for a
 * coupon in scope (then it is simply not one of its codes) or fits no format at all.
 */
function mistypedCoupon(checked: PoolInfo[], request: CodeRequest): string | undefined {
	const nameKey = request.couponName === undefined ? undefined : couponNameKey(request.couponName);
	const judged = checked
		.filter((pool) => nameKey === undefined || couponNameKey(pool.name) === nameKey)
		.map((pool) => ({ name: pool.name, fit: checkAgainstFormat(request.key, pool.codeFormat!) }));
	if (judged.some(({ fit }) => fit === 'fits')) return undefined;
	return judged.find(({ fit }) => fit === 'typo')?.name;
}

export function check(
	found: CodesByKey,
	request: CodeRequest,
	now: number,
): { result: CodeCheck; stored?: StoredCode } {
	const verdict = judge(found, request, now);
	return { result: checkOf(verdict, request, now), stored: verdict.stored };
}

/** The answer a verdict gives: made only when it is output, as it holds the coupon's whole view. */
export function checkOf(
	{ status, stored, validIn = [], typoIn }: Verdict,
	request: CodeRequest,
	now: number,
): CodeCheck {
	return {
		code: request.code,
		valid: status === 'valid',
		status,
		message: describe(status, request, stored, validIn, typoIn),
		// Someone else's coupon stays private: its dates and order are none of this caller's business.
		coupon: status === 'other_contact' ? null : checkoutView(stored, request, now),
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
	// A shared code's history is read for these customers and orders alone.
	const scope = {
		contactKeys: [...new Set(requests.flatMap((r) => r.contactKey ?? []))],
		orderReferences: [...new Set(requests.flatMap((r) => r.orderReference ?? []))],
	};
	const found = byKey(
		await session.findCodes(
			requests.map((r) => r.key),
			forUpdate,
			scope,
		),
	);
	if (requests.some((request) => !found.has(request.key)))
		found.checked = (await session.listPools()).filter((pool) => pool.codeFormat?.checkCharacter);
	return { found, missing };
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
 * The changes a run's rules made to locked codes, written per coupon once every request is decided:
 * few statements, and the locks keep the decisions valid meanwhile. The rules change the stored
 * codes in memory, so a code given twice in one run is judged the second time as the first left it.
 */
export class CodeWrites {
	private readonly uses = new Map<StoredCode, Set<number>>();
	private readonly holds = new Set<StoredCode>();

	/**
	 * Takes a use of a usable code for this request's order (and customer, on a shared code), ending
	 * any hold; the last use redeems it.
	 */
	takeUse(stored: StoredCode, { orderReference, contactKey }: CodeRequest, now: number): void {
		const assignment = stored.assignment!;
		const uses = usesOf(assignment) + 1;
		const history = redemptionsOf(assignment);
		const entry: RedemptionEntry = {
			n: history.reduce((last, { n }) => Math.max(last, n), 0) + 1,
			at: now,
			...(orderReference === undefined ? {} : { orderReference }),
			...(isShared(stored.terms) ? { contactKey } : {}),
		};
		assignment.redemptions = [...history, entry];
		assignment.uses = uses;
		if (uses >= stored.terms.usesPerCode) {
			assignment.redeemedAt = now;
			if (orderReference === undefined) delete assignment.orderReference;
			else assignment.orderReference = orderReference;
		}
		this.touched(stored).add(entry.n);
		if (assignment.hold) this.setHold(stored, undefined);
	}

	/** Gives the use of `entry` back: the code is no longer redeemed, whatever its validity says now. */
	undoUse(stored: StoredCode, n: number, reason: string | undefined, now: number): void {
		const assignment = stored.assignment!;
		const uses = usesOf(assignment) - 1;
		const history = redemptionsOf(assignment).map((entry) =>
			entry.n === n
				? { ...entry, undoneAt: now, ...(reason === undefined ? {} : { undoReason: reason }) }
				: entry,
		);
		assignment.redemptions = history;
		assignment.uses = uses;
		delete assignment.redeemedAt;
		delete assignment.orderReference;
		this.touched(stored).add(n);
	}

	setHold(stored: StoredCode, hold: Hold | undefined): void {
		if (hold) stored.assignment!.hold = hold;
		else delete stored.assignment!.hold;
		this.holds.add(stored);
	}

	async write(session: CouponStoreSession): Promise<void> {
		const useChanges = new Map<string, UseChange[]>();
		for (const [stored, numbers] of this.uses) {
			const assignment = stored.assignment!;
			const change: UseChange = {
				code: stored.code,
				entries: redemptionsOf(assignment).filter((entry) => numbers.has(entry.n)),
				uses: usesOf(assignment),
			};
			if (assignment.redeemedAt !== undefined) change.redeemedAt = assignment.redeemedAt;
			if (assignment.orderReference !== undefined)
				change.orderReference = assignment.orderReference;
			listIn(useChanges, stored.couponName).push(change);
		}
		for (const [couponName, changes] of useChanges) await session.writeUses(couponName, changes);
		const holdChanges = new Map<string, HoldChange[]>();
		for (const stored of this.holds) {
			const { hold } = stored.assignment!;
			listIn(holdChanges, stored.couponName).push({ code: stored.code, ...(hold ? { hold } : {}) });
		}
		for (const [couponName, changes] of holdChanges) await session.writeHolds(couponName, changes);
	}

	private touched(stored: StoredCode): Set<number> {
		let numbers = this.uses.get(stored);
		if (!numbers) this.uses.set(stored, (numbers = new Set()));
		return numbers;
	}
}

function listIn<T>(lists: Map<string, T[]>, key: string): T[] {
	let list = lists.get(key);
	if (!list) lists.set(key, (list = []));
	return list;
}

/**
 * Redeems each code that can be used now, in request order: each takes one use, the last use
 * redeems the code. A code held for the request's order is confirmed (the hold ends); held for
 * another, it is refused as reserved. The codes stay locked until the session ends: of two
 * sessions redeeming one code, the second waits for the first, then finds its use taken.
 * Redemption never frees or reassigns a code.
 */
export async function redeemCodes(
	session: CouponStoreSession,
	requests: CodeRequest[],
	now: number,
): Promise<Array<Outcome<Redemption>>> {
	return await decideOnCodes(session, requests, (request, found, writes): Redemption => {
		const verdict = judge(found, request, now);
		const { status, stored } = verdict;
		if (status !== 'valid')
			return redemption({ ...checkOf(verdict, request, now), accepted: false, status });
		writes.takeUse(stored!, request, now);
		const usedUp = stored!.assignment!.redeemedAt === now;
		return redemption({
			code: request.code,
			accepted: true,
			status: 'accepted',
			message: `Code ${request.code} of coupon "${stored!.couponName}" is redeemed now${usedUp ? '' : usesLeftText(stored!, request.contactKey)}`,
			coupon: checkoutView(stored, request, now),
		});
	});
}

/**
 * Decides on each request, in order, with the codes of all of them locked; then writes what the
 * decisions changed. The operations that change codes at checkout run through it.
 */
export async function decideOnCodes<R extends CodeRequest, T>(
	session: CouponStoreSession,
	requests: R[],
	decide: (request: R, found: CodesByKey, writes: CodeWrites) => T,
): Promise<Array<Outcome<T>>> {
	const { found, missing } = await findRequested(session, requests, true);
	const writes = new CodeWrites();
	const outcomes = await outcomesOf(requests, async (request) => {
		assertNamed(missing, request);
		return decide(request, found, writes);
	});
	await writes.write(session);
	return outcomes;
}

/** The view of a stored code's coupon (a shared code's for `customer`), or null without one. */
export const viewOf = (
	stored: StoredCode | undefined,
	now: number,
	customer?: string,
): AssignmentView | null =>
	stored?.assignment ? viewAssignment(stored, stored.assignment, now, undefined, customer) : null;

/** The view of a stored code's coupon as an answer to one order: other orders are not named. */
export const checkoutView = (
	stored: StoredCode | undefined,
	request: CodeRequest,
	now: number,
): AssignmentView | null =>
	stored?.assignment
		? viewAssignment(stored, stored.assignment, now, request, request.contactKey)
		: null;
