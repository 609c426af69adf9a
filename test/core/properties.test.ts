import fc from 'fast-check';
import {
	CHARACTER_SETS,
	codeKey,
	parseCheckoutCode,
	readCodeValue,
} from '../../nodes/shared/core/codes/codes';
import { generateCode, MAX_LENGTH, MIN_LENGTH } from '../../nodes/shared/core/codes/codeFormat';
import { CouponError } from '../../nodes/shared/core/common/errors';
import {
	couponNameKey,
	parseContact,
	parseCouponName,
	UNSAFE_CHARACTER,
} from '../../nodes/shared/core/common/names';
import {
	fillTemplate,
	MAX_LISTED_UNRESOLVED,
	parseTemplate,
} from '../../nodes/shared/core/render/placeholders';
import { HEAVY_TEST_MS } from '../helpers/timeouts';

/** Any UTF-16 text, lone surrogates and control characters included, as a webhook body can carry. */
const anyText = (maxLength = 40) =>
	fc
		.array(
			fc.oneof(
				fc.integer({ min: 0, max: 0xffff }),
				fc.constantFrom(0x20, 0x2d, 0x2e, 0x24, 0xd800, 0xdc00, 0x41, 0x61, 0xdf),
			),
			{ maxLength },
		)
		.map((units) => String.fromCharCode(...units));

const isWellFormed = (text: string) =>
	!/[\ud800-\udfff]/.test(text.replace(/[\ud800-\udbff][\udc00-\udfff]/g, ''));

/** The value parsed, or undefined when it was refused with a CouponError (anything else fails). */
function parsed<T>(parse: () => T): T | undefined {
	try {
		return parse();
	} catch (error) {
		expect(error).toBeInstanceOf(CouponError);
		return undefined;
	}
}

describe('properties of names, contacts and codes', () => {
	it(
		'accepts only well-formed text without control characters, and refuses all other text with a CouponError',
		() => {
			fc.assert(
				fc.property(anyText(), (text) => {
					for (const value of [
						parsed(() => parseContact(text))?.key,
						parsed(() => parseCouponName(text)),
						parsed(() => parseCheckoutCode(text))?.key,
					]) {
						if (value === undefined) continue;
						expect(isWellFormed(value)).toBe(true);
						expect(UNSAFE_CHARACTER.test(value)).toBe(false);
					}
					if (!isWellFormed(text)) {
						expect(parsed(() => parseContact(text))).toBeUndefined();
						expect(parsed(() => parseCouponName(text))).toBeUndefined();
						expect(parsed(() => parseCheckoutCode(text))).toBeUndefined();
					}
				}),
				{ numRuns: 2_000 },
			);
		},
		HEAVY_TEST_MS,
	);

	it(
		'gives one key to a code however it is typed: case, spaces and dashes, and the key is its own key',
		() => {
			fc.assert(
				fc.property(
					fc.array(fc.constantFrom(...'ABCDEFGHJKMNPQRSTUVWXYZ23456789abcxyz'), {
						minLength: 1,
						maxLength: 20,
					}),
					fc.array(fc.constantFrom(' ', '-', '_', '.'), { maxLength: 20 }),
					(characters, separators) => {
						const code = characters.join('');
						const typed = characters
							.map((c, i) => (i % 2 ? c.toLowerCase() : c) + (separators[i] ?? ''))
							.join('');
						const key = codeKey(code);
						expect(codeKey(` ${typed} `.trim())).toBe(key);
						expect(codeKey(key)).toBe(key);
						expect(readCodeValue(typed)).toEqual({ key });
					},
				),
			);
		},
		HEAVY_TEST_MS,
	);

	it(
		'matches coupon names ignoring case, and contacts ignoring case and surrounding space',
		() => {
			fc.assert(
				fc.property(fc.stringMatching(/^[A-Za-z0-9 _-]{1,40}$/), (text) => {
					const name = parsed(() => parseCouponName(text));
					if (name !== undefined)
						expect(couponNameKey(name.toUpperCase())).toBe(couponNameKey(name.toLowerCase()));
					const contact = parsed(() => parseContact(`  ${text}@Example.COM `));
					if (contact !== undefined)
						expect(contact.key).toBe(parseContact(`${text.toLowerCase()}@example.com`).key);
				}),
			);
		},
		HEAVY_TEST_MS,
	);
});

describe('properties of the code generator', () => {
	it(
		'makes codes of the asked length from the asked characters, behind the prefix, which checkout reads back',
		() => {
			fc.assert(
				fc.property(
					fc.constantFrom(...CHARACTER_SETS.values()),
					fc.integer({ min: MIN_LENGTH, max: MAX_LENGTH }),
					fc.stringMatching(/^[A-Z0-9-]{0,8}$/),
					(characters, length, prefix) => {
						const code = generateCode({ characters, length, prefix });
						expect(code.startsWith(prefix)).toBe(true);
						const random = code.slice(prefix.length);
						expect(random).toHaveLength(length);
						expect([...random].every((c) => characters.includes(c))).toBe(true);
						expect(parseCheckoutCode(code.toLowerCase()).key).toBe(codeKey(code));
					},
				),
			);
		},
		HEAVY_TEST_MS,
	);
});

describe('properties of the placeholder scanner', () => {
	const fragment = fc.oneof(
		fc.constantFrom(
			'$cst.',
			'.coupon$',
			'$',
			'.',
			' ',
			'<b>',
			'</b>',
			'&amp;',
			'&#128512;',
			'SPRING',
			'VIP 10',
			'\ud800',
		),
		anyText(5),
	);
	const template = fc.array(fragment, { maxLength: 60 }).map((parts) => parts.join(''));

	it(
		'finds placeholders in order without overlap, each naming a usable coupon, and changes nothing else',
		() => {
			fc.assert(
				fc.property(template, (text) => {
					const { placeholders, unresolved } = parseTemplate(text);
					let end = 0;
					for (const placeholder of placeholders) {
						expect(placeholder.start).toBeGreaterThanOrEqual(end);
						expect(text.slice(placeholder.start, placeholder.end)).toBe(placeholder.text);
						expect(parsed(() => parseCouponName(placeholder.name))).toBe(placeholder.name);
						end = placeholder.end;
					}
					expect(fillTemplate(text, placeholders, (p) => p.text)).toBe(text);
					expect(unresolved.list.length).toBeLessThanOrEqual(MAX_LISTED_UNRESOLVED);
				}),
				{ numRuns: 2_000 },
			);
		},
		HEAVY_TEST_MS,
	);

	it(
		'scans a large hostile template to its end (npm run bench times it)',
		() => {
			fc.assert(
				fc.property(fc.array(fragment, { minLength: 20, maxLength: 20 }), (parts) => {
					// About 1 MB made of the same fragments.
					const text = parts.join('').repeat(Math.ceil(1_000_000 / (parts.join('').length + 1)));
					// A backtracking scan of 1 MB runs for hours, past the timeout; npm run bench times it.
					parseTemplate(text);
				}),
				{ numRuns: 10 },
			);
		},
		HEAVY_TEST_MS,
	);
});
