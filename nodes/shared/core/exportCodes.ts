import type { CouponStoreSession, ListedCode, PoolCounts, PoolInfo } from './store';
import { mergedDetails } from './details';
import { CouponError } from './errors';
import { unknownCoupon } from './unknownNames';
import { assignmentStatus, type AssignmentStatus } from './validity';

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

/** The export's columns, as its header row names them. */
export const EXPORT_HEADER = [
	'code',
	'status',
	'contact',
	'assigned at',
	'valid until',
	'redeemed at',
	'order reference',
	'details',
];

/** Codes read from the store at a time: memory holds one page of rows, not the coupon. */
export const EXPORT_PAGE = 5_000;

export interface ExportRequest {
	couponName: string;
	status: ExportStatus;
}

export interface ExportSummary {
	couponName: string;
	status: ExportStatus;
	/** Codes listed: the file's rows below its header. */
	rows: number;
}

/** Where the rows go, a page at a time, and how many rows it can take at most. */
export interface ExportSink {
	maxRows: number;
	/** Why more rows than maxRows cannot be written, and what to do instead. */
	tooManyRows: string;
	write(rows: string[][]): Promise<void>;
}

export function parseExportStatus(raw: unknown): ExportStatus {
	const status = EXPORT_STATUSES.find((known) => known === raw);
	if (status === undefined)
		throw new CouponError(
			`Unknown choice ${JSON.stringify(raw) ?? String(raw)} for Status`,
			`Choose one of ${EXPORT_STATUSES.map((known) => `"${known}"`).join(', ')}.`,
		);
	return status;
}

/** A code's status as the export shows it: `available` while nobody holds it, `lapsed` once past its own expiry. */
type ListedStatus = 'available' | 'lapsed' | AssignmentStatus;

const rowsOf = (counts: PoolCounts, status: ExportStatus) =>
	status === 'all' ? counts.available + counts.assigned : counts[status];

/**
 * Writes the coupon's codes of one status (or all) to `sink`, in code-key order, a page at a time.
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
	const expected = rowsOf(await session.countPool(pool.name, now, now), request.status);
	if (expected > sink.maxRows)
		throw new CouponError(
			`Coupon "${pool.name}" has ${expected.toLocaleString('en-US')} ${request.status === 'all' ? '' : `${request.status} `}codes, more than ${sink.tooManyRows}`,
			'Choose CSV as File Format, or export one status at a time.',
		);
	let rows = 0;
	let after: string | undefined;
	for (;;) {
		const page = await session.listCodes(pool.name, after, EXPORT_PAGE);
		if (page.length === 0) break;
		after = page[page.length - 1].key;
		const listed = page.flatMap((code) => {
			const status = statusOf(code, now);
			return request.status === 'all' || request.status === status ? [row(pool, code, status)] : [];
		});
		// Codes assigned meanwhile by another run can make the count stale: the limit holds anyway.
		if (rows + listed.length > sink.maxRows)
			throw new CouponError(
				`Coupon "${pool.name}" has more codes than ${sink.tooManyRows}`,
				'Choose CSV as File Format, or export one status at a time.',
			);
		if (listed.length > 0) await sink.write(listed);
		rows += listed.length;
		if (page.length < EXPORT_PAGE) break;
	}
	return { couponName: pool.name, status: request.status, rows };
}

function statusOf({ assignment, expiresAt }: ListedCode, now: number): ListedStatus {
	if (assignment) return assignmentStatus(assignment, now);
	return expiresAt !== undefined && expiresAt <= now ? 'lapsed' : 'available';
}

const iso = (ms: number | undefined) => (ms === undefined ? '' : new Date(ms).toISOString());

function row(
	pool: PoolInfo,
	{ code, details, assignment, expiresAt }: ListedCode,
	status: string,
): string[] {
	const merged = mergedDetails(pool.details, details);
	return [
		code,
		status,
		assignment?.contactKey ?? '',
		iso(assignment?.assignedAt),
		// An unused code's own expiry: the latest it can be valid until.
		iso(assignment ? assignment.validUntil : expiresAt),
		iso(assignment?.redeemedAt),
		assignment?.orderReference ?? '',
		Object.keys(merged).length === 0 ? '' : JSON.stringify(merged),
	];
}
