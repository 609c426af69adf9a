import type { CouponStoreSession, Details, ImportCandidate, PoolInfo } from '../storeContract';
import { detailNameProblem, detailValueProblem, MAX_DETAILS, sameDetails } from '../common/details';
import { readCodeValue } from '../codes/codes';
import { parseExpiry } from '../common/dates';
import { Turns } from '../common/turns';
import { CouponError, outcomesOf, StoreError, type Outcome } from '../common/errors';
import {
	compareCouponNames,
	couponNameKey,
	couponNameProblem,
	textParameter,
} from '../common/names';

/** A cell as the spreadsheet reader hands it over: its text, a value that cannot be a code, or nothing. */
export type Cell = string | { unusable: string; shown: string } | undefined;

export interface SheetTable {
	sheetName: string;
	/** `rows[i]` is spreadsheet row i + 1; missing rows are blank. Cells are read with `cell`. */
	rows: Array<unknown[] | undefined>;
	/** The first row below those read that holds a value: the sheet is longer than the import reads. */
	valueBeyond?: number;
	/** A raw cell as a Cell; called only for the cells the import reads. */
	cell: (raw: unknown) => Cell;
	/**
	 * Why a row does not line up with the header row, where the format can tell (a CSV row with
	 * fewer fields than the header): the row is rejected with this reason. A blank row has none.
	 */
	misalignment?: (row: unknown[] | undefined, header: unknown[]) => string | undefined;
}

export interface ImportSettings {
	/**
	 * Whether unused codes the file does not list are withdrawn (Replace, and the Dry Run that shows
	 * what Replace would do); otherwise a coupon keeps every code it has (Add).
	 */
	withdraw: boolean;
	/** Header of the column naming each row's coupon. */
	nameColumn: string;
	/** Header of the column holding the codes. */
	valueColumn: string;
	/** When set, every value goes into this coupon and the name column is not read. */
	couponName?: string;
	/** Rows allowed below the header row. */
	maxRows: number;
	/** Coupons one file may create; a name column holding codes or emails would create thousands. */
	maxNewCoupons: number;
	/** Uses per code of the coupons the file creates; existing coupons keep their own. */
	usesPerCode: number;
	/** The columns whose values each code keeps as its details, by header, or every other column. */
	keepColumns?: 'all' | string[];
	/** When given, the details of every coupon the file names, replacing what they had. */
	details?: Details;
	/** The column giving each code its own expiry, read in `timeZone`; rows past `now` are rejected. */
	expiry?: { column: string; timeZone: string };
	/** The run's clock: expiries and what Replace leaves available are judged at it. */
	now: number;
}

export const DEFAULT_MAX_NEW_COUPONS_PER_FILE = 1_000;

export interface RejectedRow {
	row: number;
	value: string;
	reason: string;
}

/** The first rejected rows are listed; the rest are only counted. */
export const LISTED_REJECTIONS = 20;
/** How far down the sheet the header row is looked for, past title rows. */
export const HEADER_SEARCH_ROWS = 10;

export interface PoolSummary {
	couponName: string;
	added: number;
	/** Values already in the coupon, or repeated in the file. */
	duplicates: number;
	/** Values that cannot be a code (see rejectedRows). */
	invalid: number;
	/** Unused codes removed because the file does not list them (Replace; what Replace would remove, for Dry Run). */
	withdrawn: number;
	/** Codes the coupon holds after the import: unused plus ever assigned. */
	poolSize: number;
	available: number;
	rejectedRows: RejectedRow[];
}

export interface FileSummary {
	sheet: string;
	headerRow: number | null;
	blankRows: number;
	/** Rows with a coupon name but no value. */
	rowsWithoutValue: number;
	/** Rows with a value but no usable coupon name. */
	rowsWithoutCoupon: number;
	rejectedRows: RejectedRow[];
}

interface PoolPlan {
	name: string;
	candidates: ImportCandidate[];
	duplicates: number;
	invalid: number;
	rejected: RejectedRow[];
}

interface ImportPlan extends Omit<ImportResult, 'pools'> {
	pools: PoolPlan[];
}

/** A header as Coupon Import matches it: spaces trimmed and collapsed, case ignored. */
export function headerKey(text: string): string {
	return text.trim().replace(/\s+/g, ' ').toLowerCase();
}

function cellText(cell: Cell): string {
	if (cell === undefined) return '';
	return typeof cell === 'string' ? cell.trim() : cell.shown;
}

function remember(list: RejectedRow[], rejection: RejectedRow): void {
	if (list.length < LISTED_REJECTIONS) list.push(rejection);
}

interface Layout {
	headerRow: number | null;
	valueColumn: number;
	nameColumn?: number;
	expiryColumn?: number;
	/** The columns kept as details, with their headers as the details' names. */
	kept: Array<{ column: number; name: string }>;
}

function findLayout(table: SheetTable, columns: ImportSettings): Layout {
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
				`Sheet "${table.sheetName}" has a "${columns.valueColumn}" column (row ${r + 1}) but no "${columns.nameColumn}" column, so the coupon of each value is unknown`,
				'Enter a Coupon Name to import every value into that coupon, or set Name Column to the header of the column that names the coupons.',
			);
		}
		return { headerRow: r + 1, valueColumn, nameColumn, kept, ...expiry };
	}

	if (seen.length === 0)
		throw new CouponError(
			`Sheet "${table.sheetName}" is empty`,
			'Check that the file has coupon values on its first sheet, or set Sheet Name.',
		);
	const usedColumns = new Set<number>();
	table.rows.forEach((row) =>
		row?.forEach((raw, c) => cellText(table.cell(raw)) !== '' && usedColumns.add(c)),
	);
	if (columns.couponName && usedColumns.size === 1) {
		if (columns.keepColumns)
			throw new CouponError(
				`Sheet "${table.sheetName}" has no header row, so no columns can be kept as details`,
				'Give the sheet a header row naming its columns, or remove Keep Columns.',
			);
		if (columns.expiry)
			throw new CouponError(
				`Sheet "${table.sheetName}" has no header row, so no column can give the codes' expiry`,
				'Give the sheet a header row naming its columns, or leave Expiry Column empty.',
			);
		return { headerRow: null, valueColumn: [...usedColumns][0], kept: [] };
	}

	const found = seen.slice(0, 3).map(
		(s) =>
			`row ${s.row}: ${s.headers
				.slice(0, 8)
				.map((h) => `"${h}"`)
				.join(', ')}`,
	);
	throw new CouponError(
		`No "${columns.valueColumn}" column in sheet "${table.sheetName}". Found ${found.join('; ')}`,
		`Set Value Column (and Name Column) to the headers your file uses, or give the sheet a header row with "${columns.nameColumn}" and "${columns.valueColumn}". A list of codes in a single column without a header is imported into the coupon named in Coupon Name.`,
	);
}

/**
 * The columns of the header row `cells` that Keep Columns names (every one but `used` for "all"),
 * or a CouponError naming a header the row does not have or that cannot name a detail.
 */
function keptColumns(
	table: SheetTable,
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
				`Sheet "${table.sheetName}" has no "${header}" column in its header row (row ${headerRow}) to keep as a detail`,
				fix,
			);
		const name = cells[column];
		const problem = detailNameProblem(name);
		if (problem) throw new CouponError(`Sheet "${table.sheetName}": ${problem}`, fix);
		if (!kept.some((k) => k.column === column)) kept.push({ column, name });
	}
	if (kept.length > MAX_DETAILS)
		throw new CouponError(
			`Sheet "${table.sheetName}" would keep ${kept.length} columns as details; a code keeps at most ${MAX_DETAILS}`,
			fix,
		);
	return kept;
}

/** A row's kept cells as the code's details (empty ones left out), or the problem with one. */
function rowDetails(
	table: SheetTable,
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
	table: SheetTable,
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
 * Reads the coupon values of a sheet: which rows go into which coupon, and which are rejected and
 * why. A million rows pass the event loop's turn as they go.
 */
export async function planImport(
	table: SheetTable,
	settings: ImportSettings,
	turns = new Turns(),
): Promise<ImportPlan> {
	const layout = findLayout(table, settings);
	const firstDataRow = layout.headerRow ?? 0;
	if (table.valueBeyond !== undefined || table.rows.length - firstDataRow > settings.maxRows) {
		throw new CouponError(
			`Sheet "${table.sheetName}" has more than ${settings.maxRows.toLocaleString('en-US')} rows below its header, the limit set in Max Rows${table.valueBeyond === undefined ? '' : ` (it has a value in row ${table.valueBeyond.toLocaleString('en-US')})`}`,
			'Raise Max Rows in the options if the list is meant to be this long, or split the file.',
		);
	}
	const file: FileSummary = {
		sheet: table.sheetName,
		headerRow: layout.headerRow,
		blankRows: 0,
		rowsWithoutValue: 0,
		rowsWithoutCoupon: 0,
		rejectedRows: [],
	};
	const pools = new Map<string, PoolPlan & { firstRowOf: Map<string, number> }>();
	// Rows repeat a handful of coupon names: each distinct spelling is checked once.
	const poolByName = new Map<
		string,
		{ pool?: PoolPlan & { firstRowOf: Map<string, number> }; problem?: string }
	>();

	const header = layout.headerRow === null ? undefined : (table.rows[layout.headerRow - 1] ?? []);
	for (let r = firstDataRow; r < table.rows.length; r++) {
		if (turns.due()) await turns.pass();
		const row = r + 1;
		const cells = table.rows[r];
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
			continue;
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
							candidates: [],
							duplicates: 0,
							invalid: 0,
							rejected: [],
							firstRowOf: new Map(),
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
			continue;
		}
		const read = misaligned
			? { problem: misaligned }
			: typeof valueCell === 'object'
				? { problem: valueCell.unusable }
				: readCodeValue(value);
		if ('problem' in read) {
			pool.invalid++;
			remember(pool.rejected, { row, value, reason: read.problem });
			continue;
		}
		const firstRow = pool.firstRowOf.get(read.key);
		if (firstRow !== undefined) {
			pool.duplicates++;
			remember(pool.rejected, { row, value, reason: `duplicate of row ${firstRow}` });
			continue;
		}
		const kept = rowDetails(table, cells, layout);
		const expiry = rowExpiry(table, cells, layout, settings);
		const problem = 'problem' in kept ? kept.problem : 'problem' in expiry ? expiry.problem : '';
		if (problem) {
			pool.invalid++;
			remember(pool.rejected, { row, value, reason: problem });
			continue;
		}
		pool.firstRowOf.set(read.key, row);
		pool.candidates.push({ code: value, key: read.key, row, ...kept, ...expiry });
	}

	const notes: string[] = [];
	const first = pools.values().next().value?.candidates[0];
	if (layout.headerRow === null && first) {
		notes.push(
			`Sheet "${table.sheetName}" has no "${settings.valueColumn}" header, so every row was read as a code, starting with row ${first.row} ("${first.code}"). If that row is a header, set Value Column to its text and import again: codes already imported are not added twice.`,
		);
	}
	return { pools: [...pools.values()].map(({ firstRowOf: _, ...pool }) => pool), file, notes };
}

/** A planned coupon's code keys, one list per plan: stores copy the same list once. */
const plannedKeys = new WeakMap<PoolPlan, string[]>();
function keysOf(pool: PoolPlan): string[] {
	let keys = plannedKeys.get(pool);
	if (!keys) plannedKeys.set(pool, (keys = pool.candidates.map((candidate) => candidate.key)));
	return keys;
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
	const listed = pool.candidates.length;
	if (!existing) {
		if (listed > 0) return;
		throw new CouponError(
			`Sheet "${sheetName}" lists no usable code for coupon "${pool.name}", so Replace would create it with no code to assign`,
			replaceFix,
		);
	}
	const keys = await session.keysInPool(existing.name, keysOf(pool), now);
	const fresh = listed - keys.known;
	if (keys.available + fresh > 0) return;
	const counts = await session.countPool(existing.name, now, now);
	const withdrawn = counts.available + counts.lapsed - keys.unused;
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
		`Replace would leave coupon "${existing.name}" with no code to assign: it would withdraw ${codesText(withdrawn)} nobody holds, and ${why}`,
		replaceFix,
	);
}

const replaceFix =
	'Nothing was changed. Replace with a file that lists codes to assign from now on (an export of the available codes, say), use Add to add codes without withdrawing any, or Delete Coupon to remove the coupon.';

function generatedCouponError(pool: PoolInfo): CouponError {
	return new CouponError(
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
		`Another run created a generated coupon "${pool.name}" while this file was being imported, so the list cannot go into it`,
		'Nothing of this step was saved. Rename the coupon in the spreadsheet (or in Coupon Name) and run the step again.',
	);
}

export interface ImportResult {
	/** One summary per coupon the sheet names, in order of first appearance. */
	pools: PoolSummary[];
	file: FileSummary;
	/** Things the user should know about how the sheet was read. */
	notes: string[];
}

/** One file to import: its settings, and how to read its sheet once its turn comes. */
export interface ImportRequest {
	settings: ImportSettings;
	readTable(): Promise<SheetTable>;
}

/**
 * Imports each request's sheet in turn within one store session. Sheets are read one at a time, so
 * a run of several large files never holds more than one parsed sheet. A file that fails (a sheet
 * that cannot be read, a coupon that is generated) changes nothing, and the others go on unless
 * `stopAtFailure` says the run ends there: then the files after it are not even read.
 */
export async function importSheets(
	session: CouponStoreSession,
	requests: ImportRequest[],
	{ stopAtFailure }: { stopAtFailure: boolean },
): Promise<Array<Outcome<ImportResult>>> {
	let failed = false;
	return await outcomesOf(requests, async ({ settings, readTable }) => {
		if (failed && stopAtFailure) throw skippedAfterFailure;
		try {
			return await importSheet(session, await readTable(), settings);
		} catch (error) {
			failed = true;
			throw error;
		}
	});
}

const skippedAfterFailure = new CouponError(
	'Not imported: an earlier file of this run failed',
	'Correct that file, or turn on Continue on Fail to import the other files without it.',
);

/**
 * Imports a planned sheet into the store: finds or creates every coupon first, then adds the
 * values, so a refusal comes before any code is added.
 */
export async function importSheet(
	session: CouponStoreSession,
	table: SheetTable,
	settings: ImportSettings,
): Promise<ImportResult> {
	const plan = await planImport(table, settings, session.turns);
	if (
		plan.pools.every(
			(pool) => pool.candidates.length === 0 && pool.invalid === 0 && pool.duplicates === 0,
		)
	) {
		throw new CouponError(
			`Sheet "${table.sheetName}" has no coupon values to import (${plan.file.blankRows} blank rows, ${plan.file.rowsWithoutValue} rows without a value, ${plan.file.rowsWithoutCoupon} rows without a coupon name)`,
			'Check that the codes are in the value column below the header row.',
		);
	}
	// One look-up after another: a session is one database connection.
	const existing: Array<PoolInfo | undefined> = [];
	for (const pool of plan.pools) existing.push(await session.findPool(pool.name));
	const generated = existing.find((info) => info?.kind === 'generated');
	if (generated) throw generatedCouponError(generated);
	if (settings.withdraw)
		for (const [i, pool] of plan.pools.entries())
			await refuseEmptyingReplace(session, table.sheetName, pool, existing[i], settings.now);
	const created = plan.pools.filter((_, i) => existing[i] === undefined);
	if (created.length > settings.maxNewCoupons) {
		throw new CouponError(
			`Sheet "${table.sheetName}" would create ${created.length.toLocaleString('en-US')} new coupons (${created
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
		const withdrawn = settings.withdraw ? await session.withdrawUnused(info.name, keysOf(pool)) : 0;
		const outcome = await session.addImported(info.name, pool.candidates);
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
			available: outcome.available,
			rejectedRows: pool.rejected.sort((a, b) => a.row - b.row).slice(0, LISTED_REJECTIONS),
		};
	}
	const kept = existing.filter(
		(info): info is PoolInfo => info !== undefined && info.usesPerCode !== settings.usesPerCode,
	);
	const notes = kept.map(
		(info) =>
			`Coupon "${info.name}" already existed and keeps its ${info.usesPerCode} use${info.usesPerCode === 1 ? '' : 's'} per code; Uses per Code (${settings.usesPerCode}) applies only to coupons a file creates.`,
	);
	return { pools: summaries, file: plan.file, notes: [...plan.notes, ...notes] };
}
