import { isShared, sharedCouponError } from '../codes/sharedCodes';
import type {
	AssignmentRecord,
	CouponStoreSession,
	Details,
	PendingAssignment,
	PoolInfo,
	PoolKind,
	CodeFormat,
} from '../storeContract';
import { groupIndexes } from '../common/batches';
import { mergedDetails, sameDetails } from '../common/details';
import { generateCode } from '../codes/codeFormat';
import { assertGuessProof, guessProofError } from '../codes/guessProof';
import { CouponError, NoCouponError, type Outcome } from '../common/errors';
import { compareCouponNames, couponNameKey, parseContact } from '../common/names';
import { isActive, validUntilFor } from '../common/validity';

/** What happens when the contact already holds an active coupon of this name. */
export type ActiveCouponPolicy = 'reuse' | 'replace' | 'issueAnother';
export const ACTIVE_COUPON_POLICIES: readonly ActiveCouponPolicy[] = [
	'reuse',
	'replace',
	'issueAnother',
];

export interface AssignmentSettings {
	couponName: string;
	validDays: number;
	policy: ActiveCouponPolicy;
	/** Used only when the coupon is generated (no list of that name was imported). */
	format: CodeFormat;
	/** Used only when this batch creates the coupon: an existing coupon keeps its own. */
	usesPerCode: number;
	/** When given, the coupon's details from now on (Coupon Details replaces what it had). */
	details?: Details;
	/**
	 * Assign an imported code that expires before Valid (Days) would end, valid until its own
	 * expiry. Without it such codes are left for shorter campaigns.
	 */
	shortenToExpiry?: boolean;
}

export interface ContactRequest {
	/** The contact as the item gave it, trimmed. */
	contact: string;
	contactKey: string;
}

/** A contact's request for a coupon together with the settings it is served with. */
export interface AssignmentRequest extends ContactRequest {
	settings: AssignmentSettings;
}

/** The contact an item names, as a ContactRequest, or a CouponError that says what to map. */
export function parseContactRequest(raw: unknown): ContactRequest {
	const { contact, key } = parseContact(raw);
	return { contact, contactKey: key };
}

/** The `coupon` object each output item carries. */
export interface AssignmentResult {
	name: string;
	code: string;
	/** The contact as stored (trimmed, lower case): the same on every run. */
	contact: string;
	assignedAt: string;
	validUntil: string;
	source: PoolKind;
	/** True when the contact already held this active coupon and got it again. */
	reused: boolean;
	/** The coupon's details with the code's own over them. */
	details: Details;
}

export type AssignmentOutcome = Outcome<AssignmentResult>;

export interface AssignmentBatch {
	pool: PoolInfo;
	/** True when no coupon had the name, so this batch created it as a generated coupon. */
	created: boolean;
	/** One outcome per request, in request order. */
	outcomes: AssignmentOutcome[];
}

export interface AssignmentRun {
	/** One outcome per request, in request order. */
	outcomes: AssignmentOutcome[];
	/** Each batch's coupon, in the order they were served. */
	pools: Array<Omit<AssignmentBatch, 'outcomes'>>;
}

/** Rounds of regeneration before a generated coupon gives up on finding unused codes. */
const GENERATION_ROUNDS = 10;

/** An assignment this batch makes; `record` is filled once a code is found for it. */
interface NewAssignment {
	pending: PendingAssignment;
	record?: AssignmentRecord;
	/** The active assignments it ends when the policy is "replace". */
	replaces: AssignmentRecord[];
}

/** How one request is served: by an assignment the contact holds, or by a new one of this batch. */
type PlanEntry = { held: AssignmentRecord } | { assignment: NewAssignment; reused: boolean };

/**
 * Assigns a coupon to each request within one store session, applying the reuse policy, validity
 * and uniqueness rules. A request that fails consumes nothing; the others go on.
 */
export async function assignCoupons(
	session: CouponStoreSession,
	settings: AssignmentSettings,
	requests: ContactRequest[],
	now: number,
): Promise<AssignmentBatch> {
	const { couponName, policy, format } = settings;
	const contactKeys = [...new Set(requests.map((r) => r.contactKey))];
	let pool = await session.findPool(couponName);
	if (pool && isShared(pool)) throw sharedCouponError(pool);
	const created = !pool;
	if (!pool) {
		// Checked before anything is created, so a refused length leaves no empty coupon behind.
		assertGuessProof(
			settings.format,
			policy === 'issueAnother' ? requests.length : contactKeys.length,
			couponName,
		);
		// The format is kept for checking codes typed at checkout (their check character). Later runs
		// may generate in another format; the pool row is not locked to note it (assignments never
		// lock it), so a code of such a format, mistyped, is refused as unknown rather than as a typo.
		pool = await session.createPool(couponName, 'generated', {
			usesPerCode: settings.usesPerCode,
			...(settings.details ? { details: settings.details } : {}),
			codeFormat: format,
		});
	}
	if (settings.details && !sameDetails(pool.details, settings.details)) {
		await session.setCouponDetails(pool.name, settings.details);
		pool = { ...pool, details: settings.details };
	}
	// Existing or not, the pool is looked up by contact now, which also serialises concurrent sessions per contact.
	const held =
		policy === 'issueAnother'
			? new Map<string, AssignmentRecord[]>()
			: await session.assignmentsOf(pool.name, contactKeys);
	// Looking up thousands of contacts takes a turn of its own: the assigning that follows another.
	await session.turns.share();

	const activeHeld = new Map<string, AssignmentRecord[]>();
	for (const [contactKey, assignments] of held) {
		const active = assignments
			.filter((a) => isActive(a, now))
			.sort((a, b) => b.assignedAt - a.assignedAt);
		if (active.length > 0) activeHeld.set(contactKey, active);
	}

	// A contact who comes again in the same batch gets the coupon this batch assigned it, unless the
	// policy is to assign another: replacing a coupon assigned a moment ago would only burn a code.
	const newOf = new Map<string, NewAssignment>();
	const fresh: NewAssignment[] = [];
	const plan = requests.map((request): PlanEntry => {
		const { contactKey } = request;
		const earlier = newOf.get(contactKey);
		if (earlier) return { assignment: earlier, reused: true };
		const active = activeHeld.get(contactKey);
		if (active && policy === 'reuse') return { held: active[0] };
		const assignment: NewAssignment = {
			pending: { contactKey, assignedAt: now, validUntil: validUntilFor(now, settings.validDays) },
			replaces: policy === 'replace' ? (active ?? []) : [],
		};
		fresh.push(assignment);
		if (policy !== 'issueAnother') newOf.set(contactKey, assignment);
		return { assignment, reused: false };
	});

	let failure: CouponError | undefined;
	if (fresh.length > 0) {
		if (pool.kind === 'imported') {
			const assigned = await session.assignImported(
				pool.name,
				fresh.map((a) => a.pending),
				settings.shortenToExpiry ?? false,
			);
			assigned.forEach((record, i) => (fresh[i].record = record));
			if (assigned.length < fresh.length)
				failure = await exhaustedError(session, pool, now, settings.validDays);
		} else {
			// Too short for the new codes refuses only the requests that need one: a contact holding
			// an active coupon still gets it.
			failure =
				guessProofError(format, pool.codeCount + fresh.length, pool.name) ??
				(await generateInto(session, pool, format, fresh));
		}
		// Only an assignment that got its code ends those it replaces: a failed request changes nothing.
		const ended = fresh.flatMap((a) => (a.record ? a.replaces.map((r) => r.code) : []));
		await session.markReplaced(pool.name, ended, now);
	}

	const { name, kind: source } = pool;
	const outcomes = plan.map((entry): AssignmentOutcome => {
		const record = 'held' in entry ? entry.held : entry.assignment.record;
		if (!record) return { error: failure! };
		return {
			value: {
				name,
				code: record.code,
				// As stored: the same on every run, whatever spelling the item had this time.
				contact: record.contactKey,
				assignedAt: new Date(record.assignedAt).toISOString(),
				validUntil: new Date(record.validUntil).toISOString(),
				source,
				reused: 'held' in entry || entry.reused,
				details: mergedDetails(pool.details, record.details),
			},
		};
	});
	return { pool, created, outcomes };
}

/**
 * Assigns a coupon to each request of a run, whatever settings each item mapped. Requests with the
 * same settings (usually all of them) are served as one batch: one round of store work. Batches go
 * in coupon-name order, so runs lock contacts pool by pool in one order and cannot deadlock (only
 * items that map different settings for one coupon make two batches of it, each locking its own
 * contacts; a run meeting another in the opposite order is then stopped by PostgreSQL, keeping
 * nothing). A CouponError that refuses a whole batch (a Length too short for its coupon) fails only
 * the requests of that batch.
 */
export async function assignCouponsForRun(
	session: CouponStoreSession,
	requests: AssignmentRequest[],
	now: number,
): Promise<AssignmentRun> {
	const batches = groupIndexes(requests, ({ settings }) =>
		JSON.stringify({ ...settings, couponName: couponNameKey(settings.couponName) }),
	);
	const nameOf = (batch: number[]) => requests[batch[0]].settings.couponName;
	batches.sort((a, b) => compareCouponNames(nameOf(a), nameOf(b)));
	const outcomes: AssignmentOutcome[] = new Array(requests.length);
	const pools: AssignmentRun['pools'] = [];
	for (const members of batches) {
		const batch = members.map((j) => requests[j]);
		let served: AssignmentOutcome[];
		try {
			const { outcomes: batchOutcomes, ...pool } = await assignCoupons(
				session,
				batch[0].settings,
				batch,
				now,
			);
			pools.push(pool);
			served = batchOutcomes;
		} catch (error) {
			if (!(error instanceof CouponError)) throw error;
			served = batch.map(() => ({ error }));
		}
		members.forEach((j, k) => (outcomes[j] = served[k]));
	}
	return { outcomes, pools };
}

async function exhaustedError(
	session: CouponStoreSession,
	pool: PoolInfo,
	now: number,
	validDays: number,
): Promise<CouponError> {
	const counts = await session.countPool(pool.name, now, now);
	if (counts.available > 0)
		// Unused codes are left, but each expires before this assignment's validity would end.
		return new NoCouponError(
			'expires_too_soon',
			'COUPON_EXHAUSTED',
			`Coupon "${pool.name}" has no unused code that lasts ${validDays} days: its ${counts.available} unused codes expire sooner`,
			'Turn on Assign Codes Expiring Sooner in the options (they are then valid until their own expiry), lower Valid (Days), or import codes that last longer.',
		);
	return new NoCouponError(
		'exhausted',
		'COUPON_EXHAUSTED',
		`Coupon "${pool.name}" has no unused codes left: ${counts.assigned} assigned (${counts.active} active, ${counts.expired} expired, ${counts.redeemed} redeemed, ${counts.replaced} replaced), ${counts.available} available${counts.lapsed > 0 ? `, ${counts.lapsed} past their own expiry` : ''}`,
		'Import more codes into this coupon with the Coupon Import node, make more with Create Codes, or use another coupon name.',
	);
}

/** Gives every new assignment a freshly generated code, regenerating exactly the ones that collided. */
async function generateInto(
	session: CouponStoreSession,
	pool: PoolInfo,
	format: CodeFormat,
	assignments: NewAssignment[],
): Promise<CouponError | undefined> {
	let waiting = assignments;
	for (let round = 0; round < GENERATION_ROUNDS && waiting.length > 0; round++) {
		const byCode = new Map<string, NewAssignment>();
		for (const assignment of waiting) {
			const code = generateCode(format);
			// A code drawn twice in one round goes to the earlier request; the later one draws again.
			if (!byCode.has(code)) byCode.set(code, assignment);
		}
		const inserted = await session.insertGenerated(
			pool.name,
			[...byCode].map(([code, assignment]) => ({ ...assignment.pending, code })),
		);
		for (const record of inserted) byCode.get(record.code)!.record = record;
		waiting = waiting.filter((assignment) => !assignment.record);
	}
	if (waiting.length === 0) return undefined;
	return new NoCouponError(
		'length_too_short',
		'COUPON_EXHAUSTED',
		`Could not find unused codes for coupon "${pool.name}" after ${GENERATION_ROUNDS} tries: codes of ${format.length} characters are running out`,
		`Increase Length above ${format.length}.`,
	);
}
