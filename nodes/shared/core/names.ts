import { CouponError } from './errors';

export const MAX_COUPON_NAME_LENGTH = 100;
export const MAX_CONTACT_LENGTH = 320;

// `$` and `.` delimit placeholders such as `$cst.<name>.coupon$`; control characters never belong in a name.
// eslint-disable-next-line no-control-regex -- control characters are what it finds
const FORBIDDEN_IN_NAME = /[$.\x00-\x1f\x7f-\x9f]/;
/**
 * Unicode's control characters (category Cc), which no name, contact, code or order reference may
 * hold; written as ranges: faster than \p{Cc} on a million values.
 */
// eslint-disable-next-line no-control-regex -- control characters are what it finds
export const CONTROL_CHARACTER = /[\x00-\x1f\x7f-\x9f]/;

/** Problems with a coupon name, or undefined when it can be used. */
export function couponNameProblem(name: string): string | undefined {
	if (name === '') return 'The coupon name is empty';
	if (name.length > MAX_COUPON_NAME_LENGTH) {
		return `The coupon name is ${name.length} characters long; the limit is ${MAX_COUPON_NAME_LENGTH}`;
	}
	const forbidden = FORBIDDEN_IN_NAME.exec(name);
	if (forbidden) {
		return `The coupon name "${name}" contains ${describeCharacter(forbidden[0])}, which a coupon name cannot hold ($ and . mark placeholders such as $cst.<name>.coupon$)`;
	}
	return undefined;
}

/** The trimmed coupon name, or a CouponError that says what to enter. */
export function parseCouponName(raw: unknown): string {
	const name = typeof raw === 'string' || typeof raw === 'number' ? String(raw).trim() : '';
	const problem = couponNameProblem(name);
	if (problem) {
		throw new CouponError(
			problem,
			'Enter the name of an imported coupon list, or a new name to create a generated coupon, such as "WELCOME10".',
		);
	}
	return name;
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
	const contact = typeof raw === 'string' || typeof raw === 'number' ? String(raw).trim() : '';
	const fix =
		'Map Contact to a field that identifies the person, such as {{ $json.email }}, and check that the incoming item has it.';
	if (contact === '') throw new CouponError('The contact is empty', fix);
	if (contact.length > MAX_CONTACT_LENGTH) {
		throw new CouponError(
			`The contact is ${contact.length} characters long; the limit is ${MAX_CONTACT_LENGTH}`,
			fix,
		);
	}
	if (CONTROL_CHARACTER.test(contact)) {
		throw new CouponError('The contact contains a line break, tab or other control character', fix);
	}
	return { contact, key: contact.normalize('NFC').toLowerCase() };
}

export function describeCharacter(character: string): string {
	if (character === '\n' || character === '\r') return 'a line break';
	if (character === '\t') return 'a tab';
	if (CONTROL_CHARACTER.test(character))
		return `the control character U+${character.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
	return `"${character}"`;
}
