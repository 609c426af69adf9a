import { customAlphabet } from 'nanoid';
import { CouponError } from './errors';
import { describeCharacter, textParameter, UNSAFE_CHARACTER } from './names';

export const MIN_LENGTH = 4;
export const MAX_LENGTH = 64;
export const MAX_CODE_LENGTH = 255;
export const MAX_PREFIX_LENGTH = 32;
/** A random guess may hit a code of the coupon at most once in this many tries. */
export const GUESS_ODDS = 1_000_000;

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

export interface CodeFormat {
	characters: string;
	length: number;
	prefix: string;
}

export function parseLength(raw: unknown): number {
	if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < MIN_LENGTH || raw > MAX_LENGTH) {
		throw new CouponError(
			`Length must be a whole number from ${MIN_LENGTH} to ${MAX_LENGTH}; got ${JSON.stringify(raw)}`,
			'Enter how many random characters each generated code has; 8 suits most campaigns.',
		);
	}
	return raw;
}

export function resolveCharacters(set: unknown, custom: unknown): string {
	if (set !== 'custom') {
		const characters = typeof set === 'string' ? CHARACTER_SETS.get(set) : undefined;
		if (characters === undefined)
			throw new CouponError(
				`Unknown character set ${JSON.stringify(set) ?? String(set)}`,
				`Set Characters to one of ${[...CHARACTER_SETS.keys(), 'custom'].map((name) => `"${name}"`).join(', ')}.`,
			);
		return characters;
	}
	const fix =
		'Enter at least 2 different letters or digits, for example ABCDEFGHJKMNPQRSTUVWXYZ23456789.';
	const characters = [...new Set(textParameter(custom, 'Custom Characters', fix))].join('');
	if (characters.length < 2)
		throw new CouponError('Custom Characters needs at least 2 different characters', fix);
	const unusable = [...characters].find(
		(c) => UNSAFE_CHARACTER.test(c) || codeKey(c) === '' || codeKey(c).length !== 1,
	);
	if (unusable !== undefined) {
		throw new CouponError(
			`Custom Characters contains ${describeCharacter(unusable)}, which codes are compared without`,
			fix,
		);
	}
	const keys = new Set([...characters].map(codeKey));
	if (keys.size !== characters.length) {
		throw new CouponError(
			'Custom Characters contains the same letter in upper and lower case, which checkout cannot tell apart',
			fix,
		);
	}
	return characters;
}

export function parsePrefix(raw: unknown): string {
	const fix = 'Enter a short prefix such as "SUMMER-", or leave it empty.';
	const prefix = textParameter(raw, 'The prefix', fix);
	const unsafe = UNSAFE_CHARACTER.exec(prefix);
	const problem =
		prefix.length > MAX_PREFIX_LENGTH
			? `is longer than ${MAX_PREFIX_LENGTH} characters`
			: unsafe
				? `contains ${describeCharacter(unsafe[0])}`
				: undefined;
	if (problem) throw new CouponError(`The prefix ${problem}`, fix);
	return prefix;
}

/** The shortest length at which `codeCount` codes keep a random guess below 1 in GUESS_ODDS. */
export function minimumSafeLength(codeCount: number, alphabetSize: number): number {
	const needed = Math.ceil(
		Math.log(Math.max(codeCount, 1) * GUESS_ODDS) / Math.log(alphabetSize) - 1e-9,
	);
	return Math.max(MIN_LENGTH, needed);
}

/** Refuses a format too short for a coupon that will hold `codeCount` codes. */
export function assertGuessProof(format: CodeFormat, codeCount: number, couponName: string): void {
	const needed = minimumSafeLength(codeCount, format.characters.length);
	if (format.length >= needed) return;
	const space = format.characters.length ** format.length;
	throw new CouponError(
		`Length ${format.length} is too short for coupon "${couponName}": with ${codeCount.toLocaleString('en-US')} codes generated, a random guess could match one of them about 1 in ${Math.floor(space / codeCount).toLocaleString('en-US')} tries`,
		`Set Length to ${needed} or more (${format.characters.length} possible characters), so that a guess succeeds at most 1 in ${GUESS_ODDS.toLocaleString('en-US')} tries.`,
	);
}

const generators = new Map<string, () => string>();

/** A cryptographically random code (nanoid's customAlphabet) in the given format. */
export function generateCode(format: CodeFormat): string {
	const id = `${format.length}:${format.characters}`;
	let generate = generators.get(id);
	if (!generate) {
		generate = customAlphabet(format.characters, format.length);
		generators.set(id, generate);
	}
	return format.prefix + generate();
}

/** A code typed at checkout: trimmed, with its code key, or a CouponError that says what to map. */
export function parseCheckoutCode(raw: unknown): { code: string; key: string } {
	const fix =
		'Map Code to the field holding the code the customer entered, such as {{ $json.body.code }}.';
	const code = textParameter(raw, 'The code', fix);
	if (code === '') throw new CouponError('The code is empty', fix);
	const read = readCodeValue(code);
	if ('problem' in read) throw new CouponError(`The code ${read.problem}`, fix);
	return { code, key: read.key };
}
