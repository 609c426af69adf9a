import { randomFillSync } from 'node:crypto';

/** Random ranks in [0, 1) from cryptographic randomness, as many as asked for. */
export function randomRanks(count: number): Float64Array {
	const random = randomFillSync(new Uint32Array(count * 2));
	const ranks = new Float64Array(count);
	for (let i = 0; i < count; i++)
		ranks[i] = (random[2 * i] * 2 ** 21 + (random[2 * i + 1] >>> 11)) / 2 ** 53;
	return ranks;
}
