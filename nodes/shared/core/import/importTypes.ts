import type { Details } from '../storeContract';

// What Coupon Import reads, decides and reports: shared by the sheet plan and the import itself.

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

/** Rows of a sheet as a reader hands them over while it reads: `rows[i]` is row `firstRow + i`. */
export interface RowBatch {
	firstRow: number;
	rows: Array<unknown[] | undefined>;
}

/**
 * A sheet read as it streams: rows come a batch at a time, so that a list of millions of rows is
 * never held whole. Errors found in the file come while the batches are read.
 */
export interface SheetRows extends Omit<SheetTable, 'rows' | 'valueBeyond'> {
	/** The rows read, in order, each once. */
	batches: AsyncIterable<RowBatch>;
	/** Once `batches` has ended: the first row below those read that holds a value, if any. */
	valueBeyond(): number | undefined;
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
	/** Set, the coupons the file creates are shared, each customer using a code this often. */
	usesPerCustomer?: number;
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
	readTable(): Promise<SheetTable | SheetRows>;
}
