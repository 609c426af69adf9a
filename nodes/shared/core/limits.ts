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
