import type {
	CouponStoreSession,
	Details,
	ListedCode,
	PoolCounts,
	PoolInfo,
} from '../storeContract';
import { toWallClock } from '../common/dates';
import { MAX_DETAILS, mergedDetails } from '../common/details';
import { CouponError } from '../common/errors';
import { headerKey } from '../import/sheetLayout';
import { echo } from '../common/names';
import { unknownCoupon } from '../common/unknownNames';
import { assignmentStatus, type AssignmentStatus } from '../common/validity';

/** Which codes an export lists: stored in workflow JSON as the Status parameter, never rename. */
export const EXPORT_STATUSES = [
	'all',
	'available',
	'active',
	'expired',
	'redeemed',
	'replaced',
	'lapsed',
] as const;
export type ExportStatus = (typeof EXPORT_STATUSES)[number];

/** The export's first columns, as its header row names them; a column per detail follows. */
export const FIXED_COLUMNS = [
	'code',
	'status',
	'contact',
	'assigned at',
	'valid until',
	'redeemed at',
	'order reference',
];

/**
 * Details with a column of their own, at most: as many as one code can show (its coupon's and its
 * own). The header must be known before the first row, and a million codes could name millions:
 * past these, a code's other details go into one last column, as JSON.
 */
export const MAX_DETAIL_COLUMNS = 2 * MAX_DETAILS;
export const OTHER_DETAILS_COLUMN = 'other details';

/** Codes read from the store at a time: memory holds one page of rows, not the coupon. */
export const EXPORT_PAGE = 5_000;

export interface ExportRequest {
	couponName: string;
	status: ExportStatus;
	/** The time zone whose wall clock the dates are also given in: the workflow's. */
	timeZone: string;
}

export interface ExportSummary {
	couponName: string;
	status: ExportStatus;
	/** Codes listed: the file's rows below its header. */
	rows: number;
}

/**
 * A date and time of the export: the moment, and the wall-clock time it reads in the export's time
 * zone (as the UTC time that reads the same), for a spreadsheet date, which has no time zone.
 */
export interface ExportDate {
	at: number;
	wallClock: number;
}

/** A cell of the export: text ('' when empty), a number, or a date and time. */
export type ExportCell = string | number | ExportDate;

/** Where the rows go, a page at a time, and how many rows it can take at most. */
export interface ExportSink {
	maxRows: number;
	/** Why more rows than maxRows cannot be written, and what to do instead. */
	tooManyRows: string;
	/** Rows of cells: the header row first, then the codes a page at a time. */
	write(rows: ExportCell[][]): Promise<void>;
}

export function parseExportStatus(raw: unknown): ExportStatus {
	const status = EXPORT_STATUSES.find((known) => known === raw);
	if (status === undefined)
		throw new CouponError(
			'CHOICE_UNKNOWN',
			`Unknown choice ${echo(raw)} for Status`,
			`Choose one of ${EXPORT_STATUSES.map((known) => `"${known}"`).join(', ')}.`,
		);
	return status;
}

/** A code's status as the export shows it: `available` while nobody holds it, `lapsed` once past its own expiry. */
type ListedStatus = 'available' | 'lapsed' | AssignmentStatus;

const rowsOf = (counts: PoolCounts, status: ExportStatus) =>
	status === 'all' ? counts.available + counts.assigned : counts[status];

/**
 * Writes the coupon's codes of one status (or all) to `sink`, in code-key order, a page at a time:
 * when codes have details of their own, a first pass over the pages finds the details' names for
 * the header; the (other) pass writes the rows.
 * Refused before anything is written when the coupon is unknown or its rows pass `sink.maxRows`.
 * Changes nothing.
 */
export async function exportCodes(
	session: CouponStoreSession,
	request: ExportRequest,
	now: number,
	sink: ExportSink,
): Promise<ExportSummary> {
	const pool = await session.findPool(request.couponName);
	if (!pool)
		throw await unknownCoupon(
			session,
			request.couponName,
			'Correct Coupon Name (case does not matter); Get Pool Statistics lists the coupons.',
		);
	// Counting a million codes takes a scan: only a sink with a limit needs the count first.
	const expected = Number.isFinite(sink.maxRows)
		? rowsOf(await session.countPool(pool.name, now, now), request.status)
		: 0;
	if (expected > sink.maxRows)
		throw new CouponError(
			'STORE_CONFLICT',
			`Coupon "${pool.name}" has ${expected.toLocaleString('en-US')} ${request.status === 'all' ? '' : `${request.status} `}codes, more than ${sink.tooManyRows}`,
			'Choose CSV as File Format, or export one status at a time.',
		);
	// Codes without details of their own (most lists) need no pass for their names: one read.
	const columns = detailColumns(
		(await session.hasCodeDetails(pool.name))
			? await detailNames(session, pool, request.status, now)
			: Object.keys(pool.details ?? {}),
	);
	await sink.write([[...FIXED_COLUMNS, ...columns.header]]);
	let rows = 0;
	for await (const listed of listedPages(session, pool, request.status, now)) {
		// Codes assigned meanwhile by another run can make the count stale: the limit holds anyway.
		if (rows + listed.length > sink.maxRows)
			throw new CouponError(
				'LIMIT_EXCEEDED',
				`Coupon "${pool.name}" has more codes than ${sink.tooManyRows}`,
				'Choose CSV as File Format, or export one status at a time.',
			);
		await sink.write(
			listed.map(({ code, status }) => row(pool, code, status, columns, request.timeZone)),
		);
		rows += listed.length;
	}
	return { couponName: pool.name, status: request.status, rows };
}

interface Listed {
	code: ListedCode;
	status: ListedStatus;
}

/** The coupon's codes of the status (or all) a page at a time, each with its status; empty pages skipped. */
async function* listedPages(
	session: CouponStoreSession,
	pool: PoolInfo,
	status: ExportStatus,
	now: number,
): AsyncGenerator<Listed[]> {
	for await (const page of session.listCodes(pool.name, EXPORT_PAGE)) {
		const listed: Listed[] = [];
		for (const code of page) {
			const codeStatus = statusOf(code, now);
			if (status === 'all' || status === codeStatus) listed.push({ code, status: codeStatus });
		}
		if (listed.length > 0) yield listed;
		// A page is milliseconds of work, but a million codes are 200 pages.
		if (session.turns.due()) await session.turns.pass();
	}
}

/**
 * The names of the listed codes' details (the coupon's and the codes' own), up to
 * MAX_DETAIL_COLUMNS and one more, which says that there are more: the pass stops there.
 */
async function detailNames(
	session: CouponStoreSession,
	pool: PoolInfo,
	status: ExportStatus,
	now: number,
): Promise<string[]> {
	const names = new Set<string>();
	for await (const listed of listedPages(session, pool, status, now))
		for (const details of [pool.details, ...listed.map(({ code }) => code.details)])
			for (const name of Object.keys(details ?? {})) {
				names.add(name);
				if (names.size > MAX_DETAIL_COLUMNS) return [...names];
			}
	return [...names];
}

interface DetailColumns {
	/** The detail columns' headers, OTHER_DETAILS_COLUMN last when some details have none. */
	header: string[];
	/** Each detail name with a column of its own, and where that column is among the detail columns. */
	columnOf: Map<string, number>;
	/** Whether the last column holds, as JSON, each code's details that have no column of their own. */
	others: boolean;
}

/**
 * A column per detail name, in alphabetical order. Coupon Import finds a column by its header,
 * case and spaces aside, so a name that reads like a column before it (`Status`, `Valid Until`)
 * is written `Status (detail)`.
 */
function detailColumns(names: string[]): DetailColumns {
	const others = names.length > MAX_DETAIL_COLUMNS;
	// By name: the order details are stored in is the store's (PostgreSQL's jsonb orders keys by length).
	const own = names.slice(0, MAX_DETAIL_COLUMNS).sort((a, b) => a.localeCompare(b, 'en'));
	const taken = new Set(
		[...FIXED_COLUMNS, ...(others ? [OTHER_DETAILS_COLUMN] : [])].map(headerKey),
	);
	const header = own.map((name) => {
		let column = name;
		for (let n = 1; taken.has(headerKey(column)); n++)
			column = `${name} (detail${n === 1 ? '' : ` ${n}`})`;
		taken.add(headerKey(column));
		return column;
	});
	if (others) header.push(OTHER_DETAILS_COLUMN);
	return { header, columnOf: new Map(own.map((name, i) => [name, i])), others };
}

function statusOf({ assignment, expiresAt }: ListedCode, now: number): ListedStatus {
	if (assignment) return assignmentStatus(assignment, now);
	return expiresAt !== undefined && expiresAt <= now ? 'lapsed' : 'available';
}

/** A detail as its placeholder shows it (null as nothing, true as text); a number stays a number. */
const detailCell = (value: Details[string]): ExportCell =>
	value === null ? '' : typeof value === 'boolean' ? String(value) : value;

/** A date cell: empty when there is no date. */
const dateCell = (ms: number | undefined, timeZone: string): ExportCell =>
	ms === undefined ? '' : { at: ms, wallClock: toWallClock(ms, timeZone) };

function row(
	pool: PoolInfo,
	{ code, details, assignment, expiresAt }: ListedCode,
	status: ListedStatus,
	columns: DetailColumns,
	timeZone: string,
): ExportCell[] {
	const cells: ExportCell[] = [
		code,
		status,
		assignment?.contactKey ?? '',
		dateCell(assignment?.assignedAt, timeZone),
		// An unused code's own expiry: the latest it can be valid until.
		dateCell(assignment ? assignment.validUntil : expiresAt, timeZone),
		dateCell(assignment?.redeemedAt, timeZone),
		assignment?.orderReference ?? '',
	];
	const firstDetail = cells.length;
	for (let column = 0; column < columns.header.length; column++) cells.push('');
	// Most lists have no details: a million rows need not each make an empty object.
	if (!pool.details && !details) return cells;
	const others: Array<[string, Details[string]]> = [];
	for (const [name, value] of Object.entries(mergedDetails(pool.details, details))) {
		const column = columns.columnOf.get(name);
		if (column !== undefined) cells[firstDetail + column] = detailCell(value);
		else if (columns.others) others.push([name, value]);
		// Another run's import between the two passes (PostgreSQL reads what others committed).
		else
			throw new CouponError(
				'STORE_CONFLICT',
				`Coupon "${pool.name}" changed while its codes were exported: code ${code} has a detail "${name}" the file has no column for`,
				'Nothing was written. Run the step again.',
			);
	}
	// From entries: a detail "__proto__" stays a detail.
	if (others.length > 0) cells[cells.length - 1] = JSON.stringify(Object.fromEntries(others));
	return cells;
}
