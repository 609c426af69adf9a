import { parseCount } from '../../nodes/shared/core/codes/createCodes';
import { parseHoldMinutes } from '../../nodes/shared/core/checkout/holds';
import { parseLimit } from '../../nodes/shared/core/common/limits';
import {
	expiryNeeded,
	parseUsesPerCode,
	parseValidDays,
} from '../../nodes/shared/core/common/validity';
import { HEAVY_TEST_MS } from '../helpers/timeouts';

describe('expiryNeeded', () => {
	it('asks for the latest end of validity, or just after the latest assignment when shortening', () => {
		const pending = [
			{ contactKey: 'a', assignedAt: 10, validUntil: 100 },
			{ contactKey: 'b', assignedAt: 20, validUntil: 90 },
		];
		expect(expiryNeeded(pending, false)).toBe(100);
		expect(expiryNeeded(pending, true)).toBe(21);
	});

	it(
		'handles a million assignments in one run (no spread into Math.max)',
		() => {
			const pending = Array.from({ length: 1_000_000 }, (_, i) => ({
				contactKey: `c${i}`,
				assignedAt: i,
				validUntil: i + 5,
			}));
			expect(expiryNeeded(pending, false)).toBe(1_000_004);
		},
		HEAVY_TEST_MS,
	);
});

describe('number parameters given as text', () => {
	it('reads plain decimal text only: not hexadecimal, exponents, Infinity or empty text', () => {
		const parsers: Array<[string, (raw: unknown) => number, number]> = [
			['Valid (Days)', parseValidDays, 16],
			['Uses per Code', parseUsesPerCode, 16],
			['Hold For', parseHoldMinutes, 16],
			['Count', parseCount, 16],
			['Max Rows', (raw) => parseLimit(raw, 'Max Rows'), 16],
		];
		for (const [label, parse, sixteen] of parsers) {
			expect(parse('16')).toBe(sixteen);
			expect(parse(' +16 ')).toBe(sixteen);
			expect(parse(16)).toBe(sixteen);
			for (const bad of ['0x10', '1.6e1', '0b10', 'Infinity', '', ' ', '16 days', '١٦'])
				expect(() => parse(bad)).toThrow(new RegExp(`^${label.replace(/[()]/g, '\\$&')}`));
		}
		// A refusal quotes at most 60 characters of what it was given.
		expect(() => parseValidDays('9'.repeat(10_000) + 'x')).toThrow(
			`Valid (Days) must be a whole number from 1 to 3650; got "${'9'.repeat(59)}…`,
		);
	});
});
