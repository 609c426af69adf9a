import { detailNameProblem, MAX_DETAIL_NAME_LENGTH } from '../common/details';
import { couponNameKey, couponNameProblem, MAX_COUPON_NAME_LENGTH } from '../common/names';

/** Why a `$cst.` in a template is not rendered. */
export type PlaceholderProblem =
	| 'malformed'
	| 'not_a_coupon'
	| 'invalid_name'
	| 'unknown_coupon'
	| 'no_active_coupon'
	| 'unknown_detail'
	| 'fallback_code';

/**
 * A `$cst.<coupon name>.coupon$` placeholder whose name can be a coupon name, or
 * `$cst.<coupon name>.coupon.<detail>$`, which stands for a detail of that coupon (or `validUntil`).
 */
export interface CouponPlaceholder {
	text: string;
	start: number;
	end: number;
	name: string;
	nameKey: string;
	detail?: string;
}

export interface UnresolvedPlaceholder {
	/** The placeholder as written (for a malformed one, its first characters). */
	placeholder: string;
	problem: PlaceholderProblem;
	message: string;
}

/** Where a placeholder stands in the template: from `start` up to `end`. */
export interface Span {
	start: number;
	end: number;
}

export interface ParsedTemplate {
	placeholders: CouponPlaceholder[];
	/** Each distinct `$cst.` that cannot be a coupon placeholder, once, in order of appearance. */
	unresolved: UnresolvedList;
	/** Where the coupon placeholders whose name or detail cannot be one stand, in order. */
	invalid: Span[];
}

// The longest name part a coupon placeholder can have: a name, plus spaces around it.
const MAX_NAME_PART = MAX_COUPON_NAME_LENGTH + 20;
const MAX_DETAIL_PART = MAX_DETAIL_NAME_LENGTH + 20;
// Every `$cst.`, then either a name and `.coupon` (the shortest such) with perhaps `.<detail>`, or
// another placeholder's `<word>` without spaces or tags (reported, not a coupon), each before a `$`.
// None may run past a `$`, so an unclosed `$cst.` never swallows the placeholder after it, and the
// bounds keep the scan linear. The closing `$` is only looked at, not consumed:
// `$cst.A.coupon$cst.B.coupon$` is two.
const PLACEHOLDER = new RegExp(
	`\\$cst\\.(?:([^$]{0,${MAX_NAME_PART}}?)\\.coupon(?:\\.([^$]{1,${MAX_DETAIL_PART}}))?(?=\\$)|([^$\\s<>]{1,${MAX_NAME_PART}})(?=\\$))?`,
	'gi',
);
// An HTML tag an editor put inside a placeholder, such as $cst.<b>SPRING</b>.coupon$.
const MARKUP = /<[^>]*>/;
// A Map: a template's "&constructor;" must find nothing, not Object's constructor.
const ENTITIES = new Map([
	['amp', '&'],
	['lt', '<'],
	['gt', '>'],
	['quot', '"'],
	['apos', "'"],
	['nbsp', ' '],
]);
const ENTITY = /&(?:#(\d{1,7})|#x([0-9a-f]{1,6})|([a-z]+));/gi;
const MALFORMED_EXCERPT = 30;

/** Finds the coupon placeholders of a template in one linear pass, and reports the rest. */
export function parseTemplate(template: string): ParsedTemplate {
	const placeholders: CouponPlaceholder[] = [];
	const unresolved = new UnresolvedList();
	const invalid: Span[] = [];
	for (const match of template.matchAll(PLACEHOLDER)) {
		const [body, namePart, detailPart, otherBody] = match;
		const start = match.index;
		const text = `${body}$`;
		if (namePart === undefined && otherBody === undefined) {
			const excerpt = template.slice(start, start + MALFORMED_EXCERPT);
			unresolved.add(
				excerpt,
				'malformed',
				`"${excerpt}" starts a placeholder but does not end like one; coupon placeholders look like $cst.SPRING10.coupon$`,
			);
			continue;
		}
		if (namePart === undefined) {
			unresolved.add(
				text,
				'not_a_coupon',
				`${text} is not a coupon placeholder (those end in .coupon$); it was left as it is`,
			);
			continue;
		}
		const markup =
			MARKUP.exec(namePart) ?? (detailPart === undefined ? null : MARKUP.exec(detailPart));
		const span = { start, end: start + text.length };
		if (markup) {
			unresolved.add(
				text,
				'invalid_name',
				`${text} has HTML markup (${markup[0]}) inside it; type the placeholder again as plain text in the template`,
			);
			invalid.push(span);
			continue;
		}
		// In an HTML template a name such as "M&S" is written "M&amp;S".
		const name = decodeEntities(namePart).trim();
		const problem = couponNameProblem(name);
		if (problem) {
			unresolved.add(text, 'invalid_name', `${text} cannot name a coupon: ${problem}`);
			invalid.push(span);
			continue;
		}
		const detail = detailPart === undefined ? undefined : decodeEntities(detailPart).trim();
		const detailProblem = detail === undefined ? undefined : detailNameProblem(detail);
		if (detailProblem) {
			unresolved.add(text, 'invalid_name', `${text} cannot name a detail: ${detailProblem}`);
			invalid.push(span);
			continue;
		}
		placeholders.push({
			text,
			...span,
			name,
			nameKey: couponNameKey(name),
			...(detail === undefined ? {} : { detail }),
		});
	}
	return { placeholders, unresolved, invalid };
}

function decodeEntities(text: string): string {
	if (!text.includes('&')) return text;
	return text.replace(ENTITY, (entity, decimal?: string, hex?: string, named?: string) => {
		const codePoint =
			decimal !== undefined ? Number(decimal) : hex !== undefined ? parseInt(hex, 16) : undefined;
		if (codePoint !== undefined)
			return codePoint <= 0x10ffff ? String.fromCodePoint(codePoint) : entity;
		return ENTITIES.get(named!.toLowerCase()) ?? entity;
	});
}

/** Unresolved placeholders listed at most per message; a template may hold millions of broken ones. */
export const MAX_LISTED_UNRESOLVED = 50;

/**
 * Unresolved placeholders, each distinct one once: a template may repeat one thousands of times.
 * Past MAX_LISTED_UNRESOLVED they are only counted, so a hostile template costs no memory beyond
 * its own size.
 */
export class UnresolvedList {
	readonly list: UnresolvedPlaceholder[] = [];
	/** Unresolved placeholders past the listed ones (repeats of listed ones not counted). */
	notListed = 0;
	/** The first that is a broken or missing coupon placeholder, listed or not. */
	firstBlocking?: UnresolvedPlaceholder;
	/** The first `$cst.` that does not end like a placeholder: where it ends cannot be told. */
	firstMalformed?: UnresolvedPlaceholder;
	private readonly seen = new Set<string>();

	/** Notes one; a message given as a function is worded only when it is kept. */
	add(placeholder: string, problem: PlaceholderProblem, message: string | (() => string)): void {
		const key = `${problem}\n${placeholder}`;
		if (this.seen.has(key)) return;
		const listed = this.list.length < MAX_LISTED_UNRESOLVED;
		const blocking = problem !== 'not_a_coupon' && !this.firstBlocking;
		const malformed = problem === 'malformed' && !this.firstMalformed;
		if (!listed) this.notListed++;
		if (!listed && !blocking && !malformed) return;
		const unresolved = {
			placeholder,
			problem,
			message: typeof message === 'string' ? message : message(),
		};
		if (blocking) this.firstBlocking = unresolved;
		if (malformed) this.firstMalformed = unresolved;
		if (!listed) return;
		this.seen.add(key);
		this.list.push(unresolved);
	}
}

/**
 * The template with each placeholder that `textFor` knows replaced, and the `removed` spans taken
 * out, in one pass; the others stay. Both lists are in template order.
 */
export function fillTemplate(
	template: string,
	placeholders: CouponPlaceholder[],
	textFor: (placeholder: CouponPlaceholder) => string | undefined,
	removed: Span[] = [],
): string {
	const parts: string[] = [];
	let at = 0;
	let next = 0;
	const cut = (span: Span, text: string) => {
		parts.push(template.slice(at, span.start), text);
		at = span.end;
	};
	for (const placeholder of placeholders) {
		while (next < removed.length && removed[next].start < placeholder.start)
			cut(removed[next++], '');
		const text = textFor(placeholder);
		if (text !== undefined) cut(placeholder, text);
	}
	while (next < removed.length) cut(removed[next++], '');
	parts.push(template.slice(at));
	return parts.join('');
}
