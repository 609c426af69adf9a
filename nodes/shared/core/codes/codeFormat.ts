import { customAlphabet, random } from 'nanoid';
import { CHARACTER_SETS, codeKey } from './codes';
import { CouponError } from '../common/errors';
import { numberParameter } from '../common/limits';
import { sortedInTurns, Turns } from '../common/turns';
import type { CodeFormat, ImportCandidate } from '../storeContract';
import {
	describeCharacter,
	echo,
	textParameter,
	UNSAFE_CHARACTER,
	UNTYPEABLE_CHARACTER,
} from '../common/names';

/**
 * Any length from 1 is read: the guessing rule (assertGuessProof) says what is too short for the
 * chosen characters, pattern and count, and names the minimum. A bound of its own here would
 * differ from the rule's and clamp silently in the editor.
 */
export const MIN_LENGTH = 1;
export const MAX_LENGTH = 64;
export const MAX_PREFIX_LENGTH = 32;
export const MAX_PATTERN_LENGTH = 64;
/** nanoid draws each character from one random byte: a set of more would never use the rest. */
export const MAX_CHARACTERS = 256;

export const PLACEHOLDERS = '#?*';

/** Whether a stored value has a code format's shape (static data may be edited by hand). */
export function isCodeFormat(value: unknown): value is CodeFormat {
	if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
	const format = value as Record<string, unknown>;
	const text = (field: unknown, max: number) => typeof field === 'string' && field.length <= max;
	const optionalText = (field: unknown, max: number) => field === undefined || text(field, max);
	return (
		text(format.characters, MAX_CHARACTERS) &&
		(format.characters as string).length >= 2 &&
		Number.isInteger(format.length) &&
		(format.length as number) >= MIN_LENGTH &&
		(format.length as number) <= MAX_LENGTH &&
		text(format.prefix, MAX_PREFIX_LENGTH) &&
		optionalText(format.suffix, MAX_PREFIX_LENGTH) &&
		optionalText(format.pattern, MAX_PATTERN_LENGTH) &&
		(format.checkCharacter === undefined || typeof format.checkCharacter === 'boolean')
	);
}

/** Whether two formats make the same codes (a pattern makes Length irrelevant). */
export function sameFormat(a: CodeFormat, b: CodeFormat): boolean {
	return (
		a.characters === b.characters &&
		a.prefix === b.prefix &&
		(a.suffix ?? '') === (b.suffix ?? '') &&
		a.pattern === b.pattern &&
		(a.pattern !== undefined || a.length === b.length) &&
		Boolean(a.checkCharacter) === Boolean(b.checkCharacter)
	);
}

export function parseLength(raw: unknown): number {
	const length = numberParameter(raw);
	if (
		typeof length !== 'number' ||
		!Number.isInteger(length) ||
		length < MIN_LENGTH ||
		length > MAX_LENGTH
	) {
		throw new CouponError(
			'NUMBER_INVALID',
			`Length must be a whole number from ${MIN_LENGTH} to ${MAX_LENGTH}; got ${echo(raw)}`,
			'Enter how many random characters each generated code has; 8 suits most campaigns.',
		);
	}
	return length;
}

export function resolveCharacters(set: unknown, custom: unknown): string {
	if (set !== 'custom') {
		const characters = typeof set === 'string' ? CHARACTER_SETS.get(set) : undefined;
		if (characters === undefined)
			throw new CouponError(
				'CHOICE_UNKNOWN',
				`Unknown character set ${echo(set)}`,
				`Set Characters to one of ${[...CHARACTER_SETS.keys(), 'custom'].map((name) => `"${name}"`).join(', ')}.`,
			);
		return characters;
	}
	const fix =
		'Enter at least 2 different letters or digits, for example ABCDEFGHJKMNPQRSTUVWXYZ23456789.';
	const characters = [...new Set(textParameter(custom, 'Custom Characters', fix))].join('');
	if (characters.length < 2)
		throw new CouponError(
			'FORMAT_INVALID',
			'Custom Characters needs at least 2 different characters',
			fix,
		);
	if (characters.length > MAX_CHARACTERS)
		throw new CouponError(
			'FORMAT_INVALID',
			`Custom Characters has ${characters.length} different characters; the limit is ${MAX_CHARACTERS}`,
			fix,
		);
	const unusable = [...characters].find(
		(c) =>
			c.length !== 1 ||
			UNSAFE_CHARACTER.test(c) ||
			UNTYPEABLE_CHARACTER.test(c) ||
			codeKey(c) === '' ||
			codeKey(c).length !== 1 ||
			PLACEHOLDERS.includes(c),
	);
	if (unusable !== undefined) {
		throw new CouponError(
			'FORMAT_INVALID',
			`Custom Characters contains ${describeCharacter(unusable)}, ${
				UNTYPEABLE_CHARACTER.test(unusable) || UNSAFE_CHARACTER.test(unusable)
					? 'which a customer cannot see or type'
					: 'which codes are compared without or which marks a pattern'
			}`,
			fix,
		);
	}
	const keys = new Set([...characters].map(codeKey));
	if (keys.size !== characters.length) {
		throw new CouponError(
			'FORMAT_INVALID',
			'Custom Characters contains the same letter in upper and lower case, which checkout cannot tell apart',
			fix,
		);
	}
	return characters;
}

/** A Prefix or Suffix: short text without control or broken characters. */
function parseAffix(raw: unknown, label: 'Prefix' | 'Suffix', example: string): string {
	const fix = `Enter a short ${label.toLowerCase()} such as "${example}", or leave it empty.`;
	const affix = textParameter(raw, `The ${label.toLowerCase()}`, fix);
	const unsafe = UNSAFE_CHARACTER.exec(affix) ?? UNTYPEABLE_CHARACTER.exec(affix);
	const problem =
		affix.length > MAX_PREFIX_LENGTH
			? `is longer than ${MAX_PREFIX_LENGTH} characters`
			: unsafe
				? `contains ${describeCharacter(unsafe[0])}`
				: undefined;
	if (problem)
		throw new CouponError('FORMAT_INVALID', `The ${label.toLowerCase()} ${problem}`, fix);
	return affix;
}

export const parsePrefix = (raw: unknown) => parseAffix(raw, 'Prefix', 'SUMMER-');
export const parseSuffix = (raw: unknown) => parseAffix(raw, 'Suffix', '-2027');

/** The characters of the set a placeholder draws from. */
function placeholderCharacters(placeholder: string, characters: string): string {
	if (placeholder === '*') return characters;
	const digit = (c: string) => /^[0-9]$/.test(codeKey(c));
	return [...characters].filter((c) => (placeholder === '#') === digit(c)).join('');
}

const PLACEHOLDER_WORDS = new Map([
	['#', 'a digit'],
	['?', 'a letter'],
]);

/** The trimmed pattern (undefined when empty), or a CouponError naming what to change. */
export function parsePattern(raw: unknown, characters: string): string | undefined {
	const fix =
		'Write # for a digit, ? for a letter and * for any character of Characters, and anything else as it should appear, such as SPRING-####-??.';
	const pattern = textParameter(raw, 'The pattern', fix);
	if (pattern === '') return undefined;
	const unsafe = UNSAFE_CHARACTER.exec(pattern) ?? UNTYPEABLE_CHARACTER.exec(pattern);
	if (unsafe)
		throw new CouponError(
			'FORMAT_INVALID',
			`The pattern contains ${describeCharacter(unsafe[0])}`,
			fix,
		);
	if (pattern.length > MAX_PATTERN_LENGTH)
		throw new CouponError(
			'FORMAT_INVALID',
			`The pattern is ${pattern.length} characters long; the limit is ${MAX_PATTERN_LENGTH}`,
			fix,
		);
	if (![...pattern].some((c) => PLACEHOLDERS.includes(c)))
		throw new CouponError(
			'FORMAT_INVALID',
			`The pattern "${pattern}" has no # ? or *, so every code would be alike`,
			fix,
		);
	for (const [placeholder, word] of PLACEHOLDER_WORDS) {
		if (pattern.includes(placeholder) && placeholderCharacters(placeholder, characters) === '')
			throw new CouponError(
				'FORMAT_INVALID',
				`The pattern "${pattern}" asks for ${word} (${placeholder}) but Characters has none`,
				`Choose Characters that hold ${word === 'a digit' ? 'digits' : 'letters'}, or use * in the pattern.`,
			);
	}
	return pattern;
}

/** One position of the random part: the characters it draws from (one literal character for text). */
export interface Slot {
	draws: string;
	literal: boolean;
}

const layouts = new Map<string, Slot[]>();

/** The positions of the random part, in order; cached per format, as generation asks per code. */
export function layoutOf(format: CodeFormat): Slot[] {
	const id = `${format.pattern ?? format.length}\u0000${format.characters}`;
	let slots = layouts.get(id);
	if (!slots) {
		slots =
			format.pattern === undefined
				? Array.from({ length: format.length }, () => ({
						draws: format.characters,
						literal: false,
					}))
				: [...format.pattern].map((c) =>
						PLACEHOLDERS.includes(c)
							? { draws: placeholderCharacters(c, format.characters), literal: false }
							: { draws: c, literal: true },
					);
		layouts.set(id, slots);
	}
	return slots;
}

const generators = new Map<string, () => string>();

/** nanoid's generator of `size` characters drawn from `draws`, made once per pair. */
function generatorOf(draws: string, size: number): () => string {
	const id = `${size}:${draws}`;
	let generate = generators.get(id);
	if (!generate) {
		generate = customAlphabet(draws, size);
		generators.set(id, generate);
	}
	return generate;
}

/** A cryptographically random code (nanoid's customAlphabet) in the given format. */
export function generateCode(format: CodeFormat): string {
	const drawn = format.pattern === undefined ? drawPlain(format) : drawPattern(format);
	const check = format.checkCharacter ? checkCharacterOf(format, drawn.random) : '';
	return format.prefix + drawn.body + check + (format.suffix ?? '');
}

interface Drawn {
	/** The random part as written, literal text of the pattern included. */
	body: string;
	/** Its random characters alone, in order: what the check character is computed from. */
	random: string;
}

function drawPlain(format: CodeFormat): Drawn {
	const body = generatorOf(format.characters, format.length)();
	return { body, random: body };
}

/** One draw per kind of placeholder, dealt out to its positions in order. */
function drawPattern(format: CodeFormat): Drawn {
	const slots = layoutOf(format);
	const kinds = new Map<string, { text: string; next: number }>();
	for (const slot of slots) {
		if (slot.literal) continue;
		const kind = kinds.get(slot.draws);
		if (kind) kind.next++;
		else kinds.set(slot.draws, { text: '', next: 1 });
	}
	for (const [draws, kind] of kinds) {
		kind.text = generatorOf(draws, kind.next)();
		kind.next = 0;
	}
	let body = '';
	let random = '';
	for (const slot of slots) {
		if (slot.literal) {
			body += slot.draws;
			continue;
		}
		const kind = kinds.get(slot.draws)!;
		const character = kind.text[kind.next++];
		body += character;
		random += character;
	}
	return { body, random };
}

/** The multiplier of the check: 2 as in ISO 7064, or the next number that has no factor with n + 1. */
function multiplierFor(n: number): number {
	let k = 2;
	while (gcd(k, n + 1) !== 1) k++;
	return k;
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/**
 * ISO 7064's hybrid system MOD (n+1, n) over the set's n characters, as MOD 11,10 is over digits
 * and MOD 37,36 over letters and digits: every single mistyped character changes the check.
 * `values` are the positions in the set of the random characters; returns the check's position.
 */
export function checkValue(values: number[], n: number): number {
	const k = multiplierFor(n);
	let p = n;
	for (const value of values) {
		const s = (p + value) % n || n;
		p = (s * k) % (n + 1);
	}
	return (n + 1 - p) % n;
}

/** The set's characters by their code key, as the check reads them. */
const positionsCache = new Map<string, Map<string, number>>();
function positionsOf(characters: string): Map<string, number> {
	let positions = positionsCache.get(characters);
	if (!positions) {
		positions = new Map([...characters].map((c, i) => [codeKey(c), i]));
		positionsCache.set(characters, positions);
	}
	return positions;
}

/** The check character of these random characters (each one of the set, so one UTF-16 unit). */
function checkCharacterOf(format: CodeFormat, random: string): string {
	const positions = positionsOf(format.characters);
	const values = [...random].map((c) => positions.get(codeKey(c))!);
	return format.characters[checkValue(values, format.characters.length)];
}

/**
 * What the format says of a code key: `fits` (its shape and check character are right), `typo`
 * (its shape is the format's but the check character is wrong: a character was mistyped) or
 * `other` (not the format's shape: it may be a code of another kind). Only for formats with a
 * check character. One pass over the key.
 */
export function checkAgainstFormat(key: string, format: CodeFormat): 'fits' | 'typo' | 'other' {
	const positions = positionsOf(format.characters);
	const prefix = codeKey(format.prefix);
	const suffix = codeKey(format.suffix ?? '');
	if (!key.startsWith(prefix) || !key.endsWith(suffix)) return 'other';
	let at = prefix.length;
	const values: number[] = [];
	for (const slot of layoutOf(format)) {
		if (slot.literal) {
			const literal = codeKey(slot.draws);
			if (!key.startsWith(literal, at)) return 'other';
			at += literal.length;
			continue;
		}
		const value = positions.get(key[at]);
		if (value === undefined || !slot.draws.includes(format.characters[value])) return 'other';
		values.push(value);
		at++;
	}
	const check = positions.get(key[at]);
	if (check === undefined || at + 1 + suffix.length !== key.length) return 'other';
	return check === checkValue(values, format.characters.length) ? 'fits' : 'typo';
}

/** A code drawn in bulk, with its code key and its place in the draw (from 1), as imports number rows. */
export type DrawnCode = ImportCandidate;

/** Key spaces up to this are drawn as numbers; 2^53, where doubles stop counting every integer. */
const NUMBER_SPACE = 2 ** 53;

/**
 * `count` random codes of the format whose keys all differ: what Create Codes adds in one go.
 * Where the format has at most 2^53 codes, each code is a random number below that written out in
 * the format's characters (mixed radix: every position uniform and independent), so repeats are
 * found by sorting numbers rather than by a set of a million strings; larger formats draw strings.
 * A million codes take seconds: the loops pass the event loop's turn as they go.
 */
export async function drawCodes(
	format: CodeFormat,
	count: number,
	turns = new Turns(),
): Promise<DrawnCode[]> {
	const writer = new CodeWriter(format);
	return writer.space <= NUMBER_SPACE
		? await drawNumbered(writer, count, turns)
		: await drawStrings(format, count, turns);
}

async function drawStrings(format: CodeFormat, count: number, turns: Turns): Promise<DrawnCode[]> {
	const byKey = new Map<string, DrawnCode>();
	while (byKey.size < count) {
		const code = generateCode(format);
		const key = codeKey(code);
		if (!byKey.has(key)) byKey.set(key, { code, key, row: byKey.size + 1 });
		if (turns.due()) await turns.pass();
	}
	return [...byKey.values()];
}

async function drawNumbered(writer: CodeWriter, count: number, turns: Turns): Promise<DrawnCode[]> {
	const numbers = new RandomNumbers(writer.space);
	const values: number[] = new Array(count);
	for (let i = 0; i < count; i++) {
		values[i] = numbers.next();
		if (turns.due()) await turns.pass();
	}
	for (;;) {
		const sorted = await sortedInTurns(values, (a, b) => a - b, turns);
		const repeated = new Set<number>();
		for (let i = 1; i < sorted.length; i++)
			if (sorted[i] === sorted[i - 1]) repeated.add(sorted[i]);
		if (repeated.size === 0) break;
		// Rare (the guessing rule keeps the space a million times the codes): draw those again.
		const seen = new Set<number>();
		for (let i = 0; i < count; i++) {
			const value = values[i];
			if (!repeated.has(value) || !seen.has(value)) seen.add(value);
			else values[i] = numbers.next();
		}
		if (turns.due()) await turns.pass();
	}
	const drawn: DrawnCode[] = new Array(count);
	for (let i = 0; i < count; i++) {
		drawn[i] = writer.write(values[i], i + 1);
		if (turns.due()) await turns.pass();
	}
	return drawn;
}

/** Uniform random integers below `space` (at most 2^53), from nanoid's cryptographic bytes. */
class RandomNumbers {
	private bytes: Uint8Array = new Uint8Array(0);
	private at = 0;
	/** The largest multiple of `space` that 53 random bits reach: draws above it are redrawn. */
	private readonly limit: number;

	constructor(private readonly space: number) {
		this.limit = Math.floor(NUMBER_SPACE / space) * space;
	}

	next(): number {
		for (;;) {
			if (this.at + 7 > this.bytes.length) {
				this.bytes = random(1008);
				this.at = 0;
			}
			const b = this.bytes;
			const i = this.at;
			this.at += 7;
			// 53 bits: the low 5 of the first byte, then six whole bytes.
			const bits =
				(b[i] & 0x1f) * 2 ** 48 +
				b[i + 1] * 2 ** 40 +
				b[i + 2] * 2 ** 32 +
				b[i + 3] * 2 ** 24 +
				b[i + 4] * 2 ** 16 +
				b[i + 5] * 2 ** 8 +
				b[i + 6];
			if (bits < this.limit) return bits % this.space;
		}
	}
}

/** Writes a number below the format's key space as the code it stands for, with its key. */
class CodeWriter {
	/** How many codes the format has: the product of its random positions' sizes. */
	readonly space: number;
	private readonly slots: Array<
		{ text: string; key: string } | { draws: string; keys: string[]; positions: number[] }
	>;
	private readonly setKeys: string[];
	private readonly prefixKey: string;
	private readonly suffixKey: string;
	/** Whether a code's key is its parts' keys put together: so for printable ASCII, whose NFKC form is itself. */
	private readonly keyedByParts: boolean;

	constructor(private readonly format: CodeFormat) {
		const positions = positionsOf(format.characters);
		this.slots = layoutOf(format).map((slot) =>
			slot.literal
				? { text: slot.draws, key: codeKey(slot.draws) }
				: {
						draws: slot.draws,
						keys: [...slot.draws].map(codeKey),
						positions: [...slot.draws].map((c) => positions.get(codeKey(c))!),
					},
		);
		this.space = this.slots.reduce(
			(product, slot) => ('text' in slot ? product : product * slot.draws.length),
			1,
		);
		this.setKeys = [...format.characters].map(codeKey);
		this.prefixKey = codeKey(format.prefix);
		this.suffixKey = codeKey(format.suffix ?? '');
		this.keyedByParts = /^[\x20-\x7e]*$/.test(
			format.prefix + (format.suffix ?? '') + (format.pattern ?? '') + format.characters,
		);
	}

	write(value: number, row: number): DrawnCode {
		let rest = value;
		let body = '';
		let bodyKey = '';
		const values: number[] = [];
		for (const slot of this.slots) {
			if ('text' in slot) {
				body += slot.text;
				bodyKey += slot.key;
				continue;
			}
			const size = slot.draws.length;
			const next = Math.floor(rest / size);
			const digit = rest - next * size;
			rest = next;
			body += slot.draws[digit];
			bodyKey += slot.keys[digit];
			values.push(slot.positions[digit]);
		}
		let check = '';
		let checkKey = '';
		if (this.format.checkCharacter) {
			const at = checkValue(values, this.format.characters.length);
			check = this.format.characters[at];
			checkKey = this.setKeys[at];
		}
		const { prefix, suffix = '' } = this.format;
		const code = prefix + body + check + suffix;
		if (!this.keyedByParts) return { code, key: codeKey(code), row };
		const key = this.prefixKey + bodyKey + checkKey + this.suffixKey;
		// One string for both where they are equal, as they are for plain codes: half the memory.
		return { code, key: key === code ? code : key, row };
	}
}
