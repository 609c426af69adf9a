import type {
	CouponStoreSession,
	Details,
	ImportOutcome,
	PoolInfo,
	CodeFormat,
} from '../storeContract';
import { drawCodes, sameFormat } from './codeFormat';
import { assertGuessProof } from './guessProof';
import { sameDetails } from '../common/details';
import { CouponError, StoreError, type Outcome } from '../common/errors';
import { numberParameter } from '../common/limits';
import { UNLIMITED_USES } from '../common/validity';
import { shareUnusedCodes } from './sharedCodes';
import { compareCouponNames, echo } from '../common/names';

/** Codes one run may create, over all its items: they are held in memory while they are written. */
export const MAX_CODES_PER_RUN = 1_000_000;

/** Rounds of drawing again for codes the coupon already held, before giving up. */
const CREATION_ROUNDS = 10;

export interface CreateCodesRequest {
	couponName: string;
	count: number;
	format: CodeFormat;
	/** Used only when the request creates the coupon. */
	usesPerCode: number;
	/** Used only when the request creates the coupon: set, it makes a shared coupon. */
	usesPerCustomer?: number;
	/** When given, the coupon's details from now on. */
	details?: Details;
}

/** What Create Codes made for one request. */
export interface CreatedCodes {
	couponName: string;
	/** Codes added by this request. */
	created: number;
	/** True when no coupon had the name, so the request created it. */
	createdCoupon: boolean;
	/** Codes the coupon holds now: unused plus ever assigned. */
	poolSize: number;
	available: number;
	/** Null for a shared coupon without a cap for all customers together. */
	usesPerCode: number | null;
	/** Set for a shared coupon: its codes were shared as they were made. */
	usesPerCustomer: number | null;
	/** The new codes, in random order. */
	codes: string[];
}

/** The Count parameter as a whole number from 1 to MAX_CODES_PER_RUN, or a CouponError. */
export function parseCount(raw: unknown): number {
	const count = numberParameter(raw);
	if (
		typeof count !== 'number' ||
		!Number.isInteger(count) ||
		count < 1 ||
		count > MAX_CODES_PER_RUN
	)
		throw new CouponError(
			'NUMBER_INVALID',
			`Count must be a whole number from 1 to ${MAX_CODES_PER_RUN.toLocaleString('en-US')}; got ${echo(raw)}`,
			'Enter how many new codes to make; for more, run the step again.',
		);
	return count;
}

/**
 * Makes each request's codes for its coupon without giving them to anyone: the coupon then hands
 * them out as an imported list. Requests go in coupon-name order (so concurrent runs lock pools in
 * one order); outcomes come back in request order. A request refused (a generated coupon, a format
 * with too few codes, a run past MAX_CODES_PER_RUN) changes nothing.
 */
export async function createCodesForRun(
	session: CouponStoreSession,
	requests: CreateCodesRequest[],
	now: number,
): Promise<Array<Outcome<CreatedCodes>>> {
	const outcomes: Array<Outcome<CreatedCodes>> = new Array(requests.length);
	const order = [...requests.keys()].sort((a, b) =>
		compareCouponNames(requests[a].couponName, requests[b].couponName),
	);
	let total = 0;
	for (const i of order) {
		try {
			const request = requests[i];
			if (total + request.count > MAX_CODES_PER_RUN)
				throw new CouponError(
					'LIMIT_EXCEEDED',
					`This run would create more than ${MAX_CODES_PER_RUN.toLocaleString('en-US')} codes over its items; this item's ${request.count.toLocaleString('en-US')} were not made`,
					'Create the codes over several runs, for example with Loop Over Items in batches.',
				);
			outcomes[i] = { value: await createCodes(session, request, now) };
			total += request.count;
		} catch (error) {
			if (!(error instanceof CouponError)) throw error;
			outcomes[i] = { error };
		}
	}
	return outcomes;
}

async function createCodes(
	session: CouponStoreSession,
	request: CreateCodesRequest,
	now: number,
): Promise<CreatedCodes> {
	const { couponName, count } = request;
	let pool = await session.findPool(couponName);
	const createdCoupon = !pool;
	if (pool?.kind === 'generated') throw generatedCouponError(pool);
	const { format } = request;
	// Checked before anything is created or added, so a refusal leaves nothing behind.
	assertGuessProof(format, (pool?.codeCount ?? 0) + count, couponName);
	if (!pool) {
		pool = await session.createPool(couponName, 'imported', {
			usesPerCode: request.usesPerCode,
			...(request.usesPerCustomer === undefined
				? {}
				: { usesPerCustomer: request.usesPerCustomer }),
			...(request.details ? { details: request.details } : {}),
			codeFormat: format,
		});
		if (pool.kind === 'generated') throw generatedMeanwhileError(pool);
	} else {
		if (!pool.codeFormat || !sameFormat(pool.codeFormat, format))
			await session.setCodeFormat(pool.name, format);
		if (request.details && !sameDetails(pool.details, request.details))
			await session.setCouponDetails(pool.name, request.details);
	}

	const { codes, last } = await addNewCodes(session, pool, format, count);
	const shared = await shareUnusedCodes(session, pool, now);
	return {
		couponName: pool.name,
		created: codes.length,
		createdCoupon,
		poolSize: last.codeCount,
		available: last.available - shared,
		usesPerCode: pool.usesPerCode === UNLIMITED_USES ? null : pool.usesPerCode,
		usesPerCustomer: pool.usesPerCustomer ?? null,
		codes,
	};
}

/**
 * Draws `count` codes with different keys, and adds them; the few the coupon already held are
 * drawn again (a code drawn again that this run added meanwhile is held, and drawn once more). Returns the codes added and the coupon's counts after the last addition.
 */
async function addNewCodes(
	session: CouponStoreSession,
	pool: PoolInfo,
	format: CodeFormat,
	count: number,
): Promise<{ codes: string[]; last: ImportOutcome }> {
	const codes: string[] = [];
	let last: ImportOutcome | undefined;
	for (let round = 0; round < CREATION_ROUNDS && codes.length < count; round++) {
		const candidates = await drawCodes(format, count - codes.length, session.turns);
		last = await session.addImported(pool.name, candidates);
		// The coupon held a few of them already (the guessing rule keeps that rare): keep the others
		// and draw again for those. The store names up to DUPLICATE_EXAMPLES of them; more is not chance.
		if (last.duplicates > last.duplicateExamples.length) throw notEnoughCodes(pool, count);
		const held = new Set(last.duplicateExamples.map((duplicate) => duplicate.key));
		for (const candidate of candidates) {
			if (!held.has(candidate.key)) codes.push(candidate.code);
			if (session.turns.due()) await session.turns.pass();
		}
	}
	if (codes.length < count) throw notEnoughCodes(pool, count);
	return { codes, last: last! };
}

/** Codes were added already when this happens: the whole run must go, not this request alone. */
const notEnoughCodes = (pool: PoolInfo, count: number) =>
	new StoreError(
		'COUPON_EXHAUSTED',
		`Could not find ${count.toLocaleString('en-US')} unused codes for coupon "${pool.name}" after ${CREATION_ROUNDS} tries`,
		'Nothing of this step was saved. Make the codes longer (Length or Pattern), or use a new coupon name.',
	);

export function generatedCouponError(pool: PoolInfo): CouponError {
	return new CouponError(
		'COUPON_KIND_MISMATCH',
		`Coupon "${pool.name}" is a generated coupon: its codes are made as contacts get them, so codes cannot be created for it in advance`,
		'Use a new coupon name for codes made in advance (Generate for Contact then hands them out as a list).',
	);
}

function generatedMeanwhileError(pool: PoolInfo): StoreError {
	return new StoreError(
		'STORE_CONFLICT',
		`Another run created a generated coupon "${pool.name}" while this one was creating codes for it`,
		'Nothing of this step was saved. Run the step again with a new coupon name.',
	);
}
