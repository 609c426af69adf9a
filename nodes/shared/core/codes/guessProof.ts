import type { CodeFormat } from '../storeContract';
import { NoCouponError } from '../common/errors';
import { layoutOf, MIN_LENGTH } from './codeFormat';

// The guessing rule: a coupon's codes must be too many to guess, for the number of codes it holds.

/** A random guess may hit a code of the coupon at most once in this many tries. */
export const GUESS_ODDS = 1_000_000;

/** How many different codes the format can make, as a base-10 logarithm (it may pass 2^53). */
export function log10KeySpace(format: CodeFormat): number {
	return layoutOf(format).reduce(
		(sum, slot) => sum + (slot.literal ? 0 : Math.log10(slot.draws.length)),
		0,
	);
}

/** The shortest length at which `codeCount` codes keep a random guess below 1 in GUESS_ODDS. */
export function minimumSafeLength(codeCount: number, alphabetSize: number): number {
	return Math.max(MIN_LENGTH, positionsNeeded(codeCount, 0, alphabetSize));
}

/** Random positions of `size` characters to add to a space of 10^log10Space for `codeCount` codes. */
function positionsNeeded(codeCount: number, log10Space: number, size: number): number {
	const missing = Math.log10(Math.max(codeCount, 1) * GUESS_ODDS) - log10Space;
	return Math.max(0, Math.ceil(missing / Math.log10(size) - 1e-9));
}

const formatCount = (n: number) => Math.round(n).toLocaleString('en-US');

/**
 * Refuses a format whose codes are too few for a coupon that will hold `codeCount` codes: a random
 * guess must hit one at most once in GUESS_ODDS tries. The error names a length or pattern that would do.
 */
export function assertGuessProof(format: CodeFormat, codeCount: number, couponName: string): void {
	const error = guessProofError(format, codeCount, couponName);
	if (error) throw error;
}

/** The refusal assertGuessProof throws, or undefined when the format holds `codeCount` codes. */
export function guessProofError(
	format: CodeFormat,
	codeCount: number,
	couponName: string,
): NoCouponError | undefined {
	const log10Space = log10KeySpace(format);
	if (log10Space + 1e-9 >= Math.log10(Math.max(codeCount, 1) * GUESS_ODDS)) return undefined;
	const odds = `a random guess could match one of them about 1 in ${formatCount(10 ** log10Space / codeCount)} tries`;
	const goal = `so that a guess succeeds at most 1 in ${GUESS_ODDS.toLocaleString('en-US')} tries`;
	const count = `${codeCount.toLocaleString('en-US')} code${codeCount === 1 ? '' : 's'}`;
	if (format.pattern === undefined) {
		const needed = minimumSafeLength(codeCount, format.characters.length);
		return new NoCouponError(
			'length_too_short',
			'LENGTH_TOO_SHORT',
			`Length ${format.length} is too short for coupon "${couponName}": with ${count}, ${odds}`,
			`Set Length to ${needed} or more (${format.characters.length} possible characters), ${goal}.`,
		);
	}
	return new NoCouponError(
		'length_too_short',
		'LENGTH_TOO_SHORT',
		`The pattern "${format.pattern}" makes only ${formatCount(10 ** log10Space)} different codes, too few for coupon "${couponName}": with ${count}, ${odds}`,
		`Use a pattern with more random characters, such as "${longerPattern(format, codeCount, log10Space)}", ${goal}.`,
	);
}

/** The pattern with its last placeholder repeated until its codes are enough. */
function longerPattern(format: CodeFormat, codeCount: number, log10Space: number): string {
	const pattern = format.pattern!;
	const slots = layoutOf(format);
	let at = slots.length - 1;
	while (at >= 0 && (slots[at].literal || slots[at].draws.length < 2)) at--;
	// A placeholder of one possible character adds nothing: grow the pattern with * at its end.
	const placeholder = at < 0 ? '*' : pattern[at];
	const size = placeholder === '*' ? format.characters.length : slots[at].draws.length;
	if (at < 0) at = pattern.length - 1;
	const extra = placeholder.repeat(positionsNeeded(codeCount, log10Space, size));
	return pattern.slice(0, at + 1) + extra + pattern.slice(at + 1);
}
