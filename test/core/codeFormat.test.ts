import fc from 'fast-check';
import {
	CHARACTER_SETS,
	codeKey,
	UNAMBIGUOUS_CHARACTERS,
} from '../../nodes/shared/core/codes/codes';
import {
	checkAgainstFormat,
	checkValue,
	drawCodes,
	generateCode,
	parsePattern,
	parsePrefix,
	parseSuffix,
	resolveCharacters,
} from '../../nodes/shared/core/codes/codeFormat';
import { assertGuessProof, log10KeySpace } from '../../nodes/shared/core/codes/guessProof';
import type { CodeFormat } from '../../nodes/shared/core/storeContract';
import { CouponError } from '../../nodes/shared/core/common/errors';
import { HEAVY_TEST_MS } from '../helpers/timeouts';

const LETTERS_WITHOUT_LOOK_ALIKES = '[ABCDEFGHJKMNPQRSTUVWXYZ]';
const DIGITS_WITHOUT_LOOK_ALIKES = '[2-9]';

function refusal(work: () => unknown): CouponError {
	try {
		work();
	} catch (error) {
		if (error instanceof CouponError) return error;
		throw error;
	}
	throw new Error('not refused');
}

describe('patterns', () => {
	it('draws # from the digits, ? from the letters and * from all of the set, keeping the rest', () => {
		const format: CodeFormat = {
			characters: UNAMBIGUOUS_CHARACTERS,
			length: 8,
			prefix: 'X',
			pattern: 'SPRING-####-??*',
			suffix: '.26',
		};
		const shape = new RegExp(
			`^XSPRING-${DIGITS_WITHOUT_LOOK_ALIKES}{4}-${LETTERS_WITHOUT_LOOK_ALIKES}{2}[${UNAMBIGUOUS_CHARACTERS}]\\.26$`,
		);
		const codes = Array.from({ length: 2_000 }, () => generateCode(format));
		for (const code of codes) expect(code).toMatch(shape);
		// Every digit and letter of the set turns up where it may: the draws are not a subset.
		const digits = new Set(codes.flatMap((code) => [...code.slice(8, 12)]));
		expect([...digits].sort().join('')).toBe('23456789');
		const letters = new Set(codes.flatMap((code) => [...code.slice(13, 15)]));
		expect(letters.size).toBe(23);
	});

	it('counts the key space of the pattern, literal text adding nothing', () => {
		const format = {
			characters: UNAMBIGUOUS_CHARACTERS,
			length: 8,
			prefix: '',
			pattern: 'SPRING-####-??',
		};
		expect(10 ** log10KeySpace(format)).toBeCloseTo(8 ** 4 * 23 ** 2, -1);
		expect(10 ** log10KeySpace({ ...format, pattern: undefined })).toBeCloseTo(31 ** 8, -4);
	});

	it('refuses patterns that cannot make codes, saying how to write one', () => {
		expect(parsePattern('  ', UNAMBIGUOUS_CHARACTERS)).toBeUndefined();
		expect(parsePattern(' A-## ', UNAMBIGUOUS_CHARACTERS)).toBe('A-##');
		const noPlaceholder = refusal(() => parsePattern('SPRING', UNAMBIGUOUS_CHARACTERS));
		expect(noPlaceholder.message).toMatch(/has no # \? or \*/);
		expect(noPlaceholder.description).toMatch(/# for a digit, \? for a letter/);
		expect(refusal(() => parsePattern('??-##', '0123456789')).message).toMatch(
			/asks for a letter \(\?\) but Characters has none/,
		);
		expect(refusal(() => parsePattern('##', 'ABC')).message).toMatch(/asks for a digit/);
		expect(refusal(() => parsePattern('#'.repeat(65), '0123456789')).message).toMatch(
			/65 characters long; the limit is 64/,
		);
		expect(refusal(() => parsePattern('A\u0000#', '0123456789')).message).toMatch(
			/contains the control character U\+0000/,
		);
		expect(refusal(() => parsePattern({}, '0123456789')).message).toMatch(/an object/);
	});

	it('keeps pattern marks and characters outside one UTF-16 unit out of custom sets', () => {
		expect(refusal(() => resolveCharacters('custom', 'AB#')).message).toMatch(/"#"/);
		expect(refusal(() => resolveCharacters('custom', 'AB*')).message).toMatch(/"\*"/);
		expect(() => resolveCharacters('custom', 'AB\u{1d400}')).toThrow(CouponError);
		// nanoid draws a character from one byte: more than 256 would never all be used.
		const letters = Array.from({ length: 300 }, (_, i) => String.fromCharCode(0x4e00 + i)).join('');
		expect(resolveCharacters('custom', letters.slice(0, 256))).toHaveLength(256);
		expect(refusal(() => resolveCharacters('custom', letters)).message).toBe(
			'Custom Characters has 300 different characters; the limit is 256',
		);
	});

	it.each([
		['\u200b', 'the invisible character U+200B'],
		['\ufeff', 'the invisible character U+FEFF'],
		['\u202e', 'the direction control U+202E'],
		['\u2067', 'the direction control U+2067'],
		['\u0301', 'the combining mark U+0301'],
		['\u00a0', 'the space U+00A0'],
		['\u3000', 'the space U+3000'],
		['\u2028', 'a line break (U+2028)'],
		['\t', 'a tab'],
	])('refuses %j in codes made here, which nobody can see or type: %s', (character, named) => {
		expect(refusal(() => resolveCharacters('custom', `AB${character}C`)).message).toBe(
			`Custom Characters contains ${named}, which a customer cannot see or type`,
		);
		for (const parse of [parsePrefix, parseSuffix])
			expect(refusal(() => parse(`X${character}Y`)).message).toMatch(
				new RegExp(`contains ${named.replace(/[()+]/g, '\\$&')}$`),
			);
		expect(refusal(() => parsePattern(`##${character}??`, 'AB12')).message).toBe(
			`The pattern contains ${named}`,
		);
	});

	it('keeps a plain space in a prefix and letters of any script in custom sets', () => {
		expect(parsePrefix('SPRING 26-')).toBe('SPRING 26-');
		expect(resolveCharacters('custom', 'ÄÖÜ23')).toBe('ÄÖÜ23');
	});

	it('limits the suffix as the prefix', () => {
		expect(parseSuffix(' -2027 ')).toBe('-2027');
		expect(refusal(() => parseSuffix('x'.repeat(33))).message).toMatch(
			/The suffix is longer than 32/,
		);
	});
});

describe('guessability of patterns', () => {
	const format: CodeFormat = {
		characters: UNAMBIGUOUS_CHARACTERS,
		length: 8,
		prefix: '',
		pattern: 'SPRING-####-??',
	};

	it('refuses a pattern with too few codes, naming a longer pattern that passes', () => {
		// 8^4 * 23^2 = 2,166,784 codes: two are fine, three are not.
		expect(() => assertGuessProof(format, 2, 'SPRING')).not.toThrow();
		const error = refusal(() => assertGuessProof(format, 1_000, 'SPRING'));
		expect(error.message).toMatch(
			/The pattern "SPRING-####-\?\?" makes only 2,166,784 different codes, too few for coupon "SPRING": with 1,000 codes, a random guess could match one of them about 1 in 2,167 tries/,
		);
		// 8^4 * 23^4 = 1,146,228,736 codes hold 1,000 at one in a million; 8^4 * 23^3 do not.
		expect(error.description).toMatch(/such as "SPRING-####-\?\?\?\?"/);
		expect(() =>
			assertGuessProof({ ...format, pattern: 'SPRING-####-????' }, 1_000, 'SPRING'),
		).not.toThrow();
		expect(() =>
			assertGuessProof({ ...format, pattern: 'SPRING-####-???' }, 1_000, 'SPRING'),
		).toThrow(CouponError);
	});

	it('suggests a pattern that passes for any pattern and count', () => {
		fc.assert(
			fc.property(
				fc.array(fc.constantFrom('#', '?', '*', '-', 'A'), { minLength: 1, maxLength: 12 }),
				fc.constantFrom(...CHARACTER_SETS.keys()),
				fc.integer({ min: 1, max: 10_000_000 }),
				(parts, set, count) => {
					const characters = resolveCharacters(set, '');
					let pattern: string;
					try {
						pattern = parsePattern(parts.join(''), characters)!;
					} catch {
						return; // a pattern the parameter refuses never reaches the rule
					}
					const tried = { characters, length: 8, prefix: '', pattern };
					let suggestion: string | undefined;
					try {
						assertGuessProof(tried, count, 'X');
						return;
					} catch (error) {
						suggestion = /such as "([^"]+)"/.exec((error as CouponError).description!)?.[1];
					}
					expect(suggestion).toBeDefined();
					// Longer by random positions only: the text the user wrote stays as written.
					expect(suggestion!.length).toBeGreaterThan(pattern.length);
					expect(suggestion!.replace(/[#?*]/g, '')).toBe(pattern.replace(/[#?*]/g, ''));
					expect(() =>
						assertGuessProof({ ...tried, pattern: suggestion }, count, 'X'),
					).not.toThrow();
				},
			),
		);
	});

	it('does not count the check character as a random one', () => {
		const digits = { characters: '0123456789', length: 6, prefix: '' };
		expect(() => assertGuessProof({ ...digits, checkCharacter: true }, 1, 'PIN')).not.toThrow();
		expect(() => assertGuessProof({ ...digits, checkCharacter: true }, 2, 'PIN')).toThrow(
			/Length 6 is too short/,
		);
	});
});

describe('check character', () => {
	const ALPHANUMERIC = CHARACTER_SETS.get('alphanumeric')!;

	it("is ISO 7064's MOD 37,36 over letters and digits and MOD 11,10 over digits", () => {
		// The standard's published examples.
		const values = (text: string, set: string) => [...text].map((c) => set.indexOf(c));
		expect(ALPHANUMERIC[checkValue(values('A12425GABC1234002', ALPHANUMERIC), 36)]).toBe('M');
		expect(checkValue(values('79462', '0123456789'), 10)).toBe(3);
	});

	const SETS = [...CHARACTER_SETS.values(), 'ABCDE', 'ABCDEFGHJK23456'];

	it.each(SETS)(
		'catches every single mistyped character over %s',
		(characters) => {
			const format: CodeFormat = {
				characters,
				length: 7,
				prefix: 'VIP-',
				suffix: '-X',
				checkCharacter: true,
			};
			for (let i = 0; i < 60; i++) {
				const code = generateCode(format);
				const key = codeKey(code);
				expect(checkAgainstFormat(key, format)).toBe('fits');
				// The random characters and the check character: positions 3 to 10 of the key.
				for (let at = 3; at < 11; at++) {
					for (const other of characters) {
						if (other === key[at]) continue;
						const typed = key.slice(0, at) + codeKey(other) + key.slice(at + 1);
						expect(checkAgainstFormat(typed, format)).toBe('typo');
					}
				}
			}
		},
		HEAVY_TEST_MS,
	);

	it('reads codes as checkout does, and tells another shape from a typo', () => {
		const format: CodeFormat = {
			characters: UNAMBIGUOUS_CHARACTERS,
			length: 8,
			prefix: 'Spring-',
			pattern: '####-??',
			checkCharacter: true,
		};
		const code = generateCode(format);
		expect(code).toMatch(/^Spring-[2-9]{4}-[A-Z]{2}[2-9A-Z]$/);
		expect(checkAgainstFormat(codeKey(` ${code.toLowerCase().replace(/-/g, ' ')} `), format)).toBe(
			'fits',
		);
		expect(checkAgainstFormat(codeKey(code.slice(0, -1)), format)).toBe('other');
		expect(checkAgainstFormat(codeKey(`${code}7`), format)).toBe('other');
		expect(checkAgainstFormat(codeKey(code.replace('Spring', 'Summer')), format)).toBe('other');
		// A letter where the pattern has a digit is not the format's shape.
		const letterForDigit = `${codeKey(code).slice(0, 6)}A${codeKey(code).slice(7)}`;
		expect(checkAgainstFormat(letterForDigit, format)).toBe('other');
	});
});

describe('drawing codes in bulk', () => {
	it(
		'draws different codes with their keys, in the format, up to every code of a small space',
		async () => {
			const digits: CodeFormat = {
				characters: '0123456789',
				length: 4,
				prefix: 'P-',
				suffix: '.x',
			};
			// 9,990 of the 10,000 codes: most numbers are drawn more than once before all differ.
			const drawn = await drawCodes(digits, 9_990);
			expect(new Set(drawn.map((d) => d.key)).size).toBe(9_990);
			for (const { code, key } of drawn) {
				expect(code).toMatch(/^P-\d{4}\.x$/);
				expect(key).toBe(codeKey(code));
			}
		},
		HEAVY_TEST_MS,
	);

	it('matches generateCode: same shapes, keys as checkout reads them, valid check characters', async () => {
		await fc.assert(
			fc.asyncProperty(
				fc.constantFrom(...CHARACTER_SETS.keys(), 'custom'),
				fc.constantFrom(undefined, '####-??', '*?#', 'ｓ-##*'),
				fc.boolean(),
				fc.constantFrom('', 'Vip-', 'ﬁ'),
				fc.integer({ min: 4, max: 16 }),
				async (set, rawPattern, checkCharacter, prefix, length) => {
					const characters = resolveCharacters(set, 'abcdefgh2345');
					let pattern: string | undefined;
					try {
						pattern = parsePattern(rawPattern, characters);
					} catch {
						return;
					}
					const format: CodeFormat = {
						characters,
						length,
						prefix,
						suffix: '-26',
						...(pattern ? { pattern } : {}),
						checkCharacter,
					};
					for (const { code, key } of await drawCodes(format, 20)) {
						expect(key).toBe(codeKey(code));
						if (checkCharacter) expect(checkAgainstFormat(key, format)).toBe('fits');
					}
				},
			),
		);
	});

	it('uses every character at every position, over a space past 2^53 too', async () => {
		for (const length of [10, 12]) {
			const format = { characters: CHARACTER_SETS.get('alphanumeric')!, length, prefix: '' };
			const drawn = await drawCodes(format, 3_000);
			expect(new Set(drawn.map((d) => d.key)).size).toBe(3_000);
			for (let at = 0; at < length; at++)
				expect(new Set(drawn.map((d) => d.code[at])).size).toBe(36);
		}
	});
});
