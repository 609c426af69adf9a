import { CouponError } from './errors';

/** A limit set in the options (Max Rows, Max New Coupons...): a whole number of at least 1. */
export function parseLimit(value: unknown, label: string): number {
	if (typeof value !== 'number' || !Number.isInteger(value) || value < 1)
		throw new CouponError(
			`${label} must be a whole number of at least 1; got ${JSON.stringify(value) ?? String(value)}`,
			`Enter a positive whole number in ${label}.`,
		);
	return value;
}

/** A number parameter as a number: an expression may give it as text, such as "15". */
export const numberParameter = (raw: unknown): unknown =>
	typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
