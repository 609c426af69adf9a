import { CouponError } from './errors';

export const MAX_COUPON_NAME_LENGTH = 100;
export const MAX_CONTACT_LENGTH = 320;

// `$` and `.` delimit placeholders such as `$cst.<name>.coupon$`.
const PLACEHOLDER_DELIMITER = /[$.]/;
/**
 * What no name, contact, code or order reference may hold: Unicode's control characters (category
 * Cc, written as ranges: faster than \p{Cc} on a million values), the line and paragraph
 * separators U+2028 and U+2029 (line breaks to many programs), and lone UTF-16 surrogates, the
 * halves of a broken character. JavaScript strings can hold those but PostgreSQL stores them as
 * U+FFFD, so two different values would be one stored value; every store refuses them alike.
 */
export const UNSAFE_CHARACTER =
	// eslint-disable-next-line no-control-regex -- control characters are what it finds
	/[\x00-\x1f\x7f-\x9f\u2028\u2029]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * What a customer cannot type or see in a code: invisible and direction-changing characters
 * (Cf), combining marks (M) and spaces other than the plain one (Z). Codes made here (their
 * characters, prefix, suffix and pattern) never hold them.
 */
export const UNTYPEABLE_CHARACTER = /(?! )[\p{Cf}\p{M}\p{Z}]/u;

/** Input a message quotes is cut after this many characters: a huge value must not flood it. */
export const ECHO_LENGTH = 60;

/** A value as messages quote it: written as JSON, cut after ECHO_LENGTH characters. */
export function echo(value: unknown): string {
	let text: string;
	try {
		text = JSON.stringify(value) ?? String(value);
	} catch {
		text = typeof value;
	}
	if (text.length > ECHO_LENGTH) {
		// A cut between the halves of a pair would leave a broken character in the message.
		const end = /[\ud800-\udbff]/.test(text[ECHO_LENGTH - 1]) ? ECHO_LENGTH - 1 : ECHO_LENGTH;
		text = `${text.slice(0, end)}…`;
	}
	// Shown as \uXXXX: a direction control would turn the rest of the message around.
	return text.replace(UNSEEN, (c) =>
		[...c].length === 1 && c.length === 2
			? `\\u{${c.codePointAt(0)!.toString(16)}}`
			: `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
	);
}

/** `raw` when it is one of `values` (`fallback` when missing), or CouponError CHOICE_UNKNOWN naming `label`. */
export function parseChoice<T extends string>(
	raw: unknown,
	values: readonly T[],
	label: string,
	fallback: T,
): T {
	const value = raw ?? fallback;
	if (values.includes(value as T)) return value as T;
	throw new CouponError(
		'CHOICE_UNKNOWN',
		`Unknown choice ${echo(value)} for ${label}`,
		'Choose one of the listed choices.',
	);
}

/** What a message shows escaped: invisible, direction and line-separating characters, broken halves. */
const UNSEEN =
	/[\p{Cf}\u2028\u2029]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/gu;

/** Problems with a coupon name, or undefined when it can be used. */
export function couponNameProblem(name: string): string | undefined {
	if (name === '') return 'The coupon name is empty';
	if (name.length > MAX_COUPON_NAME_LENGTH) {
		return `The coupon name is ${name.length} characters long; the limit is ${MAX_COUPON_NAME_LENGTH}`;
	}
	const forbidden = PLACEHOLDER_DELIMITER.exec(name) ?? UNSAFE_CHARACTER.exec(name);
	if (forbidden) {
		return `The coupon name "${name}" contains ${describeCharacter(forbidden[0])}, which a coupon name cannot hold ($ and . mark placeholders such as $cst.SPRING10.coupon$)`;
	}
	return undefined;
}

/**
 * A parameter as trimmed text: a string, or a finite number written out; nothing is ''. Anything
 * else an expression may return (an object, a list, NaN) is refused rather than turned into text
 * such as "[object Object]" or "NaN".
 */
export function textParameter(raw: unknown, what: string, fix: string): string {
	if (typeof raw === 'string') return raw.trim();
	if (typeof raw === 'number' && Number.isFinite(raw)) return String(raw);
	if (raw === undefined || raw === null) return '';
	throw new CouponError('TEXT_INVALID', `${what} is ${describeValue(raw)}, not text`, fix);
}

function describeValue(raw: unknown): string {
	if (typeof raw === 'number') return `the number ${String(raw)}`;
	if (Array.isArray(raw)) return 'a list';
	if (typeof raw === 'object') return 'an object';
	return `${typeof raw === 'boolean' ? 'the boolean' : `a ${typeof raw}`} ${String(raw)}`;
}

/** The trimmed coupon name, or a CouponError that says what to enter. */
export function parseCouponName(raw: unknown): string {
	const fix =
		'Enter the name of an imported coupon list, or a new name to create a generated coupon, such as "WELCOME10".';
	const name = textParameter(raw, 'The coupon name', fix);
	const problem = couponNameProblem(name);
	if (problem) throw new CouponError('NAME_INVALID', problem, fix);
	return name;
}

/** A coupon name that may be left empty (undefined then), or a CouponError. */
export function parseOptionalCouponName(raw: unknown): string | undefined {
	return textParameter(raw, 'The coupon name', 'Enter a coupon name, or leave it empty.') === ''
		? undefined
		: parseCouponName(raw);
}

/** Coupon names match whatever their case or Unicode form: "Summer" and "SUMMER" are one coupon. */
export function couponNameKey(name: string): string {
	return name.trim().normalize('NFC').toLowerCase();
}

/**
 * Orders coupon names by their keys' code points, as PostgreSQL's "C" collation does. Runs that use
 * several coupons lock them in this order, so they cannot deadlock.
 */
export function compareCouponNames(a: string, b: string): number {
	const keyA = couponNameKey(a);
	const keyB = couponNameKey(b);
	return keyA < keyB ? -1 : keyA > keyB ? 1 : 0;
}

/** The trimmed contact as given, and the key it is matched by (case-insensitive). */
export function parseContact(raw: unknown): { contact: string; key: string } {
	const fix =
		'Map Contact to a field that identifies the person, such as {{ $json.email }}, and check that the incoming item has it.';
	const contact = textParameter(raw, 'The contact', fix);
	if (contact === '') throw new CouponError('CONTACT_INVALID', 'The contact is empty', fix);
	if (contact.length > MAX_CONTACT_LENGTH) {
		throw new CouponError(
			'CONTACT_INVALID',
			`The contact is ${contact.length} characters long; the limit is ${MAX_CONTACT_LENGTH}`,
			fix,
		);
	}
	const unsafe = UNSAFE_CHARACTER.exec(contact);
	if (unsafe)
		throw new CouponError(
			'CONTACT_INVALID',
			`The contact contains ${describeCharacter(unsafe[0])}`,
			fix,
		);
	return { contact, key: contact.normalize('NFC').toLowerCase() };
}

/** Characters that change the direction text is shown in: a name could display reversed. */
const DIRECTION_CONTROL = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

/** A character as messages name it: itself when it can be seen, else what it is and its code point. */
export function describeCharacter(character: string): string {
	const codePoint = `U+${character.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
	if (character === '\n' || character === '\r') return 'a line break';
	if (character === '\u2028' || character === '\u2029') return `a line break (${codePoint})`;
	if (character === '\t') return 'a tab';
	if (character.length === 1 && character >= '\ud800' && character <= '\udfff')
		return `half of a broken character (the lone UTF-16 surrogate ${codePoint})`;
	if (UNSAFE_CHARACTER.test(character)) return `the control character ${codePoint}`;
	if (DIRECTION_CONTROL.test(character)) return `the direction control ${codePoint}`;
	if (/\p{Cf}/u.test(character)) return `the invisible character ${codePoint}`;
	if (/\p{M}/u.test(character)) return `the combining mark ${codePoint}`;
	if (/\p{Z}/u.test(character)) return `the space ${codePoint}`;
	return `"${character}"`;
}
