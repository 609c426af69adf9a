import { publishSheet, stageSheet } from '../../nodes/shared/core/import/importList';
import type {
	ImportResult,
	ImportSettings,
	SheetRows,
	SheetTable,
} from '../../nodes/shared/core/import/importTypes';
import { planImport, type PoolPlan } from '../../nodes/shared/core/import/sheetPlan';
import type {
	CouponStore,
	CouponStoreSession,
	ImportCandidate,
} from '../../nodes/shared/core/storeContract';
import {
	StaticDataStaging,
	StaticDataStore,
} from '../../nodes/shared/stores/staticData/StaticDataStore';

/** `count` candidates whose codes are their keys, K<row>, from row `from` on. */
export const candidatesFrom = (from: number, count = 3): ImportCandidate[] =>
	Array.from({ length: count }, (_, i) => ({
		code: `K${from + i}`,
		key: `K${from + i}`,
		row: from + i,
	}));

/** A sheet imported into `store` as Coupon Import does it: staged, then published in one transaction. */
export async function importInto(
	store: CouponStore,
	table: SheetTable | SheetRows,
	settings: ImportSettings,
	{
		rollBack = false,
		session = (s) => s,
	}: { rollBack?: boolean; session?: (s: CouponStoreSession) => CouponStoreSession } = {},
): Promise<ImportResult> {
	return await store.withStaging(async (staging) => {
		const staged = await stageSheet(staging, table, settings);
		return await staging.transaction(async (s) => await publishSheet(session(s), staged), {
			rollBack,
		});
	});
}

/**
 * A sheet's plan with the candidates each pool staged, in row order: what a store would be given.
 * `stagedRows` sets how many planned rows are staged at a time.
 */
export async function planOf(
	table: SheetTable | SheetRows,
	settings: ImportSettings,
	stagedRows?: number,
): Promise<
	Omit<Awaited<ReturnType<typeof planImport>>, 'pools'> & {
		pools: Array<Omit<PoolPlan, 'list'> & { candidates: ImportCandidate[] }>;
	}
> {
	return await new StaticDataStore({}).withStaging(async (staging) => {
		const plan = await planImport(table, settings, staging, undefined, stagedRows);
		const candidates = (staging as StaticDataStaging).candidatesOf.bind(staging);
		return {
			...plan,
			pools: plan.pools.map(({ list, ...pool }) => ({
				...pool,
				candidates: [...candidates(list).values()],
			})),
		};
	});
}
