import type { CouponStoreSession, HeldCoupon, PoolInfo } from './store';
import type { CodeFormat } from './codes';
import { CouponError, type Outcome } from './errors';
import {
	issueCouponsForRun,
	type CouponRequest,
	type IssuedCoupon,
	type SettledRequest,
} from './issue';
import {
	fillTemplate,
	parseTemplate,
	UnresolvedList,
	type CouponPlaceholder,
	type ParsedTemplate,
	type UnresolvedPlaceholder,
} from './placeholders';
import { couponNameKey } from './names';
import { couponStatus } from './validity';

/** What to do with a placeholder for a coupon the contact holds no active code of. */
export type MissingCouponAction = 'assign' | 'leave' | 'fail';
export const MISSING_COUPON_ACTIONS: readonly MissingCouponAction[] = ['assign', 'leave', 'fail'];

export interface RenderSettings {
	whenMissing: MissingCouponAction;
	/** For "assign": how long a coupon handed out now stays valid, and how a generated one looks. */
	validDays: number;
	format: CodeFormat;
}

export interface RenderRequest extends CouponRequest {
	template: string;
	settings: RenderSettings;
}

export interface RenderResult {
	/** One per request, in request order. */
	outcomes: Array<Outcome<RenderedMessage>>;
	/** Generated coupons that "assign" created because no coupon had their name yet. */
	createdCoupons: string[];
}

export interface RenderedMessage {
	text: string;
	/** The coupons the text now carries, one per coupon name, in order of first appearance. */
	coupons: IssuedCoupon[];
	/** Every `$cst.` left in the text, and why. */
	unresolved: UnresolvedPlaceholder[];
}

const heldCoupon = (pool: PoolInfo, held: HeldCoupon, contact: string): IssuedCoupon => ({
	name: pool.name,
	code: held.code,
	contact,
	assignedAt: new Date(held.assignedAt).toISOString(),
	validUntil: new Date(held.validUntil).toISOString(),
	source: pool.kind,
	reused: true,
});

/**
 * Replaces each `$cst.<coupon name>.coupon$` with the contact's active coupon of that name (the
 * newest, if it holds several). An expired, redeemed or replaced coupon is never rendered: the
 * placeholder is then treated as for a contact without one, as the request's `whenMissing` says.
 * Coupons assigned on the way go through `issueCouponsForRun`, as Generate for Contact's do.
 */
export async function renderMessages(
	session: CouponStoreSession,
	requests: RenderRequest[],
	now: number,
): Promise<RenderResult> {
	const templates: ParsedTemplate[] = requests.map((r) => parseTemplate(r.template));

	// Coupon names as first written.
	const names = new Map<string, string>();
	for (const { placeholders } of templates)
		for (const { name, nameKey } of placeholders) if (!names.has(nameKey)) names.set(nameKey, name);
	const pools = new Map<string, PoolInfo | undefined>();
	for (const [nameKey, name] of names) pools.set(nameKey, await session.findPool(name));

	// The active coupon per contact and coupon name, from what the contacts hold...
	const held = await session.couponsOfContacts(requests.map((r) => r.contactKey));
	const coupons = new Map<string, IssuedCoupon>();
	const slot = (contactKey: string, nameKey: string) => `${contactKey}\n${nameKey}`;
	requests.forEach(({ contact, contactKey }) => {
		const newestFirst = [...(held.get(contactKey) ?? [])].sort(
			(a, b) => b.assignedAt - a.assignedAt,
		);
		for (const coupon of newestFirst) {
			const nameKey = couponNameKey(coupon.couponName);
			const pool = pools.get(nameKey);
			if (pool && couponStatus(coupon, now) === 'active' && !coupons.has(slot(contactKey, nameKey)))
				coupons.set(slot(contactKey, nameKey), heldCoupon(pool, coupon, contact));
		}
	});

	// ...and, with "assign", one handed out now to each contact still without one, as Generate for
	// Contact would: a name no coupon has yet becomes a generated coupon.
	const wanted: SettledRequest[] = [];
	const wantedSlots: string[] = [];
	const isWanted = new Set<string>();
	requests.forEach(({ contact, contactKey, settings }, i) => {
		if (settings.whenMissing !== 'assign') return;
		for (const { nameKey } of templates[i].placeholders) {
			const key = slot(contactKey, nameKey);
			if (coupons.has(key) || isWanted.has(key)) continue;
			isWanted.add(key);
			const couponName = pools.get(nameKey)?.name ?? names.get(nameKey)!;
			const { validDays, format } = settings;
			wanted.push({
				contact,
				contactKey,
				settings: { couponName, validDays, policy: 'reuse', format },
			});
			wantedSlots.push(key);
		}
	});
	const assigned = await issueCouponsForRun(session, wanted, now);
	// A refused format (Length too short for the coupon) concerns only the contacts who needed one.
	const failures = new Map<string, CouponError>();
	assigned.outcomes.forEach((outcome, j) => {
		if ('value' in outcome) coupons.set(wantedSlots[j], outcome.value);
		else failures.set(wantedSlots[j], outcome.error);
	});
	for (const { pool } of assigned.pools) pools.set(couponNameKey(pool.name), pool);
	const created = assigned.pools.filter((served) => served.created).map(({ pool }) => pool.name);

	// A coupon handed out now is new to the first message that carries it, as Generate reports it.
	const carried = new Set<string>();
	const outcomes = requests.map((request, i): Outcome<RenderedMessage> => {
		const { placeholders, unresolved: parsed } = templates[i];
		const unresolved = new UnresolvedList();
		parsed.forEach((u) => unresolved.add(u.placeholder, u.problem, u.message));
		const used = new Map<string, IssuedCoupon>();
		const codeFor = (placeholder: CouponPlaceholder) => {
			const key = slot(request.contactKey, placeholder.nameKey);
			const coupon = coupons.get(key);
			if (coupon) {
				if (!used.has(placeholder.nameKey))
					used.set(placeholder.nameKey, carried.has(key) ? { ...coupon, reused: true } : coupon);
				return coupon.code;
			}
			const problem = missingProblem(
				placeholder,
				pools.get(placeholder.nameKey),
				request,
				held.get(request.contactKey) ?? [],
				now,
			);
			unresolved.add(placeholder.text, problem.problem, problem.message);
			return undefined;
		};
		const text = fillTemplate(request.template, placeholders, codeFor);
		for (const nameKey of used.keys()) carried.add(slot(request.contactKey, nameKey));
		const failure = placeholders
			.map((p) => failures.get(slot(request.contactKey, p.nameKey)))
			.find((f) => f);
		if (failure) return { error: failure };
		// "Fail" lets no message out with a coupon placeholder left in it, broken ones included;
		// only other kinds of $cst. placeholder (a first name, say) pass for another step to fill.
		const blocking = unresolved.list.find((u) => u.problem !== 'not_a_coupon');
		if (request.settings.whenMissing === 'fail' && blocking) {
			const fix =
				blocking.problem === 'malformed' || blocking.problem === 'invalid_name'
					? 'Correct the placeholder in the template: coupon placeholders look like $cst.<coupon name>.coupon$.'
					: 'Hand out the coupon with "Generate for Contact" before this step, or set If Contact Has No Active Coupon to "Assign One Now" or "Leave the Placeholder".';
			return { error: new CouponError(blocking.message, fix) };
		}
		return { value: { text, coupons: [...used.values()], unresolved: unresolved.list } };
	});
	return { outcomes, createdCoupons: created };
}

function missingProblem(
	placeholder: CouponPlaceholder,
	pool: PoolInfo | undefined,
	request: RenderRequest,
	held: HeldCoupon[],
	now: number,
): UnresolvedPlaceholder {
	if (!pool) {
		return {
			placeholder: placeholder.text,
			problem: 'unknown_coupon',
			message: `${placeholder.text}: no coupon is named "${placeholder.name}"; import a list of that name with Coupon Import, or hand one out with Generate for Contact`,
		};
	}
	const last = held
		.filter((c) => couponNameKey(c.couponName) === placeholder.nameKey)
		.sort((a, b) => b.assignedAt - a.assignedAt)[0];
	const why = last ? ` (the last one is ${couponStatus(last, now)})` : '';
	return {
		placeholder: placeholder.text,
		problem: 'no_active_coupon',
		message: `${placeholder.text}: ${request.contact} has no active coupon "${pool.name}"${why}`,
	};
}
