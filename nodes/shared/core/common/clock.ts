/**
 * The one clock every coupon rule reads. Tests move it with jest's fake timers
 * (`jest.setSystemTime`), so validity is always judged against the same "now".
 */
export function now(): number {
	return Date.now();
}
