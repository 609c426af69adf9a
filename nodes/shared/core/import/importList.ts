import { isShared, sharedUsesText, shareUnusedCodes } from '../codes/sharedCodes';
import type { CouponStoreSession, CouponTerms, ImportStaging, PoolInfo } from '../storeContract';
import { sameDetails } from '../common/details';
import { CouponError, outcomesOf, StoreError, type Outcome } from '../common/errors';
import { Turns } from '../common/turns';
import { compareCouponNames } from '../common/names';
import {
	type ImportRequest,
	type ImportResult,
	type ImportSettings,
	type PoolSummary,
	type SheetRows,
	type SheetTable,
} from './importTypes';
import { firstRejections, type PoolPlan, planImport, tooManyNewCoupons } from './sheetPlan';

/** A sheet read into the staging area: what publishing it needs. */
export interface StagedSheet {
	sheetName: string;
	settings: ImportSettings;
	plan: Awaited<ReturnType<typeof planImport>>;
}

const countIs = (n: number) => `${n.toLocaleString('en-US')} ${n === 1 ? 'is' : 'are'}`;
const codesText = (n: number) => `${n.toLocaleString('en-US')} code${n === 1 ? '' : 's'}`;

/**
 * Refuses a Replace (or its Dry Run) that would leave the coupon no code to assign: the shop
 * would still take the withdrawn codes, while the next contact would get none. Codes contacts
 * hold, or past their own expiry, do not count: only unused ones that can still be assigned do.
 */
async function refuseEmptyingReplace(
	session: CouponStoreSession,
	sheetName: string,
	pool: PoolPlan,
	existing: PoolInfo | undefined,
	now: number,
): Promise<void> {
	const listed = pool.list.size;
	if (!existing) {
		if (listed > 0) return;
		throw new CouponError(
			'REPLACE_WOULD_EMPTY',
			`Sheet "${sheetName}" lists no usable code for coupon "${pool.name}", so Replace would create it with no code to assign`,
			replaceFix,
		);
	}
	const keys = await session.keysInPool(existing.name, pool.list, now);
	const fresh = listed - keys.known;
	if (keys.available + fresh > 0) return;
	const counts = await session.countPool(existing.name, now, now);
	const withdrawn = counts.available + counts.lapsed - keys.unused;
	const kept = existing.codeCount - withdrawn;
	const held = keys.known - keys.unused;
	const lapsed = keys.unused - keys.available;
	const why =
		listed === 0
			? `sheet "${sheetName}" lists no usable code for it`
			: `of the ${codesText(listed)} sheet "${sheetName}" lists for it, ${[
					...(held > 0 ? [`${countIs(held)} held by contacts`] : []),
					...(lapsed > 0 ? [`${countIs(lapsed)} past their own expiry`] : []),
				].join(' and ')}`;
	throw new CouponError(
		'REPLACE_WOULD_EMPTY',
		`Replace would leave coupon "${existing.name}" with no code to assign: it would withdraw ${codesText(withdrawn)} nobody holds${kept > 0 ? ` and keep only ${kept.toLocaleString('en-US')} that cannot be assigned` : ', leaving it no code'}, and ${why}`,
		replaceFix,
	);
}

const replaceFix =
	'Nothing was changed. Replace with a file that lists codes to assign from now on (an export of the available codes, say), use Add to add codes without withdrawing any, or Delete Coupon to remove the coupon.';

function generatedCouponError(pool: PoolInfo): CouponError {
	return new CouponError(
		'COUPON_KIND_MISMATCH',
		`Coupon "${pool.name}" is a generated coupon (${pool.codeCount} codes generated), so a list cannot be imported into it`,
		'Rename the coupon in the spreadsheet (or in Coupon Name) to import the list as a new coupon.',
	);
}

/**
 * Another run created a generated coupon of this name a moment ago, after this file was checked.
 * Coupons of the file may have been created already, so the whole run stops (a StoreError: nothing
 * of it is kept) rather than this file alone, which could not undo them.
 */
function createdMeanwhileError(pool: PoolInfo): StoreError {
	return new StoreError(
		'STORE_CONFLICT',
		`Another run created a generated coupon "${pool.name}" while this file was being imported, so the list cannot go into it`,
		'Nothing of this step was saved. Rename the coupon in the spreadsheet (or in Coupon Name) and run the step again.',
	);
}

/**
 * Runs `work` for each file in turn. A file that fails changes nothing, and the others go on unless
 * `stopAtFailure` says the run ends there: then the files after it are not even read.
 */
async function fileByFile<F, T>(
	files: F[],
	work: (file: F) => Promise<T>,
	stopAtFailure: boolean,
): Promise<Array<Outcome<T>>> {
	let failed = false;
	return await outcomesOf(files, async (file) => {
		if (failed && stopAtFailure) throw skippedAfterFailure;
		try {
			return await work(file);
		} catch (error) {
			failed = true;
			throw error;
		}
	});
}

/**
 * Reads each request's sheet into the staging area in turn, a batch at a time, outside any
 * transaction; a sheet that cannot be read stages nothing that is published.
 */
export async function stageSheets(
	staging: ImportStaging,
	requests: ImportRequest[],
	{ stopAtFailure }: { stopAtFailure: boolean },
): Promise<Array<Outcome<StagedSheet>>> {
	return await fileByFile(
		requests,
		async ({ settings, readTable }) => await stageSheet(staging, await readTable(), settings),
		stopAtFailure,
	);
}

/**
 * Publishes each staged sheet in turn within one store session; one that is refused (a coupon that
 * is generated, a Replace that would empty a coupon) changes nothing.
 */
export async function publishSheets(
	session: CouponStoreSession,
	sheets: StagedSheet[],
	{ stopAtFailure }: { stopAtFailure: boolean },
): Promise<Array<Outcome<ImportResult>>> {
	return await fileByFile(
		sheets,
		async (sheet) => await publishSheet(session, sheet),
		stopAtFailure,
	);
}

const skippedAfterFailure = new CouponError(
	'RUN_SKIPPED',
	'Not imported: an earlier file of this run failed',
	'Correct that file, or turn on Continue on Fail to import the other files without it.',
);

/** Reads a sheet into the staging area: which codes go into which coupon, and which rows are rejected. */
export async function stageSheet(
	staging: ImportStaging,
	table: SheetTable | SheetRows,
	settings: ImportSettings,
): Promise<StagedSheet> {
	const plan = await planImport(table, settings, staging, new Turns());
	if (
		plan.pools.every((pool) => pool.list.size === 0 && pool.invalid === 0 && pool.duplicates === 0)
	) {
		throw new CouponError(
			'SHEET_EMPTY',
			`Sheet "${table.sheetName}" has no coupon values to import (${plan.file.blankRows} blank rows, ${plan.file.rowsWithoutValue} rows without a value, ${plan.file.rowsWithoutCoupon} rows without a coupon name)`,
			'Check that the codes are in the value column below the header row.',
		);
	}
	return { sheetName: table.sheetName, settings, plan };
}

/**
 * Replace withdraws only codes nobody holds; a shared code is every customer's (a newsletter's), so
 * Replace would keep it usable while the summary said the file is the list: refused instead.
 */
function sharedReplaceError(pool: PoolInfo): CouponError {
	return new CouponError(
		'CODE_SHARED',
		`Coupon "${pool.name}" is shared: Replace withdraws only codes nobody holds, and its codes are every customer's, so they would stay usable; nothing was imported`,
		'Import with Add to add shared codes (an Expiry Column gives them an end). To end one now, delete the coupon (Delete Coupon with Delete Assigned Codes Too, which also removes its history of uses) and import the codes that stay.',
	);
}

/** A coupon's uses in words: "1 use per code", or a shared coupon's. */
const usesText = (terms: CouponTerms) =>
	isShared(terms)
		? sharedUsesText(terms)
		: `${terms.usesPerCode} use${terms.usesPerCode === 1 ? '' : 's'} per code`;

/**
 * Publishes a staged sheet into the store: finds or creates every coupon first, then adds the
 * values, so a refusal comes before any code is added.
 */
export async function publishSheet(
	session: CouponStoreSession,
	{ sheetName, settings, plan }: StagedSheet,
): Promise<ImportResult> {
	// One look-up after another: a session is one database connection.
	const existing: Array<PoolInfo | undefined> = [];
	for (const pool of plan.pools) existing.push(await session.findPool(pool.name));
	const generated = existing.find((info) => info?.kind === 'generated');
	if (generated) throw generatedCouponError(generated);
	if (settings.withdraw)
		for (const [i, pool] of plan.pools.entries()) {
			const info = existing[i];
			if (info && isShared(info)) throw sharedReplaceError(info);
			await refuseEmptyingReplace(session, sheetName, pool, info, settings.now);
		}
	const created = plan.pools.filter((_, i) => existing[i] === undefined);
	if (created.length > settings.maxNewCoupons)
		throw tooManyNewCoupons(sheetName, created, settings);

	// Pools are created and filled in one order (by name key) so that concurrent imports of one file
	// each cannot deadlock.
	const byKey = [...plan.pools.keys()].sort((a, b) =>
		compareCouponNames(plan.pools[a].name, plan.pools[b].name),
	);
	const infos: PoolInfo[] = new Array(plan.pools.length);
	for (const i of byKey) {
		infos[i] =
			existing[i] ??
			(await session.createPool(plan.pools[i].name, 'imported', {
				usesPerCode: settings.usesPerCode,
				...(settings.usesPerCustomer === undefined
					? {}
					: { usesPerCustomer: settings.usesPerCustomer }),
				...(settings.details ? { details: settings.details } : {}),
			}));
		if (infos[i].kind !== 'imported') throw createdMeanwhileError(infos[i]);
		if (settings.details && !sameDetails(infos[i].details, settings.details))
			await session.setCouponDetails(infos[i].name, settings.details);
	}
	const summaries: PoolSummary[] = new Array(plan.pools.length);
	for (const i of byKey) {
		const pool = plan.pools[i];
		const info = infos[i];
		// Before adding, so that the counts addImported returns are the coupon's after the import.
		const withdrawn = settings.withdraw ? await session.withdrawUnused(info.name, pool.list) : 0;
		const outcome = await session.addStaged(info.name, pool.list);
		const shared = await shareUnusedCodes(session, info, settings.now);
		for (const duplicate of outcome.duplicateExamples) {
			pool.rejected.push({
				row: duplicate.row,
				value: duplicate.code,
				reason: 'already in this coupon',
			});
		}
		summaries[i] = {
			couponName: info.name,
			added: outcome.added,
			duplicates: pool.duplicates + outcome.duplicates,
			invalid: pool.invalid,
			withdrawn,
			poolSize: outcome.codeCount,
			available: outcome.available - shared,
			rejectedRows: firstRejections(pool.rejected),
		};
	}
	const kept = existing.filter(
		(info): info is PoolInfo =>
			info !== undefined &&
			(info.usesPerCode !== settings.usesPerCode ||
				info.usesPerCustomer !== settings.usesPerCustomer),
	);
	const notes = kept.map((info) =>
		isShared(info) || isShared(settings)
			? `Coupon "${info.name}" already existed and keeps its ${usesText(info)}; Uses per Code and Uses per Customer (${usesText(settings)}) apply only to coupons a file creates.`
			: `Coupon "${info.name}" already existed and keeps its ${usesText(info)}; Uses per Code (${settings.usesPerCode}) applies only to coupons a file creates.`,
	);
	return { pools: summaries, file: plan.file, notes: [...plan.notes, ...notes] };
}
