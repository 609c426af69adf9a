import type { ListedCode } from '../../core/storeContract';
import {
	LISTED_COLUMNS,
	SqlRows,
	type AssignmentRow as SqlAssignmentRow,
	type ListedRow as SqlListedRow,
	type PoolRow as SqlPoolRow,
	type RedemptionRow as SqlRedemptionRow,
	type TermsRow as SqlTermsRow,
} from '../sqlRows';
import type { CopiedLine } from './statements';

/** pg hands back timestamps as Dates and jsonb as parsed JSON. */
export const sqlRows = new SqlRows<string, Date, unknown>({
	ms: (time) => time.getTime(),
	parsed: (json) => json,
});

/** LISTED_COLUMNS as a COPY writes them for `listedOfCopy`: times as epoch milliseconds. */
export const COPIED_LISTED_COLUMNS = LISTED_COLUMNS.replace(
	/c\.(assigned_at|valid_until|replaced_at|redeemed_at|held_until|expires_at)/g,
	(column) => `floor(extract(epoch FROM ${column}) * 1000)`,
);

/** A COPY line's fields hand back times as milliseconds and JSON as text, as SQLite does. */
const copiedRows = new SqlRows<string, number, string>({
	ms: (time) => time,
	parsed: (json) => JSON.parse(json),
});

/** The listed code of a COPY line of COPIED_LISTED_COLUMNS. */
export const listedOfCopy = (line: CopiedLine): ListedCode =>
	copiedRows.listed({
		pool_id: line.text(0)!,
		code_key: line.text(1)!,
		code: line.text(2)!,
		contact_key: line.text(3),
		// Read only for an assigned code, which has them.
		assigned_at: line.number(4)!,
		valid_until: line.number(5)!,
		replaced_at: line.number(6),
		redeemed_at: line.number(7),
		order_reference: line.text(8),
		uses: line.number(9),
		held_for: line.text(10),
		held_until: line.number(11),
		details: line.text(12),
		expires_at: line.number(13),
	});

export type PoolRow = SqlPoolRow<string, string, unknown>;
export type AssignmentRow = SqlAssignmentRow<string, Date, unknown>;
export type TermsRow = SqlTermsRow<unknown>;
export type ListedRow = SqlListedRow<string, Date, unknown>;
export type RedemptionRow = SqlRedemptionRow<string, Date>;
