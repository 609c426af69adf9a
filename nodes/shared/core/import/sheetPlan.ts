import type { ImportCandidate, ImportStaging, StagedList } from '../storeContract';
import { readCodeValue } from '../codes/codes';
import { Turns } from '../common/turns';
import { CouponError } from '../common/errors';
import { couponNameKey, couponNameProblem } from '../common/names';
import {
	type FileSummary,
	type ImportResult,
	type ImportSettings,
	LISTED_REJECTIONS,
	type RejectedRow,
	type RowBatch,
	type SheetRows,
	type SheetTable,
} from './importTypes';
import { cellText, findLayout, headRows, rowDetails, rowExpiry } from './sheetLayout';
import { sheetRowsOf } from './sheetRows';

export interface PoolPlan {
	name: string;
	/** The pool's codes, staged: one candidate per code key, the first row that lists it. */
	list: StagedList;
	duplicates: number;
	invalid: number;
	rejected: RejectedRow[];
}

interface ImportPlan extends Omit<ImportResult, 'pools'> {
	pools: PoolPlan[];
}

/**
 * Rows planned before they are staged: each staging step is a transaction of the store, which costs
 * about as much as writing thousands of rows. Two such batches live at a time (one planned, one
 * staged) and V8 lets the heap grow to a few times what lives: 20,000 rows peaked 20 to 40 MB below
 * 50,000 on a 1,000,000-row import, in the same time.
 */
const STAGED_ROWS = 20_000;

/** A row the plan keeps for a pool, until its batch is staged. */
interface PlannedRow {
	pool: PoolPlan;
	candidate: ImportCandidate;
}

/** A row repeating the key of row `first` of its batch. */
interface RepeatedRow extends PlannedRow {
	first: number;
}

/**
 * The refusal of a sheet that would create `created`, more coupons than Max New Coupons (`complete`:
 * all it would create; otherwise the first of them).
 */
export function tooManyNewCoupons(
	sheetName: string,
	created: Array<{ name: string }>,
	settings: ImportSettings,
	complete = true,
): CouponError {
	return new CouponError(
		'LIMIT_EXCEEDED',
		`Sheet "${sheetName}" would create ${complete ? '' : 'at least '}${created.length.toLocaleString('en-US')} new coupons (${created
			.slice(0, 3)
			.map((pool) => `"${pool.name}"`)
			.join(
				', ',
			)}, ...), more than Max New Coupons (${settings.maxNewCoupons.toLocaleString('en-US')})`,
		settings.couponName === undefined
			? `Check that column "${settings.nameColumn}" names coupons (not codes or contacts), or raise Max New Coupons in the options.`
			: 'Raise Max New Coupons in the options.',
	);
}

/**
 * Keeps the first LISTED_REJECTIONS rejections by row. A repeat is found once its batch is staged,
 * after later rows of the batch were rejected, so the list is cut by row, not by arrival.
 */
function remember(list: RejectedRow[], rejection: RejectedRow): void {
	list.push(rejection);
	if (list.length < 2 * LISTED_REJECTIONS) return;
	list.sort((a, b) => a.row - b.row);
	list.length = LISTED_REJECTIONS;
}

/** The first LISTED_REJECTIONS rejections by row. */
export function firstRejections(list: RejectedRow[]): RejectedRow[] {
	return list.sort((a, b) => a.row - b.row).slice(0, LISTED_REJECTIONS);
}

/**
 * Reads the coupon values of a sheet as its rows stream in: which rows go into which coupon, and
 * which are rejected and why. A million rows pass the event loop's turn as they go.
 */
export async function planImport(
	sheet: SheetTable | SheetRows,
	settings: ImportSettings,
	staging: ImportStaging,
	turns = new Turns(),
	stagedRows = STAGED_ROWS,
): Promise<ImportPlan> {
	const table = 'rows' in sheet ? sheetRowsOf(sheet) : sheet;
	const batches = table.batches[Symbol.asyncIterator]();
	try {
		return await planRows(table, batches, settings, staging, turns, stagedRows);
	} catch (error) {
		// The reader stops unpacking the file now, not when its inflaters are collected.
		await batches.return?.();
		throw error;
	}
}

async function planRows(
	table: SheetRows,
	batches: AsyncIterator<RowBatch>,
	settings: ImportSettings,
	staging: ImportStaging,
	turns: Turns,
	stagedRows: number,
): Promise<ImportPlan> {
	const head = await headRows(batches, table.cell);
	const layout = findLayout({ sheetName: table.sheetName, cell: table.cell, rows: head }, settings);
	const firstDataRow = layout.headerRow ?? 0;
	const tooManyRows = (valueBeyond?: number) =>
		new CouponError(
			'LIMIT_EXCEEDED',
			`Sheet "${table.sheetName}" has more than ${settings.maxRows.toLocaleString('en-US')} rows below its header, the limit set in Max Rows${valueBeyond === undefined ? '' : ` (it has a value in row ${valueBeyond.toLocaleString('en-US')})`}`,
			'Raise Max Rows in the options if the list is meant to be this long, or split the file.',
		);
	const file: FileSummary = {
		sheet: table.sheetName,
		headerRow: layout.headerRow,
		blankRows: 0,
		rowsWithoutValue: 0,
		rowsWithoutCoupon: 0,
		rejectedRows: [],
	};
	const pools = new Map<string, PoolPlan>();
	// Rows repeat a handful of coupon names: each distinct spelling is checked once.
	const poolByName = new Map<string, { pool?: PoolPlan; problem?: string }>();
	/** The batch's rows for their pools, each code key once per pool; staged once the batch is read. */
	let planned: PlannedRow[] = [];
	/** The batch's first row of each code key, by pool; later rows with that key are `repeated`. */
	let firstRowOf = new Map<PoolPlan, Map<string, number>>();
	let repeated: RepeatedRow[] = [];
	/** The sheet's first code, for the note on a sheet without a header row. */
	let firstCode: ImportCandidate | undefined;

	const header = layout.headerRow === null ? undefined : (head[layout.headerRow - 1] ?? []);
	const planRow = (row: number, cells: unknown[] | undefined) => {
		const valueCell = table.cell(cells?.[layout.valueColumn]);
		const value = cellText(valueCell);
		const rowName =
			layout.nameColumn === undefined ? '' : cellText(table.cell(cells?.[layout.nameColumn]));
		// A row that does not line up is rejected whatever its columns hold: they may be shifted.
		const misaligned = header && table.misalignment?.(cells, header);
		if (value === '') {
			if (rowName === '' && !misaligned) {
				file.blankRows++;
			} else {
				file.rowsWithoutValue++;
				remember(file.rejectedRows, {
					row,
					value,
					reason: misaligned || `no value in column "${settings.valueColumn}"`,
				});
			}
			return;
		}
		const name = settings.couponName ?? rowName;
		let target = poolByName.get(name);
		if (!target) {
			const problem = couponNameProblem(name);
			if (problem) {
				target = {
					problem: name === '' ? `no coupon name in column "${settings.nameColumn}"` : problem,
				};
			} else {
				const poolKey = couponNameKey(name);
				let pool = pools.get(poolKey);
				if (!pool)
					pools.set(
						poolKey,
						(pool = {
							name,
							list: staging.newList(),
							duplicates: 0,
							invalid: 0,
							rejected: [],
						}),
					);
				target = { pool };
			}
			poolByName.set(name, target);
		}
		const { pool } = target;
		if (!pool) {
			file.rowsWithoutCoupon++;
			remember(file.rejectedRows, { row, value, reason: misaligned || target.problem! });
			return;
		}
		const read = misaligned
			? { problem: misaligned }
			: typeof valueCell === 'object'
				? { problem: valueCell.unusable }
				: readCodeValue(value);
		if ('problem' in read) {
			pool.invalid++;
			remember(pool.rejected, { row, value, reason: read.problem });
			return;
		}
		let firstRows = firstRowOf.get(pool);
		if (!firstRows) firstRowOf.set(pool, (firstRows = new Map()));
		const first = firstRows.get(read.key);
		if (first !== undefined) {
			repeated.push({ pool, candidate: { code: value, key: read.key, row }, first });
			return;
		}
		const kept = rowDetails(table, cells, layout);
		const expiry = rowExpiry(table, cells, layout, settings);
		const problem = 'problem' in kept ? kept.problem : 'problem' in expiry ? expiry.problem : '';
		if (problem) {
			pool.invalid++;
			remember(pool.rejected, { row, value, reason: problem });
			return;
		}
		firstRows.set(read.key, row);
		const candidate = { code: value, key: read.key, row, ...kept, ...expiry };
		firstCode ??= candidate;
		planned.push({ pool, candidate });
	};

	/**
	 * Stages a batch's rows, pool by pool. A row whose key an earlier batch staged is a duplicate
	 * of that batch's row, and so are the rows of this batch that repeat it.
	 */
	const stageRows = async (planned: PlannedRow[], repeated: RepeatedRow[]) => {
		const earlierRow = new Map<number, number>();
		for (const [pool, candidates] of groupByPool(planned)) {
			const repeats = await staging.stage(pool.list, candidates);
			if (repeats.length === 0) continue;
			const codeAt = new Map(candidates.map((candidate) => [candidate.row, candidate.code]));
			for (const { row, firstRow } of repeats) {
				earlierRow.set(row, firstRow);
				pool.duplicates++;
				remember(pool.rejected, {
					row,
					value: codeAt.get(row)!,
					reason: `duplicate of row ${firstRow}`,
				});
			}
		}
		for (const { pool, candidate, first } of repeated) {
			pool.duplicates++;
			remember(pool.rejected, {
				row: candidate.row,
				value: candidate.code,
				reason: `duplicate of row ${earlierRow.get(first) ?? first}`,
			});
		}
	};
	/** The batch being staged while the next one is planned: a store may stage on another core. */
	let inFlight: Promise<void> | undefined;
	/** The file's coupons looked up in the store, and those of them it does not hold yet. */
	const lookedUp = new Set<PoolPlan>();
	const newPools: PoolPlan[] = [];
	/**
	 * Refuses the file as soon as it names more new coupons than Max New Coupons (a name column
	 * holding codes names a million), before their rows are staged. Coupons are looked up only once
	 * the file names more than that, each once.
	 */
	const refuseTooManyNew = async () => {
		if (pools.size - (lookedUp.size - newPools.length) <= settings.maxNewCoupons) return;
		await staging.transaction(
			async (session) => {
				for (const pool of pools.values()) {
					if (newPools.length > settings.maxNewCoupons) return;
					if (lookedUp.has(pool)) continue;
					lookedUp.add(pool);
					if (!(await session.findPool(pool.name))) newPools.push(pool);
				}
			},
			{ readOnly: true },
		);
		if (newPools.length > settings.maxNewCoupons)
			throw tooManyNewCoupons(table.sheetName, newPools, settings, lookedUp.size === pools.size);
	};
	/** Stages the rows planned so far, once the batch before them is staged. */
	const stageBatch = async () => {
		await refuseTooManyNew();
		const batch = [planned, repeated] as const;
		planned = [];
		repeated = [];
		firstRowOf = new Map();
		await inFlight;
		inFlight = stageRows(...batch);
		// Awaited by the next batch or at the end; a plan that fails first must not leave it unhandled.
		inFlight.catch(() => undefined);
	};

	/** The next row to plan: rows the reader left out before it are blank. */
	let nextRow = firstDataRow + 1;
	/** Past Max Rows rows are not planned; the sheet is refused once it is read. */
	const lastAllowed = firstDataRow + settings.maxRows;
	let overLimit = false;
	const planBatch = async ({ firstRow, rows }: RowBatch, after: number) => {
		const lastRow = firstRow + rows.length - 1;
		for (let row = Math.max(firstRow, nextRow); row <= lastRow; row++) {
			if (turns.due()) await turns.pass();
			const cells = rows[row - firstRow];
			if (row > after && layout.otherColumnError && holdsValueBeside(cells, layout.valueColumn))
				throw layout.otherColumnError;
			if (row <= lastAllowed) planRow(row, cells);
			else overLimit = true;
		}
		if (lastRow >= nextRow) {
			file.blankRows += Math.max(0, firstRow - nextRow);
			nextRow = lastRow + 1;
		}
		if (planned.length + repeated.length >= stagedRows) await stageBatch();
	};
	const holdsValueBeside = (cells: unknown[] | undefined, column: number) =>
		cells?.some((raw, c) => c !== column && cellText(table.cell(raw)) !== '') ?? false;

	try {
		await planBatch({ firstRow: 1, rows: head }, head.length);
		for (let next = await batches.next(); !next.done; next = await batches.next())
			await planBatch(next.value, head.length);
		await stageBatch();
		await inFlight;
	} catch (error) {
		// The batch being staged ends before the staging area can go.
		await inFlight?.catch(() => undefined);
		throw error;
	}
	const valueBeyond = table.valueBeyond();
	if (overLimit || valueBeyond !== undefined) throw tooManyRows(valueBeyond);

	const notes: string[] = [];
	if (layout.headerRow === null && firstCode) {
		notes.push(
			`Sheet "${table.sheetName}" has no "${settings.valueColumn}" header, so every row was read as a code, starting with row ${firstCode.row} ("${firstCode.code}"). If that row is a header, set Value Column to its text and import again: codes already imported are not added twice.`,
		);
	}
	return {
		pools: [...pools.values()].map((pool) => ({
			...pool,
			rejected: firstRejections(pool.rejected),
		})),
		file: { ...file, rejectedRows: firstRejections(file.rejectedRows) },
		notes,
	};
}

/** The candidates of planned rows, by pool, in row order. */
function groupByPool(planned: PlannedRow[]): Map<PoolPlan, ImportCandidate[]> {
	const byPool = new Map<PoolPlan, ImportCandidate[]>();
	for (const { pool, candidate } of planned) {
		const candidates = byPool.get(pool);
		if (candidates) candidates.push(candidate);
		else byPool.set(pool, [candidate]);
	}
	return byPool;
}
