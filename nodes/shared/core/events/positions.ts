import type { EventPosition } from '../storeContract';

const byCodeUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The order of a stream's events: time, then coupon name key, code key and use number. */
export function comparePositions(a: EventPosition, b: EventPosition): number {
	return (
		a.at - b.at ||
		byCodeUnits(a.couponKey, b.couponKey) ||
		byCodeUnits(a.codeKey, b.codeKey) ||
		a.n - b.n
	);
}

/** The position before every event of time `at` and after every earlier one. */
export const startOf = (at: number): EventPosition => ({ at, couponKey: '', codeKey: '', n: 0 });
