import { CouponError } from '../common/errors';
import { describeCharacter, textParameter, UNSAFE_CHARACTER } from '../common/names';

export const MAX_CODE_LENGTH = 255;

/** Digits and capitals without the look-alikes 0/O and 1/I/L. */
export const UNAMBIGUOUS_CHARACTERS = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';

/** The Characters option's values; a Map, so that a value such as "toString" finds nothing. */
export const CHARACTER_SETS: ReadonlyMap<string, string> = new Map([
	['unambiguous', UNAMBIGUOUS_CHARACTERS],
	['alphanumeric', '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ'],
	['digits', '0123456789'],
]);

// Customers type codes with spaces and dashes, in any case; checkout compares codes without them.
const SEPARATORS = /[\s\-_.]/gu;

// Most codes are already in the compared form; they skip the Unicode normalisation (fast imports).
const PLAIN_CODE = /^[0-9A-Z]+$/;

/**
 * The form two codes are compared in: trimmed, upper-case, separators removed.
 * Uniqueness within a coupon is uniqueness of this key.
 */
export function codeKey(code: string): string {
	if (PLAIN_CODE.test(code)) return code;
	return code.normalize('NFKC').replace(SEPARATORS, '').toUpperCase();
}

/** A spreadsheet value's code key, or why the value cannot be a code. */
export function readCodeValue(value: string): { key: string } | { problem: string } {
	if (value.length > MAX_CODE_LENGTH)
		return { problem: `longer than ${MAX_CODE_LENGTH} characters` };
	const unsafe = UNSAFE_CHARACTER.exec(value);
	if (unsafe) return { problem: `contains ${describeCharacter(unsafe[0])}` };
	const key = codeKey(value);
	return key === '' ? { problem: 'has no letters or digits' } : { key };
}

/** A code typed at checkout: trimmed, with its code key, or a CouponError that says what to map. */
export const parseCheckoutCode = (raw: unknown): { code: string; key: string } =>
	parseCode(
		raw,
		'The code',
		'Map Code to the field holding the code the customer entered, such as {{ $json.body.code }}.',
	);

/** A code given as a parameter (`what` names it): trimmed, with its code key, or a CouponError with `fix`. */
export function parseCode(raw: unknown, what: string, fix: string): { code: string; key: string } {
	const code = textParameter(raw, what, fix);
	if (code === '') throw new CouponError('CODE_INVALID', `${what} is empty`, fix);
	const read = readCodeValue(code);
	if ('problem' in read) throw new CouponError('CODE_INVALID', `${what} ${read.problem}`, fix);
	return { code, key: read.key };
}
