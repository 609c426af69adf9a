import type { CouponStoreSession, PoolCounts, PoolInfo, PoolKind } from '../storeContract';
import { groupIndexes } from '../common/batches';
import { outcomesOf, type Outcome } from '../common/errors';
import { unknownCoupon } from '../common/unknownNames';
import { couponNameKey } from '../common/names';
import { DAY_MS } from '../common/validity';
import { isShared } from '../codes/sharedCodes';

/** The assignment rate behind `daysLeft` is measured over this many days. */
export const RATE_WINDOW_DAYS = 7;

/** A coupon's counts as the store keeps them (see PoolCounts), with what a report needs besides. */
/**
 * Where a coupon's codes come from: a list Coupon Import loaded (`imported`), codes Create Codes
 * made in advance (`created`, assigned as a list too), or codes made as they are assigned
 * (`generated`).
 */
export type CodeSource = PoolKind | 'created';

export interface PoolStatistics extends Omit<PoolCounts, 'assignedSince'> {
	name: string;
	source: CodeSource;
	/** Codes generated so far (0 for an imported list). */
	generated: number;
	assignedLast7Days: number;
	/**
	 * Days until a list (imported or created) runs out at the last 7 days' rate, rounded to one
	 * decimal; null for a generated or shared coupon (whose codes are never assigned) or when
	 * nothing was assigned in those days.
	 */
	daysLeft: number | null;
}

function daysLeft(pool: PoolInfo, available: number, recent: number): number | null {
	if (pool.kind !== 'imported' || isShared(pool)) return null;
	if (available === 0) return 0;
	if (recent === 0) return null;
	return Math.round((available / (recent / RATE_WINDOW_DAYS)) * 10) / 10;
}

/** Statistics of one coupon, or of every coupon when `couponName` is undefined. */
export async function poolStatistics(
	session: CouponStoreSession,
	couponName: string | undefined,
	now: number,
): Promise<PoolStatistics[]> {
	let pools: PoolInfo[];
	if (couponName === undefined) {
		pools = await session.listPools();
	} else {
		const pool = await session.findPool(couponName);
		if (!pool)
			throw await unknownCoupon(
				session,
				couponName,
				'Check the spelling (case does not matter), or leave Coupon Name empty for every coupon. Coupons come from Coupon Import or from Generate for Contact with a new name.',
			);
		pools = [pool];
	}
	return await statisticsOf(session, pools, now);
}

/** Statistics of these coupons, found before. */
export async function statisticsOf(
	session: CouponStoreSession,
	pools: PoolInfo[],
	now: number,
): Promise<PoolStatistics[]> {
	const since = now - RATE_WINDOW_DAYS * DAY_MS;
	const statistics: PoolStatistics[] = [];
	for (const pool of pools) {
		const { assignedSince, ...counts } = await session.countPool(pool.name, now, since);
		statistics.push({
			name: pool.name,
			// Create Codes notes the format of the codes it made; Coupon Import keeps none.
			source: pool.kind === 'imported' && pool.codeFormat ? 'created' : pool.kind,
			...counts,
			generated: pool.kind === 'generated' ? pool.codeCount : 0,
			assignedLast7Days: assignedSince,
			daysLeft: daysLeft(pool, counts.available, assignedSince),
		});
	}
	return statistics;
}

/**
 * Statistics for each request: of the coupon it names, or of every coupon for undefined. Requests
 * for the same coupon (or for all) share one count: a report after 500 items counts once.
 */
export async function poolStatisticsForRun(
	session: CouponStoreSession,
	couponNames: Array<string | undefined>,
	now: number,
): Promise<Array<Outcome<PoolStatistics[]>>> {
	const groups = groupIndexes(couponNames, (name) =>
		name === undefined ? '' : couponNameKey(name),
	);
	const counted = await outcomesOf(
		groups,
		async ([first]) => await poolStatistics(session, couponNames[first], now),
	);
	const outcomes: Array<Outcome<PoolStatistics[]>> = new Array(couponNames.length);
	groups.forEach((members, g) => members.forEach((j) => (outcomes[j] = counted[g])));
	return outcomes;
}
