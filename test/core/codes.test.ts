import {
	readCodeValue,
	codeKey,
	UNAMBIGUOUS_CHARACTERS,
} from '../../nodes/shared/core/codes/codes';
import {
	generateCode,
	parseLength,
	parsePrefix,
	resolveCharacters,
} from '../../nodes/shared/core/codes/codeFormat';
import { assertGuessProof, minimumSafeLength } from '../../nodes/shared/core/codes/guessProof';
import { CouponError } from '../../nodes/shared/core/common/errors';

describe('code generation', () => {
	it('uses only the requested characters and length, with the prefix in front', () => {
		const format = { characters: UNAMBIGUOUS_CHARACTERS, length: 12, prefix: 'SUMMER-' };
		for (let i = 0; i < 500; i++) {
			const code = generateCode(format);
			expect(code).toMatch(/^SUMMER-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{12}$/);
		}
	});

	it('leaves out the look-alikes 0/O and 1/I/L by default', () => {
		expect(UNAMBIGUOUS_CHARACTERS).not.toMatch(/[01OIL]/);
		const seen = new Set(
			Array.from({ length: 300 }, () =>
				generateCode({ characters: UNAMBIGUOUS_CHARACTERS, length: 16, prefix: '' }),
			).join(''),
		);
		// 4,800 random characters cover all 31 symbols, so none is missing from the alphabet.
		expect([...seen].sort().join('')).toBe([...UNAMBIGUOUS_CHARACTERS].sort().join(''));
	});

	it('does not repeat codes', () => {
		const format = { characters: UNAMBIGUOUS_CHARACTERS, length: 10, prefix: '' };
		const codes = new Set(Array.from({ length: 20_000 }, () => generateCode(format)));
		expect(codes.size).toBe(20_000);
	});
});

describe('code keys', () => {
	it('compares codes ignoring case, surrounding space and separators', () => {
		expect(codeKey(' ab-12 cd_3.4 ')).toBe('AB12CD34');
		expect(codeKey('00123')).toBe('00123');
	});

	it('rejects values that cannot be codes', () => {
		expect(readCodeValue('ABC\nDEF')).toEqual({ problem: 'contains a line break' });
		// JavaScript, JSON in HTML and many editors break lines there too.
		expect(readCodeValue('ABC\u2028DEF')).toEqual({ problem: 'contains a line break (U+2028)' });
		expect(readCodeValue('ABC\u2029DEF')).toEqual({ problem: 'contains a line break (U+2029)' });
		expect(readCodeValue('--')).toEqual({ problem: 'has no letters or digits' });
		expect(readCodeValue('x'.repeat(256))).toEqual({
			problem: expect.stringMatching(/longer than 255/),
		});
		expect(readCodeValue('save-10')).toEqual({ key: 'SAVE10' });
		expect(readCodeValue('ＡＢ１')).toEqual({ key: 'AB1' });
	});
});

describe('length and character settings', () => {
	it('accepts whole numbers from 1 to 64, as numbers or plain decimal text, saying what to enter', () => {
		expect(parseLength(1)).toBe(1);
		expect(parseLength(64)).toBe(64);
		expect(parseLength(' 8 ')).toBe(8);
		for (const bad of [0, 65, 8.5, '0x10', '1e1', '', 'eight', undefined]) {
			expect(() => parseLength(bad)).toThrow(/Length must be a whole number from 1 to 64/);
		}
	});

	it('refuses custom characters that checkout could not tell apart', () => {
		expect(resolveCharacters('custom', 'ABCA')).toBe('ABC');
		expect(() => resolveCharacters('custom', 'A')).toThrow(/at least 2 different/);
		expect(() => resolveCharacters('custom', 'aA')).toThrow(/upper and lower case/);
		expect(() => resolveCharacters('custom', 'AB-')).toThrow(/"-"/);
		expect(resolveCharacters('digits', '')).toBe('0123456789');
	});

	it('limits the prefix', () => {
		expect(parsePrefix('  VIP- ')).toBe('VIP-');
		expect(() => parsePrefix('x'.repeat(33))).toThrow(/longer than 32/);
	});
});

describe('guessability', () => {
	it('computes the shortest length that keeps a guess under 1 in a million', () => {
		// 31^8 = 852,891,037,441: 852,891 codes fit, one more does not.
		expect(minimumSafeLength(852_891, 31)).toBe(8);
		expect(minimumSafeLength(852_892, 31)).toBe(9);
		expect(minimumSafeLength(1, 10)).toBe(6);
		expect(minimumSafeLength(1, 36)).toBe(4);
	});

	it('refuses a length too short for the codes a coupon holds, naming the length to enter', () => {
		const format = { characters: '0123456789', length: 6, prefix: '' };
		expect(() => assertGuessProof(format, 1, 'PIN')).not.toThrow();
		let error: unknown;
		try {
			assertGuessProof(format, 2, 'PIN');
		} catch (caught) {
			error = caught;
		}
		expect(error).toBeInstanceOf(CouponError);
		expect((error as CouponError).message).toMatch(/Length 6 is too short for coupon "PIN"/);
		expect((error as CouponError).description).toMatch(/Set Length to 7 or more/);
	});
});
