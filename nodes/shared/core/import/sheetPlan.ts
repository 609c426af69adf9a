import type { Details, ImportCandidate, ImportStaging, StagedList } from '../storeContract';
import { detailNameProblem, detailValueProblem, MAX_DETAILS } from '../common/details';
import { readCodeValue } from '../codes/codes';
import { parseExpiry } from '../common/dates';
import { Turns } from '../common/turns';
import { CouponError } from '../common/errors';
import { couponNameKey, couponNameProblem, textParameter } from '../common/names';
import {
	type Cell,
	type FileSummary,
	HEADER_SEARCH_ROWS,
	type ImportResult,
	type ImportSettings,
	LISTED_REJECTIONS,
	type RejectedRow,
	type RowBatch,
	type SheetRows,
	type SheetTable,
} from './importTypes';
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

/** A header as Coupon Import matches it: spaces trimmed and collapsed, case ignored. */
export function headerKey(text: string): string {
	return text.trim().replace(/\s+/g, ' ').toLowerCase();
}

function cellText(cell: Cell): string {
	if (cell === undefined) return '';
	return typeof cell === 'string' ? cell.trim() : cell.shown;
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

interface Layout {
	headerRow: number | null;
	valueColumn: number;
	nameColumn?: number;
	expiryColumn?: number;
	/** The columns kept as details, with their headers as the details' names. */
	kept: Array<{ column: number; name: string }>;
	/**
	 * A sheet without a header row is one column: the refusal should a row past those searched for
	 * the header hold a value in any other.
	 */
	otherColumnError?: CouponError;
}

function findLayout(
	table: Pick<SheetTable, 'sheetName' | 'rows' | 'cell'>,
	columns: ImportSettings,
): Layout {
	const wantedValue = headerKey(columns.valueColumn);
	const wantedName = headerKey(columns.nameColumn);
	const seen: Array<{ row: number; headers: string[] }> = [];
	for (let r = 0; r < table.rows.length && seen.length < HEADER_SEARCH_ROWS; r++) {
		// Array.from, not map: an empty cell may be a hole in the row, which map would leave a hole.
		const cells = Array.from(table.rows[r] ?? [], (raw) => cellText(table.cell(raw)));
		if (cells.every((text) => text === '')) continue;
		seen.push({ row: r + 1, headers: cells.filter((text) => text !== '') });
		const valueColumn = cells.findIndex((text) => headerKey(text) === wantedValue);
		if (valueColumn < 0) continue;
		const nameColumn = cells.findIndex((text) => headerKey(text) === wantedName);
		const expiryColumn = columns.expiry
			? cells.findIndex((text) => headerKey(text) === headerKey(columns.expiry!.column))
			: undefined;
		if (expiryColumn !== undefined && expiryColumn < 0)
			throw new CouponError(
				'SHEET_LAYOUT_INVALID',
				`Sheet "${table.sheetName}" has no "${columns.expiry!.column}" column in its header row (row ${r + 1}), which Expiry Column names`,
				"Set Expiry Column to the header of the column with each code's expiry, or leave it empty.",
			);
		const kept = keptColumns(table, cells, r + 1, columns, [
			valueColumn,
			...(columns.couponName ? [] : [nameColumn]),
			...(expiryColumn === undefined ? [] : [expiryColumn]),
		]);
		const expiry = expiryColumn === undefined ? {} : { expiryColumn };
		if (columns.couponName) return { headerRow: r + 1, valueColumn, kept, ...expiry };
		if (nameColumn < 0) {
			throw new CouponError(
				'SHEET_LAYOUT_INVALID',
				`Sheet "${table.sheetName}" has a "${columns.valueColumn}" column (row ${r + 1}) but no "${columns.nameColumn}" column, so the coupon of each value is unknown`,
				'Enter a Coupon Name to import every value into that coupon, or set Name Column to the header of the column that names the coupons.',
			);
		}
		return { headerRow: r + 1, valueColumn, nameColumn, kept, ...expiry };
	}

	if (seen.length === 0)
		throw new CouponError(
			'SHEET_EMPTY',
			`Sheet "${table.sheetName}" is empty`,
			'Check that the file has coupon values on its first sheet, or set Sheet Name.',
		);
	const found = seen.slice(0, 3).map(
		(s) =>
			`row ${s.row}: ${s.headers
				.slice(0, 8)
				.map((h) => `"${h}"`)
				.join(', ')}`,
	);
	const noValueColumn = new CouponError(
		'SHEET_LAYOUT_INVALID',
		`No "${columns.valueColumn}" column in sheet "${table.sheetName}". Found ${found.join('; ')}`,
		`Set Value Column (and Name Column) to the headers your file uses, or give the sheet a header row with "${columns.nameColumn}" and "${columns.valueColumn}". A list of codes in a single column without a header is imported into the coupon named in Coupon Name.`,
	);
	const usedColumns = usedColumnsOf(table, table.rows);
	if (columns.couponName && usedColumns.size === 1) {
		if (columns.keepColumns)
			throw new CouponError(
				'SHEET_LAYOUT_INVALID',
				`Sheet "${table.sheetName}" has no header row, so no columns can be kept as details`,
				'Give the sheet a header row naming its columns, or remove Keep Columns.',
			);
		if (columns.expiry)
			throw new CouponError(
				'SHEET_LAYOUT_INVALID',
				`Sheet "${table.sheetName}" has no header row, so no column can give the codes' expiry`,
				'Give the sheet a header row naming its columns, or leave Expiry Column empty.',
			);
		return {
			headerRow: null,
			valueColumn: [...usedColumns][0],
			kept: [],
			otherColumnError: noValueColumn,
		};
	}
	throw noValueColumn;
}

/** The columns holding a value in any of these rows. */
function usedColumnsOf(
	table: Pick<SheetTable, 'cell'>,
	rows: Array<unknown[] | undefined>,
): Set<number> {
	const used = new Set<number>();
	rows.forEach((row) => row?.forEach((raw, c) => cellText(table.cell(raw)) !== '' && used.add(c)));
	return used;
}

/**
 * The columns of the header row `cells` that Keep Columns names (every one but `used` for "all"),
 * or a CouponError naming a header the row does not have or that cannot name a detail.
 */
function keptColumns(
	table: Pick<SheetTable, 'sheetName'>,
	cells: string[],
	headerRow: number,
	{ keepColumns }: ImportSettings,
	used: number[],
): Layout['kept'] {
	if (!keepColumns) return [];
	const fix = 'Set Keep Columns to headers of the sheet, separated by commas, or to "all".';
	const wanted =
		keepColumns === 'all'
			? cells.flatMap((text, column) => (text === '' || used.includes(column) ? [] : [text]))
			: keepColumns;
	const kept: Layout['kept'] = [];
	for (const header of wanted) {
		const column = cells.findIndex((text) => headerKey(text) === headerKey(header));
		if (column < 0)
			throw new CouponError(
				'SHEET_LAYOUT_INVALID',
				`Sheet "${table.sheetName}" has no "${header}" column in its header row (row ${headerRow}) to keep as a detail`,
				fix,
			);
		const name = cells[column];
		const problem = detailNameProblem(name);
		if (problem)
			throw new CouponError('DETAILS_INVALID', `Sheet "${table.sheetName}": ${problem}`, fix);
		if (!kept.some((k) => k.column === column)) kept.push({ column, name });
	}
	if (kept.length > MAX_DETAILS)
		throw new CouponError(
			'LIMIT_EXCEEDED',
			`Sheet "${table.sheetName}" would keep ${kept.length} columns as details; a code keeps at most ${MAX_DETAILS}`,
			fix,
		);
	return kept;
}

/** A row's kept cells as the code's details (empty ones left out), or the problem with one. */
function rowDetails(
	table: Pick<SheetTable, 'cell'>,
	cells: unknown[] | undefined,
	layout: Layout,
): { details?: Details } | { problem: string } {
	if (layout.kept.length === 0) return {};
	const entries: Array<[string, string]> = [];
	for (const { column, name } of layout.kept) {
		const text = cellText(table.cell(cells?.[column]));
		if (text === '') continue;
		const problem = detailValueProblem(name, text);
		if (problem) return { problem };
		entries.push([name, text]);
	}
	// From entries: a header "__proto__" stays a detail, never a prototype.
	return entries.length > 0 ? { details: Object.fromEntries(entries) } : {};
}

/** Keep Columns as the option gives it: off when empty, "all", or headers separated by commas. */
export function parseKeepColumns(raw: unknown): ImportSettings['keepColumns'] {
	const text = textParameter(
		raw,
		'Keep Columns',
		'Enter headers of the sheet separated by commas, or "all".',
	);
	if (text === '') return undefined;
	if (text.toLowerCase() === 'all') return 'all';
	const headers = text
		.split(',')
		.map((header) => header.trim())
		.filter((header) => header !== '');
	return headers.length > 0 ? headers : undefined;
}

/** A row's expiry from the Expiry Column, as a candidate's field; none when the cell is empty. */
function rowExpiry(
	table: Pick<SheetTable, 'cell'>,
	cells: unknown[] | undefined,
	layout: Layout,
	{ expiry, now }: ImportSettings,
): { expiresAt?: number } | { problem: string } {
	if (layout.expiryColumn === undefined || !expiry) return {};
	const text = cellText(table.cell(cells?.[layout.expiryColumn]));
	if (text === '') return {};
	const expiresAt = parseExpiry(text, expiry.timeZone);
	if (expiresAt === undefined)
		return {
			problem: `its expiry "${text.slice(0, 40)}" is not a date such as 2027-01-31 or 2027-01-31 18:00`,
		};
	if (expiresAt <= now)
		return { problem: `expired on ${new Date(expiresAt).toISOString()}, before this import` };
	return { expiresAt };
}

/**
 * The rows the header is looked for in (up to HEADER_SEARCH_ROWS rows holding a value), taken from
 * the front of the batches; the batches go on after them.
 */
async function headRows(
	batches: AsyncIterator<RowBatch>,
	cell: SheetTable['cell'],
): Promise<Array<unknown[] | undefined>> {
	const head: Array<unknown[] | undefined> = [];
	let withValue = 0;
	while (withValue < HEADER_SEARCH_ROWS) {
		const next = await batches.next();
		if (next.done) break;
		next.value.rows.forEach((row, i) => {
			head[next.value.firstRow - 1 + i] = row;
			if (row?.some((raw) => cellText(cell(raw)) !== '')) withValue++;
		});
	}
	return head;
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
