import { CouponError } from './errors';
import { echo } from './names';

/** A limit set in the options (Max Rows, Max New Coupons...): a whole number of at least 1. */
export function parseLimit(raw: unknown, label: string): number {
	const value = numberParameter(raw);
	if (typeof value !== 'number' || !Number.isInteger(value) || value < 1)
		throw new CouponError(
			'NUMBER_INVALID',
			`${label} must be a whole number of at least 1; got ${echo(raw)}`,
			`Enter a positive whole number in ${label}.`,
		);
	return value;
}

// Digits, perhaps signed, perhaps with a decimal point: not "0x10", "1e3", "Infinity" or "".
const DECIMAL_TEXT = /^[+-]?\d{1,16}(?:\.\d{1,16})?$/;

/**
 * A number parameter as a number: an expression may give it as text, such as "15". Only plain
 * decimal text is read; anything else stays as it is, for the parser to refuse by name.
 */
export function numberParameter(raw: unknown): unknown {
	if (typeof raw !== 'string') return raw;
	const text = raw.trim();
	return DECIMAL_TEXT.test(text) ? Number(text) : raw;
}
