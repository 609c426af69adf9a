import type { CouponStoreSession } from '../storeContract';
import { CouponError } from './errors';
import { couponNameKey } from './names';

/** Names offered for a name nobody has: how many, at most. */
export const CLOSEST_LISTED = 3;

/**
 * The names whose keys are a few typing mistakes away from `wanted`'s (a character wrong, missing
 * or extra, or two neighbours swapped), nearest first, then by key; none when nothing is that
 * near. How many mistakes count grows with the name: one in a short name, up to three.
 */
export function closestNames(names: string[], wanted: string, limit = CLOSEST_LISTED): string[] {
	const target = couponNameKey(wanted);
	const most = Math.max(1, Math.min(3, Math.floor(target.length / 3)));
	const near: Array<{ name: string; key: string; distance: number }> = [];
	for (const name of names) {
		const key = couponNameKey(name);
		const distance = typingDistance(target, key, most);
		if (distance <= most) near.push({ name, key, distance });
	}
	return near
		.sort((a, b) => a.distance - b.distance || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
		.slice(0, limit)
		.map(({ name }) => name);
}

/**
 * The optimal-string-alignment distance between `a` and `b` when it is at most `most`, else more
 * than `most`. Only cells within `most` of the diagonal are computed: a comparison costs
 * O(most × length), so a list of thousands of long names is searched in milliseconds.
 */
export function typingDistance(a: string, b: string, most: number): number {
	if (Math.abs(a.length - b.length) > most) return most + 1;
	const width = b.length + 1;
	const far = most + 1;
	let before = new Int32Array(width).fill(far);
	let previous = Int32Array.from({ length: width }, (_, j) => Math.min(j, far));
	let current = new Int32Array(width);
	for (let i = 1; i <= a.length; i++) {
		current.fill(far);
		if (i <= most) current[0] = i;
		let rowBest = current[0];
		const from = Math.max(1, i - most);
		const to = Math.min(b.length, i + most);
		for (let j = from; j <= to; j++) {
			const substitution = previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1);
			let cell = Math.min(substitution, previous[j] + 1, current[j - 1] + 1);
			if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
				cell = Math.min(cell, before[j - 2] + 1);
			current[j] = Math.min(cell, far);
			rowBest = Math.min(rowBest, current[j]);
		}
		if (rowBest > most) return far;
		[before, previous, current] = [previous, current, before];
	}
	return previous[b.length];
}

const LISTED_NAMES = 10;

/** The names, quoted, as one list: "A", "B" and "C". */
export function quotedList(names: string[]): string {
	const quoted = names.map((name) => `"${name}"`);
	return quoted.length < 2
		? quoted.join('')
		: `${quoted.slice(0, -1).join(', ')} and ${quoted.at(-1)}`;
}

/**
 * What a user who typed a coupon name nobody has should know: the names closest to it, or else
 * the names there are (the first few), or that there are none.
 */
export function knownCouponsText(names: string[], wanted: string): string {
	if (names.length === 0) return 'There are no coupons yet';
	const closest = closestNames(names, wanted);
	if (closest.length > 0)
		return `The closest ${closest.length === 1 ? 'is' : 'are'} ${quotedList(closest)}`;
	const more = names.length - LISTED_NAMES;
	return more > 0
		? `The coupons are ${names
				.slice(0, LISTED_NAMES)
				.map((name) => `"${name}"`)
				.join(', ')} and ${more} more`
		: `The coupons are ${quotedList(names)}`;
}

/** "No coupon is named X", naming the closest names there are, so a typo is easy to spot. */
export async function unknownCoupon(
	session: CouponStoreSession,
	couponName: string,
	fix: string,
): Promise<CouponError> {
	const names = (await session.listPools()).map((pool) => pool.name);
	return new CouponError(
		'COUPON_NOT_FOUND',
		`No coupon is named "${couponName}". ${knownCouponsText(names, couponName)}.`,
		fix,
	);
}
