import type { CouponStoreSession, HeldAssignment, PoolInfo, CodeFormat } from '../storeContract';
import { CouponError, NoCouponError, type Outcome } from '../common/errors';
import { knownCouponsText } from '../common/unknownNames';
import {
	assignCouponsForRun,
	type ContactRequest,
	type AssignmentResult,
	type AssignmentRequest,
} from '../assign/assign';
import {
	fallbackCoupon,
	noCouponOf,
	type FallbackCoupon,
	type NoCoupon,
	type NoCouponSetting,
} from '../assign/noCoupon';
import {
	fillTemplate,
	parseTemplate,
	type CouponPlaceholder,
	type ParsedTemplate,
	type UnresolvedPlaceholder,
} from './placeholders';
import { couponNameKey } from '../common/names';
import { assignmentStatus } from '../common/validity';
import { formatDate, type DateStyle } from '../common/dates';
import { mergedDetails } from '../common/details';

/** What to do with a placeholder for a coupon the contact holds no active code of. */
export type MissingCouponAction = 'assign' | 'leave' | 'fail';
export const MISSING_COUPON_ACTIONS: readonly MissingCouponAction[] = ['assign', 'leave', 'fail'];

/**
 * What becomes of a coupon placeholder that cannot be filled (no such coupon or detail, no active
 * coupon left unassigned, a name that cannot be one): the item fails, or the placeholder is left
 * in the text or removed from it; either way `unresolved` lists it.
 */
export type UnfilledAction = 'fail' | 'leave' | 'remove';
export const UNFILLED_ACTIONS: readonly UnfilledAction[] = ['fail', 'leave', 'remove'];

export interface RenderSettings {
	whenMissing: MissingCouponAction;
	/** For "assign": a name no coupon has becomes a generated coupon; otherwise it cannot be filled. */
	createCoupons: boolean;
	whenUnfilled: UnfilledAction;
	/** For "assign": how long a coupon assigned now stays valid, and how a generated one looks. */
	validDays: number;
	format: CodeFormat;
	/** For "assign": how many coupons the run may create; a message that would pass it fails. */
	maxNewCoupons: number;
	/** How `$cst.<name>.coupon.validUntil$` writes the date. */
	dates: DateStyle;
}

export const DEFAULT_MAX_NEW_COUPONS_PER_RUN = 100;

export interface RenderRequest extends ContactRequest {
	template: string;
	settings: RenderSettings;
	/** With "assign": what a placeholder gets when its coupon has no code for the contact (fail when missing). */
	ifNoCoupon?: NoCouponSetting;
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
	coupons: Array<AssignmentResult | FallbackCoupon>;
	/**
	 * Why a coupon of the text had no code for the contact, when If No Coupon Is Available did not
	 * fail the item: it then carries the fallback code, or goes to the No Coupon output.
	 */
	noCoupon?: NoCoupon;
	/** Every `$cst.` left in the text, and why (the first MAX_LISTED_UNRESOLVED). */
	unresolved: UnresolvedPlaceholder[];
	/** Unresolved placeholders past those listed, when there are any. */
	unresolvedNotListed?: number;
}

const heldAssignment = (pool: PoolInfo, held: HeldAssignment): AssignmentResult => ({
	name: pool.name,
	code: held.code,
	contact: held.contactKey,
	assignedAt: new Date(held.assignedAt).toISOString(),
	validUntil: new Date(held.validUntil).toISOString(),
	source: pool.kind,
	reused: true,
	details: mergedDetails(pool.details, held.details),
});

/** The built-in field of `$cst.<name>.coupon.<field>$`; every other field names a detail. */
const VALID_UNTIL = 'validUntil';
const LISTED_DETAILS = 10;
// Detail values come from spreadsheets and expressions: in an HTML message they are written as text.
const HTML_TAG = /<[a-z!/]/i;
const HTML_SPECIAL = /[&<>"']/g;
const HTML_ESCAPES = new Map([
	['&', '&amp;'],
	['<', '&lt;'],
	['>', '&gt;'],
	['"', '&quot;'],
	["'", '&#39;'],
]);

/** What a placeholder stands for in the coupon, or an unknown-detail problem. */
function placeholderText(
	placeholder: CouponPlaceholder,
	coupon: AssignmentResult | FallbackCoupon,
	request: RenderRequest,
	html: boolean,
): string | UnresolvedPlaceholder {
	const { detail } = placeholder;
	if (detail === undefined) return coupon.code;
	if (coupon.source === 'fallback')
		return {
			placeholder: placeholder.text,
			problem: 'fallback_code',
			message: `${placeholder.text}: coupon "${coupon.name}" had no code for the contact, who got the fallback code ${coupon.code}, which has no validity or details`,
		};
	if (detail === VALID_UNTIL)
		return formatDate(Date.parse(coupon.validUntil), request.settings.dates);
	if (!Object.hasOwn(coupon.details, detail)) {
		const names = Object.keys(coupon.details).sort();
		const known =
			names.length === 0
				? 'it has no details'
				: `its details are ${names
						.slice(0, LISTED_DETAILS)
						.map((name) => `"${name}"`)
						.join(', ')}${names.length > LISTED_DETAILS ? ', ...' : ''}`;
		return {
			placeholder: placeholder.text,
			problem: 'unknown_detail',
			message: `${placeholder.text}: coupon "${coupon.name}" has no detail "${detail}" (${known}); ${VALID_UNTIL} is always there`,
		};
	}
	const value = coupon.details[detail];
	const text = value === null ? '' : String(value);
	return html ? text.replace(HTML_SPECIAL, (c) => HTML_ESCAPES.get(c)!) : text;
}

/**
 * Replaces each `$cst.<coupon name>.coupon$` with the contact's active coupon of that name (the
 * newest, if it holds several). An expired, redeemed or replaced coupon is never rendered: the
 * placeholder is then treated as for a contact without one, as the request's `whenMissing` says.
 * Coupons assigned on the way go through `assignCouponsForRun`, as Generate for Contact's do.
 */
export async function renderMessages(
	session: CouponStoreSession,
	requests: RenderRequest[],
	now: number,
): Promise<RenderResult> {
	const { turns } = session;
	const templates: ParsedTemplate[] = [];
	for (const { template } of requests) {
		templates.push(parseTemplate(template));
		if (turns.due()) await turns.pass();
	}

	// Coupon names as first written.
	const names = new Map<string, string>();
	for (const { placeholders } of templates)
		for (const { name, nameKey } of placeholders) if (!names.has(nameKey)) names.set(nameKey, name);
	const pools = new Map<string, PoolInfo | undefined>();
	for (const [nameKey, name] of names) pools.set(nameKey, await session.findPool(name));
	// Named in messages about names no coupon has: looked up once, only when there are such names.
	const unknownNames = [...pools.values()].includes(undefined)
		? new UnknownCouponNames((await session.listPools()).map((pool) => pool.name))
		: undefined;

	// The active coupon per contact and coupon name, from what the contacts hold...
	const held = await session.assignmentsOfContacts(requests.map((r) => r.contactKey));
	const assignments = new Map<string, AssignmentResult>();
	// A contact's assignment of one coupon, keyed by both.
	const holdingKey = (contactKey: string, nameKey: string) => `${contactKey}\n${nameKey}`;
	requests.forEach(({ contactKey }) => {
		const newestFirst = [...(held.get(contactKey) ?? [])].sort(
			(a, b) => b.assignedAt - a.assignedAt,
		);
		for (const assignment of newestFirst) {
			const key = holdingKey(contactKey, couponNameKey(assignment.couponName));
			const pool = pools.get(couponNameKey(assignment.couponName));
			if (pool && assignmentStatus(assignment, now) === 'active' && !assignments.has(key))
				assignments.set(key, heldAssignment(pool, assignment));
		}
	});

	// ...and, with "assign", a coupon for each message whose contact holds none, assigned exactly as
	// Generate for Contact would for these items (the same batches, a name no coupon has yet becoming
	// a generated coupon): a contact in several messages gets one coupon, new in the first message
	// only, and a refused format (Length too short) concerns only the messages that needed one.
	const refused = refuseNewCouponsPastLimit(requests, templates, pools);
	const wanted: AssignmentRequest[] = [];
	const wantedIndex = new Map<string, number>();
	const messageKey = (i: number, nameKey: string) => `${i}\n${nameKey}`;
	requests.forEach(({ contact, contactKey, settings }, i) => {
		if (settings.whenMissing !== 'assign' || refused.has(i)) return;
		for (const { nameKey } of templates[i].placeholders) {
			if (assignments.has(holdingKey(contactKey, nameKey))) continue;
			if (!pools.get(nameKey) && !settings.createCoupons) continue;
			if (wantedIndex.has(messageKey(i, nameKey))) continue;
			wantedIndex.set(messageKey(i, nameKey), wanted.length);
			const couponName = pools.get(nameKey)?.name ?? names.get(nameKey)!;
			const { validDays, format } = settings;
			wanted.push({
				contact,
				contactKey,
				// A coupon Render creates allows one use per code; Generate for Contact can set more.
				settings: { couponName, validDays, policy: 'reuse', format, usesPerCode: 1 },
			});
		}
	});
	const assigned = await assignCouponsForRun(session, wanted, now);
	for (const { pool } of assigned.pools) pools.set(couponNameKey(pool.name), pool);
	const created = assigned.pools.filter((served) => served.created).map(({ pool }) => pool.name);

	const outcomes: Array<Outcome<RenderedMessage>> = [];
	for (const [i, request] of requests.entries()) {
		outcomes.push(renderOne(request, i));
		if (turns.due()) await turns.pass();
	}
	return { outcomes, createdCoupons: created };

	function renderOne(request: RenderRequest, i: number): Outcome<RenderedMessage> {
		const refusal = refused.get(i);
		if (refusal) return { error: refusal };
		const { placeholders, unresolved, invalid } = templates[i];
		const { whenMissing, whenUnfilled } = request.settings;
		const used = new Map<string, AssignmentResult | FallbackCoupon>();
		let failure: CouponError | undefined;
		let noCoupon: NoCoupon | undefined;
		const ifNoCoupon: NoCouponSetting = request.ifNoCoupon ?? { action: 'fail' };
		const { action } = ifNoCoupon;
		/**
		 * The coupon a placeholder gets from the outcome of assigning it: undefined when it got none
		 * (the message fails), null when its coupon had no code and the message goes to No Coupon.
		 */
		const settled = (
			outcome: Outcome<AssignmentResult>,
			assigning: AssignmentRequest,
		): AssignmentResult | FallbackCoupon | null | undefined => {
			if ('value' in outcome) return outcome.value;
			const { error } = outcome;
			if (action === 'fail' || !(error instanceof NoCouponError)) {
				failure ??= error;
				return undefined;
			}
			const why = noCouponOf(error, assigning);
			noCoupon ??= why;
			return ifNoCoupon.action === 'fallbackCode'
				? fallbackCoupon(why, ifNoCoupon.fallbackCode)
				: null;
		};
		const html = HTML_TAG.test(request.template);
		const unfilled = whenUnfilled === 'remove' ? '' : undefined;
		const textFor = (placeholder: CouponPlaceholder) => {
			const j = wantedIndex.get(messageKey(i, placeholder.nameKey));
			const assignment =
				j === undefined
					? assignments.get(holdingKey(request.contactKey, placeholder.nameKey))
					: settled(assigned.outcomes[j], wanted[j]);
			// Left as written: the message goes to No Coupon, which says why.
			if (assignment === null) return undefined;
			if (assignment) {
				if (!used.has(placeholder.nameKey)) used.set(placeholder.nameKey, assignment);
				const text = placeholderText(placeholder, assignment, request, html);
				if (typeof text === 'string') return text;
				unresolved.add(placeholder.text, text.problem, text.message);
				return unfilled;
			}
			const pool = pools.get(placeholder.nameKey);
			if (!pool)
				unresolved.add(
					placeholder.text,
					'unknown_coupon',
					() =>
						`${placeholder.text}: no coupon is named "${placeholder.name}". ${unknownNames!.near(placeholder.name)}`,
				);
			else {
				const problem = noActiveCoupon(
					placeholder,
					pool,
					request,
					held.get(request.contactKey),
					now,
				);
				unresolved.add(placeholder.text, problem.problem, problem.message);
			}
			return unfilled;
		};
		const text = fillTemplate(
			request.template,
			placeholders,
			textFor,
			whenUnfilled === 'remove' ? invalid : [],
		);
		if (failure) return { error: failure };
		const answer = {
			text,
			coupons: [...used.values()],
			unresolved: unresolved.list,
			...(unresolved.notListed > 0 ? { unresolvedNotListed: unresolved.notListed } : {}),
			...(noCoupon ? { noCoupon } : {}),
		};
		// Only coupon placeholders block: other kinds of $cst. placeholder (a first name, say) pass
		// for another step to fill. A `$cst.` that does not end like a placeholder cannot be removed.
		const blocking =
			whenMissing === 'fail' || whenUnfilled === 'fail'
				? unresolved.firstBlocking
				: whenUnfilled === 'remove'
					? unresolved.firstMalformed
					: undefined;
		if (blocking)
			return {
				error: new CouponError(
					'PLACEHOLDER_UNFILLED',
					blocking.message,
					unfilledFix(blocking, request.settings),
				),
			};
		return { value: answer };
	}
}

const UNFILLED_CHOICE =
	'or set If a Placeholder Cannot Be Filled to "Leave It in the Text" or "Remove It".';

/** What to do about a placeholder that failed its message. */
function unfilledFix(
	{ problem }: UnresolvedPlaceholder,
	{ whenMissing, whenUnfilled }: RenderSettings,
): string {
	switch (problem) {
		case 'malformed':
			return `Correct the placeholder in the template: coupon placeholders look like $cst.SPRING10.coupon$${whenUnfilled === 'remove' ? '. It cannot be removed, as where it ends cannot be told.' : `, ${UNFILLED_CHOICE}`}`;
		case 'invalid_name':
			return `Correct the placeholder in the template: coupon placeholders look like $cst.SPRING10.coupon$, ${UNFILLED_CHOICE}`;
		case 'unknown_coupon':
			return `Correct the coupon name in the template (case does not matter), create the coupon first (Coupon Import, Create Codes or Generate for Contact)${whenMissing === 'assign' ? ', turn on Create Unknown Coupons' : ''}, ${UNFILLED_CHOICE}`;
		case 'unknown_detail':
			return `Correct the detail in the template, or give the coupon that detail (Coupon Details, or Keep Columns of Coupon Import), ${UNFILLED_CHOICE}`;
		case 'fallback_code':
			return `Add codes to the coupon, keep only code placeholders (such as $cst.SPRING10.coupon$) where the fallback code may stand, send such messages to the No Coupon output (If No Coupon Is Available), ${UNFILLED_CHOICE}`;
		default:
			return whenMissing === 'fail'
				? 'Assign the coupon with "Generate for Contact" before this step, or set If Contact Has No Active Coupon to "Assign One Now".'
				: `Assign the coupon with "Generate for Contact" before this step, set If Contact Has No Active Coupon to "Assign One Now", ${UNFILLED_CHOICE}`;
	}
}

/** How many names no coupon has get the closest coupon names worked out, in one run. */
const NAMES_SUGGESTED_PER_RUN = 100;

/**
 * What to say of a name no coupon has: the closest names there are, worked out once per name and
 * for a bounded number of names, so that a template of thousands of unknown names stays cheap.
 */
class UnknownCouponNames {
	private readonly said = new Map<string, string>();

	constructor(private readonly names: string[]) {}

	near(name: string): string {
		const key = couponNameKey(name);
		let text = this.said.get(key);
		if (text === undefined) {
			text =
				this.said.size < NAMES_SUGGESTED_PER_RUN
					? `${knownCouponsText(this.names, name)}.`
					: `There are ${this.names.length.toLocaleString('en-US')} coupons.`;
			this.said.set(key, text);
		}
		return text;
	}
}

/**
 * The messages that would take the run's new coupons (names no coupon has yet, which "assign"
 * creates) past Max New Coupons: a template of thousands of distinct placeholders must not create
 * thousands of coupons. Messages are taken in order; one that would pass the limit creates none.
 */
function refuseNewCouponsPastLimit(
	requests: RenderRequest[],
	templates: ParsedTemplate[],
	pools: Map<string, PoolInfo | undefined>,
): Map<number, CouponError> {
	const created = new Set<string>();
	const refused = new Map<number, CouponError>();
	requests.forEach(({ settings }, i) => {
		if (settings.whenMissing !== 'assign' || !settings.createCoupons) return;
		const own = new Map<string, string>();
		for (const { nameKey, name } of templates[i].placeholders)
			if (!pools.get(nameKey) && !created.has(nameKey)) own.set(nameKey, name);
		if (created.size + own.size <= settings.maxNewCoupons) {
			for (const nameKey of own.keys()) created.add(nameKey);
			return;
		}
		const names = [...own.values()].slice(0, 3).map((name) => `"${name}"`);
		refused.set(
			i,
			new CouponError(
				'LIMIT_EXCEEDED',
				`The text names ${own.size.toLocaleString('en-US')} coupons that do not exist yet (${names.join(', ')}${own.size > 3 ? ', ...' : ''}); creating them would pass Max New Coupons (${settings.maxNewCoupons.toLocaleString('en-US')} in one run, ${created.size.toLocaleString('en-US')} created already)`,
				'Check the placeholders of the template for typos, import the coupons first, or raise Max New Coupons in the options.',
			),
		);
	});
	return refused;
}

/** Why a coupon that exists is not in the message: the contact holds no active code of it. */
function noActiveCoupon(
	placeholder: CouponPlaceholder,
	pool: PoolInfo,
	request: RenderRequest,
	held: HeldAssignment[] = [],
	now: number,
): UnresolvedPlaceholder {
	const last = held
		.filter((c) => couponNameKey(c.couponName) === placeholder.nameKey)
		.sort((a, b) => b.assignedAt - a.assignedAt)[0];
	const why = last ? ` (the last one is ${assignmentStatus(last, now)})` : '';
	return {
		placeholder: placeholder.text,
		problem: 'no_active_coupon',
		message: `${placeholder.text}: ${request.contact} has no active coupon "${pool.name}"${why}`,
	};
}
