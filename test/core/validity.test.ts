import { expiryNeeded } from '../../nodes/shared/core/validity';
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
