import { detailNameProblem, detailValueProblem, MAX_DETAILS } from '../common/details';
import { parseExpiry } from '../common/dates';
import { CouponError } from '../common/errors';
import { textParameter } from '../common/names';
import type { Details } from '../storeContract';
import {
	type Cell,
	HEADER_SEARCH_ROWS,
	type ImportSettings,
	type RowBatch,
	type SheetTable,
} from './importTypes';

/** Which columns of a sheet hold the codes, the coupon names, the expiry and the kept details. */

/** A header as Coupon Import matches it: spaces trimmed and collapsed, case ignored. */
export function headerKey(text: string): string {
	return text.trim().replace(/\s+/g, ' ').toLowerCase();
}

export function cellText(cell: Cell): string {
	if (cell === undefined) return '';
	return typeof cell === 'string' ? cell.trim() : cell.shown;
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

export function findLayout(
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
export function rowDetails(
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
export function rowExpiry(
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
export async function headRows(
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
