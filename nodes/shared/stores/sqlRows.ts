import { couponNameKey } from '../core/common/names';
import type {
	AssignmentRecord,
	CodeFormat,
	CouponTerms,
	Details,
	ImportCandidate,
	ImportOutcome,
	ListedCode,
	OfCoupon,
	PoolInfo,
	PoolKind,
	RedemptionEntry,
	StoredCode,
} from '../core/storeContract';
import { SHARED_HOLDER } from '../core/storeContract';

// The rows the two SQL stores (PostgreSQL and the Local file) read, and the records they make of
// them: one table layout, so one mapping. Only how the driver hands back times and JSON differs.

/**
 * How a driver hands back a time and a JSON column: PostgreSQL (pg) as a Date and parsed JSON,
 * SQLite as milliseconds and text. Details and code formats were checked before they were stored.
 */
export interface SqlValues<Time, Json> {
	ms(time: Time): number;
	parsed(json: Json): unknown;
}

export const POOL_COLUMNS =
	'id, name, kind, code_count, uses_per_code, uses_per_customer, details, code_format';

export interface PoolRow<Id, Count, Json> {
	id: Id;
	name: string;
	kind: PoolKind;
	code_count: Count;
	uses_per_code: number;
	uses_per_customer: number | null;
	details: Json | null;
	code_format: Json | null;
}

/** The columns `record` reads, qualified by the table alias `c`. */
export const ASSIGNMENT_COLUMNS =
	'c.pool_id, c.code_key, c.code, c.contact_key, c.assigned_at, c.valid_until, c.replaced_at, c.redeemed_at, c.order_reference, c.uses, c.held_for, c.held_until, c.details';

export interface AssignmentRow<Id, Time, Json> {
	pool_id: Id;
	code_key: string;
	code: string;
	contact_key: string;
	assigned_at: Time;
	valid_until: Time;
	replaced_at: Time | null;
	redeemed_at: Time | null;
	order_reference: string | null;
	uses: number | null;
	held_for: string | null;
	held_until: Time | null;
	details: Json | null;
}

/** A code as Export Codes lists it: unused (no contact) or assigned, with an unused code's expiry. */
export const LISTED_COLUMNS = `${ASSIGNMENT_COLUMNS}, c.expires_at`;

export type ListedRow<Id, Time, Json> = Omit<AssignmentRow<Id, Time, Json>, 'contact_key'> & {
	contact_key: string | null;
	expires_at: Time | null;
};

/** The coupon columns of a row joined with pools as `p`, read by `termsOf`. */
export const TERMS_COLUMNS =
	'p.name AS pool_name, p.uses_per_code, p.uses_per_customer, p.details AS pool_details';

export interface TermsRow<Json> {
	pool_name: string;
	uses_per_code: number;
	uses_per_customer: number | null;
	pool_details: Json | null;
}

export interface RedemptionRow<Id, Time> {
	pool_id: Id;
	code_key: string;
	n: number;
	redeemed_at: Time;
	order_reference: string | null;
	undone_at: Time | null;
	undo_reason: string | null;
	contact_key: string | null;
}

/** Records and terms made from one driver's rows. */
export class SqlRows<Id, Time, Json> {
	constructor(private readonly values: SqlValues<Time, Json>) {}

	terms(
		row: Pick<TermsRow<Json>, 'uses_per_code' | 'uses_per_customer'>,
		details: Json | null,
	): CouponTerms {
		const terms: CouponTerms = { usesPerCode: row.uses_per_code };
		if (row.uses_per_customer !== null) terms.usesPerCustomer = row.uses_per_customer;
		if (details !== null) terms.details = this.values.parsed(details) as Details;
		return terms;
	}

	termsOf(row: TermsRow<Json>): OfCoupon {
		return { couponName: row.pool_name, terms: this.terms(row, row.pool_details) };
	}

	/** The pool of a row, with the number of codes it holds now. */
	poolInfo(row: PoolRow<Id, unknown, Json>, codeCount: number): PoolInfo {
		return {
			name: row.name,
			kind: row.kind,
			codeCount,
			...this.terms(row, row.details),
			...(row.code_format === null
				? {}
				: { codeFormat: this.values.parsed(row.code_format) as CodeFormat }),
		};
	}

	/** The record of a row; `history` holds its uses when the row counts them (`uses` is set). */
	record(
		row: AssignmentRow<Id, Time, Json>,
		history?: Map<string, RedemptionEntry[]>,
	): AssignmentRecord {
		const { ms } = this.values;
		const record: AssignmentRecord = {
			code: row.code,
			contactKey: row.contact_key,
			assignedAt: ms(row.assigned_at),
			validUntil: ms(row.valid_until),
		};
		if (row.replaced_at !== null) record.replacedAt = ms(row.replaced_at);
		if (row.redeemed_at !== null) record.redeemedAt = ms(row.redeemed_at);
		if (row.order_reference !== null) record.orderReference = row.order_reference;
		if (row.uses !== null) {
			record.uses = row.uses;
			record.redemptions = history?.get(historyKey(row.pool_id, row.code_key)) ?? [];
		}
		if (row.held_for !== null && row.held_until !== null)
			record.hold = { orderReference: row.held_for, until: ms(row.held_until) };
		if (row.details !== null) record.details = this.values.parsed(row.details) as Details;
		return record;
	}

	/** A listed code; an assigned one carries its assignment without the history of its uses. */
	listed(row: ListedRow<Id, Time, Json>): ListedCode {
		const listed: ListedCode = { code: row.code, key: row.code_key };
		if (row.details !== null) listed.details = this.values.parsed(row.details) as Details;
		if (row.contact_key === null) {
			if (row.expires_at !== null) listed.expiresAt = this.values.ms(row.expires_at);
		} else {
			const { redemptions: _, ...assignment } = this.record(row as AssignmentRow<Id, Time, Json>);
			listed.assignment = assignment;
		}
		return listed;
	}

	/** Codes found with their coupon's terms; `records` are those of the assigned rows, in order. */
	storedCodes(
		rows: Array<ListedRow<Id, Time, Json> & TermsRow<Json>>,
		records: AssignmentRecord[],
	): StoredCode[] {
		let next = 0;
		return rows.map((row) => ({
			...this.termsOf(row),
			code: row.code,
			key: row.code_key,
			...(row.contact_key === null ? {} : { assignment: records[next++] }),
		}));
	}

	/** The uses of each code, in the order of `rows`, keyed for `record`. */
	history(rows: Array<RedemptionRow<Id, Time>>): Map<string, RedemptionEntry[]> {
		const history = new Map<string, RedemptionEntry[]>();
		for (const row of rows) {
			const key = historyKey(row.pool_id, row.code_key);
			const list = history.get(key);
			if (list) list.push(this.entry(row));
			else history.set(key, [this.entry(row)]);
		}
		return history;
	}

	private entry(row: RedemptionRow<Id, Time>): RedemptionEntry {
		const { ms } = this.values;
		const entry: RedemptionEntry = { n: row.n, at: ms(row.redeemed_at) };
		if (row.order_reference !== null) entry.orderReference = row.order_reference;
		if (row.undone_at !== null) entry.undoneAt = ms(row.undone_at);
		if (row.undo_reason !== null) entry.undoReason = row.undo_reason;
		if (row.contact_key !== null) entry.contactKey = row.contact_key;
		return entry;
	}
}

const historyKey = (poolId: unknown, codeKey: string) => `${String(poolId)}\t${codeKey}`;

/** Codes whose histories are read in one statement. */
export interface CountedCodes<Id> {
	poolIds: Id[];
	codeKeys: string[];
}

/**
 * The codes of these rows whose uses are counted, each once (a page of events may hold one code
 * many times: its history is read once): `whole`, whose every use is read, and `shared` (held by
 * SHARED_HOLDER), whose history may be long and is read as far as a `UseScope` asks.
 */
export function countedCodes<Id>(rows: Array<AssignmentRow<Id, unknown, unknown>>): {
	whole: CountedCodes<Id>;
	shared: CountedCodes<Id>;
} {
	const seen = new Set<string>();
	const whole: CountedCodes<Id> = { poolIds: [], codeKeys: [] };
	const shared: CountedCodes<Id> = { poolIds: [], codeKeys: [] };
	for (const row of rows) {
		const key = historyKey(row.pool_id, row.code_key);
		if (row.uses === null || seen.has(key)) continue;
		seen.add(key);
		const codes = row.contact_key === SHARED_HOLDER ? shared : whole;
		codes.poolIds.push(row.pool_id);
		codes.codeKeys.push(row.code_key);
	}
	return { whole, shared };
}

/** What adding codes came to, with the pool's counts as the driver handed them back. */
export const importOutcome = (
	added: number,
	duplicates: number,
	duplicateExamples: ImportCandidate[],
	counts: { code_count: number | string; available: number | string },
): ImportOutcome => ({
	added,
	duplicates,
	duplicateExamples,
	codeCount: Number(counts.code_count),
	available: Number(counts.available),
});

/** Records grouped by their contact, in their order. */
export function groupByContact<T extends AssignmentRecord>(records: T[]): Map<string, T[]> {
	const found = new Map<string, T[]>();
	for (const record of records) {
		const list = found.get(record.contactKey);
		if (list) list.push(record);
		else found.set(record.contactKey, [record]);
	}
	return found;
}

/** The ids of the pools a session has looked up, by name key: each is looked up once a session. */
export class PoolIds<Id> {
	private readonly ids = new Map<string, Id>();

	/** `lookUp` finds a pool by name; the session calls `remember` for each pool it reads. */
	constructor(private readonly lookUp: (name: string) => Promise<unknown>) {}

	remember(name: string, id: Id): void {
		this.ids.set(couponNameKey(name), id);
	}

	forget(name: string): void {
		this.ids.delete(couponNameKey(name));
	}

	async of(name: string): Promise<Id | undefined> {
		const key = couponNameKey(name);
		if (!this.ids.has(key)) await this.lookUp(name);
		return this.ids.get(key);
	}

	/** The id of a pool the rules found before they asked for it. */
	async required(name: string): Promise<Id> {
		const id = await this.of(name);
		if (id === undefined) throw new Error(`Pool "${name}" does not exist`);
		return id;
	}
}
