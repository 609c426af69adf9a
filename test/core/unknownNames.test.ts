import fc from 'fast-check';
import { closestNames, typingDistance } from '../../nodes/shared/core/common/unknownNames';
import { HEAVY_TEST_MS } from '../helpers/timeouts';

/** The optimal-string-alignment distance, computed in full: what the banded one must agree with. */
function fullDistance(a: string, b: string): number {
	const d = Array.from({ length: a.length + 1 }, (_, i) =>
		Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
	);
	for (let i = 1; i <= a.length; i++)
		for (let j = 1; j <= b.length; j++) {
			d[i][j] = Math.min(
				d[i - 1][j] + 1,
				d[i][j - 1] + 1,
				d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
			);
			if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
				d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
		}
	return d[a.length][b.length];
}

describe('closestNames', () => {
	it('offers the names a few typing mistakes away, nearest first, ignoring case', () => {
		const names = ['SPRING10', 'SPRING20', 'Summer', 'WELCOME', 'spring'];
		expect(closestNames(names, 'SPRNG10')).toEqual(['SPRING10', 'SPRING20']);
		expect(closestNames(names, 'sprign10')).toEqual(['SPRING10', 'SPRING20']);
		expect(closestNames(names, 'welcme')).toEqual(['WELCOME']);
		expect(closestNames(names, 'AUTUMN')).toEqual([]);
		expect(closestNames([], 'X')).toEqual([]);
		// At most three, and a one-letter name allows one mistake only.
		expect(closestNames(['A', 'B', 'C', 'D', 'AB'], 'E')).toEqual(['A', 'B', 'C']);
	});

	it(
		'computes, within its bound, the distance a full table computes',
		() => {
			const word = fc.string({ unit: fc.constantFrom('a', 'b', 'c'), maxLength: 9 });
			fc.assert(
				fc.property(word, word, fc.integer({ min: 1, max: 3 }), (a, b, most) => {
					expect(typingDistance(a, b, most)).toBe(Math.min(fullDistance(a, b), most + 1));
				}),
				{ numRuns: 2_000 },
			);
		},
		HEAVY_TEST_MS,
	);
});
