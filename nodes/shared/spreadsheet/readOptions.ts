import type { UnpackLimits } from './zipGuard';

/** What a reader of a coupon list (.xlsx or CSV) reads, and its limits. */
export interface ReadOptions {
	/** The sheet to read; the first one when empty. Matched case-insensitively. */
	sheetName?: string;
	/**
	 * Rows read: up to the `leadingRows`-th row holding a value (where the header is looked for),
	 * then `rowsAfter` more. Past them the sheet is only looked through for a value, which the table
	 * reports as `valueBeyond`: a huge sheet costs no more than these rows.
	 */
	leadingRows: number;
	rowsAfter: number;
	/** Cells allowed per row read, on average: more when the import keeps other columns. */
	cellsPerRow?: number;
	limits: UnpackLimits;
}

/** Cells the rows read may hold, on average per row: a coupon list needs two columns. */
export const CELLS_PER_ROW = 4;
