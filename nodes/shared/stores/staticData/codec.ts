import { isCodeFormat } from '../../core/codes/codeFormat';
import { CouponError } from '../../core/common/errors';
import { Turns } from '../../core/common/turns';
import {
	SHARED_HOLDER,
	type AssignmentRecord,
	type ImportCandidate,
	type PoolKind,
	type Details,
	type CodeFormat,
	type RedemptionEntry,
	type UseScope,
} from '../../core/storeContract';

// How coupons are written into a workflow's static data and read back: the stored shape, its
// versions, the checks on reading (static data can be edited by hand) and the lines of codes and
// assignments.

/** The key under the workflow's global static data; namespaced because every node of the workflow shares it. */
export const STATIC_DATA_KEY = 'n8nNodesCoupons';
/**
 * Version 2 added redemptions (two more assignment fields); version 3 uses, holds and details (an
 * eighth field, and a coupon's terms); version 4 an unused code's own expiry (a third field of its
 * line, which a version 3 reader would take for damage) and a coupon's code format; version 5 shared
 * coupons (a coupon's uses per customer, its codes held by the empty contact key, which a version 4
 * reader would take for damage, and each use's customer). Data of earlier versions reads as it is.
 */
export const FORMAT_VERSION = 5;

/**
 * The most the coupons may take in a workflow's static data, as n8n stores it (JSON). n8n loads
 * static data with the workflow and writes it back whole after every execution that changed it,
 * and its docs ask that it stay small: a million unused codes of 10 characters take about 11.5 MB. Past this, steps that add
 * codes are refused; everything else goes on.
 */
export const MAX_STATIC_DATA_BYTES = 16 * 1024 * 1024;

/** The bytes `state` takes as n8n stores it. */
export const storedBytes = (state: StoredState): number => Buffer.byteLength(JSON.stringify(state));
const READABLE_VERSIONS = [1, 2, 3, 4, 5];

/**
 * The stored form of a pool. n8n wraps every stored object in a change-tracking proxy and saves the
 * whole static data as JSON in the workflow row, so the bulk is kept as two plain strings:
 * `available` holds unused imported codes, one per line (`code`, or `code TAB details` with the
 * details as JSON, then `TAB expiresAt` in base-36 milliseconds when the code has an expiry, the
 * details then empty when it has none);
 * `assignments` one line per assignment, `code TAB contact TAB assignedAt TAB validUntil TAB
 * replacedAt TAB redeemedAt TAB orderReference TAB checkout` with times in base-36 milliseconds and
 * `checkout` a JSON object of the uses, history, hold and details, when there are any. Codes,
 * contacts and order references never hold control characters, and JSON writes them escaped, so
 * tabs and line breaks are safe separators.
 */
export interface StoredPool {
	name: string;
	kind: PoolKind;
	createdAt: string;
	available: string;
	assignments: string;
	/** Missing before version 3: one use per code. */
	usesPerCode?: number;
	/** Set for a shared coupon (version 5). */
	usesPerCustomer?: number;
	details?: Details;
	/** Missing for coupons made before formats were kept; readers of version 3 keep it unread. */
	codeFormat?: CodeFormat;
}

export interface StoredState {
	version: number;
	pools: StoredPool[];
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
	typeof value === 'object' && value !== null && !Array.isArray(value);

const damagedFix = `Choose another storage, or delete "${STATIC_DATA_KEY}" from the workflow's static data (its coupons are lost) to start again.`;

/** The stored coupons, checked: a workflow's static data can be edited by hand or damaged. */
export function readState(raw: unknown): StoredState {
	if (raw === undefined || raw === null) return { version: FORMAT_VERSION, pools: [] };
	const where = `The coupons kept in this workflow's static data (under "${STATIC_DATA_KEY}")`;
	if (!isPlainObject(raw) || !Array.isArray(raw.pools))
		throw new CouponError(
			'STORE_DAMAGED',
			`${where} are damaged: they are not a list of coupons`,
			damagedFix,
		);
	if (typeof raw.version !== 'number' || !Number.isInteger(raw.version) || raw.version < 1)
		throw new CouponError(
			'STORE_DAMAGED',
			`${where} have an unknown format version ${JSON.stringify(raw.version)}`,
			damagedFix,
		);
	if (!READABLE_VERSIONS.includes(raw.version))
		throw new CouponError(
			'STORE_NEWER',
			`${where} have format version ${raw.version}, newer than this version of n8n-nodes-coupons reads (${FORMAT_VERSION})`,
			'Update n8n-nodes-coupons to the version that stored them, or a later one.',
		);
	const damaged = raw.pools.findIndex((pool) => !isStoredPool(pool));
	if (damaged >= 0)
		throw new CouponError(
			'STORE_DAMAGED',
			`${where} are damaged: coupon number ${damaged + 1} is not a stored coupon`,
			damagedFix,
		);
	return raw as unknown as StoredState;
}

function isStoredPool(pool: unknown): pool is StoredPool {
	return (
		isPlainObject(pool) &&
		typeof pool.name === 'string' &&
		(pool.kind === 'imported' || pool.kind === 'generated') &&
		typeof pool.available === 'string' &&
		typeof pool.assignments === 'string' &&
		(pool.usesPerCode === undefined || isCount(pool.usesPerCode, 1)) &&
		(pool.usesPerCustomer === undefined || isCount(pool.usesPerCustomer, 1)) &&
		(pool.details === undefined || isPlainObject(pool.details)) &&
		(pool.codeFormat === undefined || isCodeFormat(pool.codeFormat))
	);
}

const isCount = (value: unknown, least: number) =>
	typeof value === 'number' && Number.isInteger(value) && value >= least;

/** An unused code's line: the code, and its details after a tab. */
export function splitAvailable(line: string): {
	code: string;
	details?: Details;
	expiresAt?: number;
} {
	const [code, detailsText, expiryText] = line.split('\t', 3);
	const damaged = (what: string) =>
		new CouponError(
			'STORE_DAMAGED',
			`The coupons kept in this workflow's static data (under "${STATIC_DATA_KEY}") are damaged: the ${what} of code ${code} cannot be read`,
			damagedFix,
		);
	const unused: { code: string; details?: Details; expiresAt?: number } = { code };
	if (detailsText) {
		const details = parseJson(detailsText);
		if (!isPlainObject(details)) throw damaged('details');
		unused.details = details as Details;
	}
	if (expiryText !== undefined) {
		const expiresAt = parseInt(expiryText, 36);
		if (!Number.isSafeInteger(expiresAt)) throw damaged('expiry');
		unused.expiresAt = expiresAt;
	}
	return unused;
}

/** An unused code's line's code alone, without reading its details. */
export const codeOfLine = (line: string) => {
	const tab = line.indexOf('\t');
	return tab < 0 ? line : line.slice(0, tab);
};

/** An unused code's line's expiry alone, without reading its details. */
export function expiryOfLine(line: string): number | undefined {
	const first = line.indexOf('\t');
	const second = first < 0 ? -1 : line.indexOf('\t', first + 1);
	return second < 0 ? undefined : parseInt(line.slice(second + 1), 36);
}

/** An unused code's line: see StoredPool. */
export function availableLine({
	code,
	details,
	expiresAt,
}: Omit<ImportCandidate, 'key' | 'row'>): string {
	if (expiresAt !== undefined)
		return `${code}\t${details === undefined ? '' : JSON.stringify(details)}\t${expiresAt.toString(36)}`;
	return details === undefined ? code : `${code}\t${JSON.stringify(details)}`;
}

/** The parsed JSON, or undefined when it is not JSON. */
function parseJson(text: string): unknown {
	try {
		return JSON.parse(text);
	} catch {
		return undefined;
	}
}

/** The lines of `text` (none for ''), split a turn at a time: a pool's text may hold a million. */
export async function linesOf(text: string, turns: Turns): Promise<string[]> {
	const lines: string[] = [];
	if (text === '') return lines;
	for (let at = 0; ;) {
		const end = text.indexOf('\n', at);
		if (end < 0) {
			lines.push(text.slice(at));
			return lines;
		}
		lines.push(text.slice(at, end));
		at = end + 1;
		if (turns.due()) await turns.pass();
	}
}

/** `lines` joined by line breaks, a turn at a time. */
export async function joinedLines(lines: string[], turns: Turns): Promise<string> {
	const parts: string[] = [];
	for (let at = 0; at < lines.length; at += LINES_PER_JOIN) {
		parts.push(lines.slice(at, at + LINES_PER_JOIN).join('\n'));
		if (turns.due()) await turns.pass();
	}
	return parts.join('\n');
}

/** Lines joined in one call: a few milliseconds of work. */
const LINES_PER_JOIN = 20_000;

/** Code-unit order, as compareCouponNames and listCodes use. */
export const byCodeUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

const TIME_RADIX = 36;
const formatTime = (ms: number | undefined) => (ms === undefined ? '' : ms.toString(TIME_RADIX));

/** A copy the caller may change without changing the stored record; a shared code's with the uses `scope` asks for and the newest. */
export const copyRecord = (record: AssignmentRecord, scope: UseScope = {}): AssignmentRecord => {
	const { redemptions } = record;
	const kept =
		redemptions && record.contactKey === SHARED_HOLDER
			? scopedUses(redemptions, scope)
			: redemptions;
	return {
		...record,
		...(kept ? { redemptions: kept.map((entry) => ({ ...entry })) } : {}),
		...(record.hold ? { hold: { ...record.hold } } : {}),
	};
};

/** The uses of a shared code's history that `scope` asks for, and the newest (entries are in order of n). */
function scopedUses(
	entries: RedemptionEntry[],
	{ contactKeys = [], orderReferences = [], numbers = [] }: UseScope,
): RedemptionEntry[] {
	const orders = new Set(orderReferences);
	const contacts = new Set(contactKeys);
	// The customers of the orders asked for, whose every use is read too.
	for (const { orderReference, contactKey } of entries)
		if (orderReference !== undefined && contactKey !== undefined && orders.has(orderReference))
			contacts.add(contactKey);
	const asked = new Set(numbers);
	return entries.filter(
		(entry, i) =>
			i === entries.length - 1 ||
			asked.has(entry.n) ||
			(entry.contactKey !== undefined && contacts.has(entry.contactKey)),
	);
}

/** The eighth field: what checkout added to an assignment, when it added anything. */
interface Checkout {
	uses?: number;
	redemptions?: AssignmentRecord['redemptions'];
	hold?: AssignmentRecord['hold'];
	details?: Details;
}

export function formatAssignment(a: AssignmentRecord): string {
	const fields = [
		a.code,
		a.contactKey,
		formatTime(a.assignedAt),
		formatTime(a.validUntil),
		formatTime(a.replacedAt),
	];
	const checkout: Checkout = {};
	if (a.uses !== undefined) checkout.uses = a.uses;
	if (a.redemptions !== undefined) checkout.redemptions = a.redemptions;
	if (a.hold !== undefined) checkout.hold = a.hold;
	if (a.details !== undefined) checkout.details = a.details;
	const hasCheckout = Object.keys(checkout).length > 0;
	if (a.redeemedAt !== undefined || hasCheckout)
		fields.push(formatTime(a.redeemedAt), a.orderReference ?? '');
	if (hasCheckout) fields.push(JSON.stringify(checkout));
	return fields.join('\t');
}

export function parseAssignment(line: string, pool: StoredPool): AssignmentRecord {
	const [
		code,
		contactKey,
		assignedAt,
		validUntil,
		replacedAt,
		redeemedAt,
		orderReference,
		checkout,
	] = line.split('\t');
	const record: AssignmentRecord = {
		code,
		contactKey,
		assignedAt: parseInt(assignedAt, TIME_RADIX),
		validUntil: parseInt(validUntil, TIME_RADIX),
	};
	if (replacedAt) record.replacedAt = parseInt(replacedAt, TIME_RADIX);
	if (redeemedAt) record.redeemedAt = parseInt(redeemedAt, TIME_RADIX);
	if (orderReference) record.orderReference = orderReference;
	const times = [record.assignedAt, record.validUntil, record.replacedAt, record.redeemedAt];
	// A shared coupon's codes are held by the empty contact key (SHARED_HOLDER); no other's are.
	const readable =
		code &&
		(contactKey || (contactKey === '' && pool.usesPerCustomer !== undefined)) &&
		times.every((time) => time === undefined || Number.isFinite(time)) &&
		(checkout === undefined || readCheckout(checkout, record));
	if (!readable)
		throw new CouponError(
			'STORE_DAMAGED',
			`The coupons kept in this workflow's static data (under "${STATIC_DATA_KEY}") are damaged: coupon "${pool.name}" holds an assignment that cannot be read`,
			damagedFix,
		);
	return record;
}

/** Adds the eighth field to the record; false when it is not what formatAssignment writes. */
function readCheckout(text: string, record: AssignmentRecord): boolean {
	const checkout = parseJson(text);
	if (!isPlainObject(checkout)) return false;
	const { uses, redemptions, hold, details } = checkout as Checkout;
	if (uses !== undefined && !isCount(uses, 0)) return false;
	if (
		redemptions !== undefined &&
		!(
			Array.isArray(redemptions) &&
			redemptions.every(
				(e) =>
					isPlainObject(e) &&
					isCount(e.n, 1) &&
					Number.isFinite(e.at) &&
					(e.contactKey === undefined || typeof e.contactKey === 'string'),
			)
		)
	)
		return false;
	if (
		hold !== undefined &&
		!(isPlainObject(hold) && typeof hold.orderReference === 'string' && Number.isFinite(hold.until))
	)
		return false;
	if (details !== undefined && !isPlainObject(details)) return false;
	// Field by field: the parsed object may carry any key, "__proto__" included.
	if (uses !== undefined) record.uses = uses;
	if (redemptions !== undefined) record.redemptions = redemptions;
	if (hold !== undefined) record.hold = hold;
	if (details !== undefined) record.details = details;
	return true;
}
