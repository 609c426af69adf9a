import { isShared } from '../codes/sharedCodes';
import type { CouponStoreSession, PoolCounts, PoolKind } from '../storeContract';
import { CouponError, StoreError, type Outcome } from '../common/errors';
import { unknownCoupon } from '../common/unknownNames';
import { compareCouponNames } from '../common/names';

export interface DeleteCouponRequest {
	couponName: string;
	/**
	 * Delete the codes contacts were given too, with their history of uses. Without it a coupon
	 * any contact holds a code of is refused: those codes may still be in customers' hands.
	 */
	withAssigned: boolean;
}

/** What deleting a coupon removed (or, in a dry run, would remove). */
export interface DeletedCoupon extends Omit<PoolCounts, 'assignedSince'> {
	couponName: string;
	source: PoolKind;
	/** Every code the coupon held: unused ones plus each one ever assigned. */
	codes: number;
	message: string;
}

const codesText = (n: number) => `${n.toLocaleString('en-US')} code${n === 1 ? '' : 's'}`;

/** What the assigned codes are, as "2 active, 1 redeemed". */
function assignedText(counts: Omit<PoolCounts, 'assignedSince'>): string {
	return (['active', 'expired', 'redeemed', 'replaced'] as const)
		.filter((status) => counts[status] > 0)
		.map((status) => `${counts[status].toLocaleString('en-US')} ${status}`)
		.join(', ');
}

/**
 * Deletes each request's coupon with its codes, their assignments and history. A coupon whose
 * codes contacts were given is refused unless the request says to delete those too; the refusal
 * says what would have gone, and changes nothing. Coupons are deleted in name order, so runs
 * deleting several cannot deadlock; outcomes come back in request order.
 */
export async function deleteCoupons(
	session: CouponStoreSession,
	requests: DeleteCouponRequest[],
	now: number,
): Promise<Array<Outcome<DeletedCoupon>>> {
	const outcomes: Array<Outcome<DeletedCoupon>> = new Array(requests.length);
	const order = [...requests.keys()].sort((a, b) =>
		compareCouponNames(requests[a].couponName, requests[b].couponName),
	);
	for (const i of order) {
		try {
			outcomes[i] = { value: await deleteCoupon(session, requests[i], now) };
		} catch (error) {
			if (!(error instanceof CouponError)) throw error;
			outcomes[i] = { error };
		}
	}
	return outcomes;
}

async function deleteCoupon(
	session: CouponStoreSession,
	{ couponName, withAssigned }: DeleteCouponRequest,
	now: number,
): Promise<DeletedCoupon> {
	const pool = await session.findPool(couponName);
	if (!pool)
		throw await unknownCoupon(
			session,
			couponName,
			'Correct Coupon Name (case does not matter); Get Pool Statistics lists the coupons.',
		);
	const { assignedSince: _, ...counts } = await session.countPool(pool.name, now, now);
	if (counts.assigned > 0 && !withAssigned && isShared(pool))
		throw new CouponError(
			'DELETE_NEEDS_CONFIRMATION',
			`Coupon "${pool.name}" is shared: its ${codesText(counts.assigned)} (${assignedText(counts)}) may be in every customer's hands, with ${counts.uses.toLocaleString('en-US')} use${counts.uses === 1 ? '' : 's'} taken, so deleting it would delete them and their history too`,
			'Nothing was deleted. Turn on Delete Assigned Codes Too to delete them as well.',
		);
	if (counts.assigned > 0 && !withAssigned)
		throw new CouponError(
			'DELETE_NEEDS_CONFIRMATION',
			`Coupon "${pool.name}" has ${codesText(counts.assigned)} contacts were given (${assignedText(counts)}${counts.held > 0 ? `, ${counts.held.toLocaleString('en-US')} held at checkout` : ''}), so deleting it would delete them and their history too`,
			'Nothing was deleted. Turn on Delete Assigned Codes Too to delete them as well; to stop assigning the coupon instead, import a list with Replace, or stop the workflows that assign it.',
		);
	const removed = await session.deletePool(pool.name);
	// Assigned meanwhile by another run: the count the user agreed to no longer holds.
	if (removed.assigned > counts.assigned && !withAssigned)
		throw new StoreError(
			'STORE_CONFLICT',
			`Another run gave codes of coupon "${pool.name}" to contacts while it was being deleted`,
			'Nothing of this step was saved. Run it again; stop the workflows that assign the coupon first.',
		);
	const given =
		removed.assigned === 0
			? ''
			: ` (${removed.assigned.toLocaleString('en-US')} of them given to contacts, deleted with their history)`;
	return {
		couponName: pool.name,
		source: pool.kind,
		codes: removed.codes,
		...counts,
		message: `Coupon "${pool.name}" and its ${codesText(removed.codes)} were deleted${given}`,
	};
}
