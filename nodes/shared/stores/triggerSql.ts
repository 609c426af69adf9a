import type {
	AssignmentRecord,
	EventRead,
	EventStream,
	StoredEvent,
	UseScope,
} from '../core/storeContract';
import {
	ASSIGNMENT_COLUMNS,
	TERMS_COLUMNS,
	type AssignmentRow,
	type SqlRows,
	type TermsRow,
} from './sqlRows';

// What the Coupon Trigger asks of both SQL stores: its reads (CouponStoreSession.readEvents), one
// query per stream written once, and its cursors. Each read takes a range of an index on the
// stream's time column (the "event indexes" migration of each store), then orders the few rows of
// one time by their keys.

/** How a driver takes parameters: its placeholders, its times and a list of name keys. */
export interface EventDialect {
	/** The placeholder of the i-th parameter, from 1. */
	param(index: number): string;
	/** A time as the driver binds it. */
	time(ms: number): unknown;
	/** The SQL that tests `column` against a list bound as the parameter `placeholder`. */
	inList(column: string, placeholder: string): string;
	/** A list of name keys as the driver binds it. */
	list(keys: string[]): unknown;
	/** A key column compared by its bytes, the order every store reads keys in. */
	byBytes(column: string): string;
	/** The three tables, qualified by their schema where the store has one. */
	pools: string;
	codes: string;
	redemptions: string;
}

/** The columns a stream reads its time and use number from, and what else an event needs. */
interface StreamSql {
	time: string;
	n: string;
	/** Whether the stream reads uses (the redemptions table as `r`). */
	ofUses: boolean;
	/** More conditions, with the names of the EventRead fields they bind. */
	where: string;
	binds: Array<'activeAt' | 'validUntilAtMost' | 'assignedAtMost'>;
}

// A code with an end is assigned (the tables' checks): naming contact_key here would let a planner
// choose the index of contacts (codes_by_contact), with every assigned code behind it. The time
// index's own condition (valid_until or assigned_at IS NOT NULL) follows from the range.
const ACTIVE = 'c.replaced_at IS NULL AND c.redeemed_at IS NULL AND c.valid_until > {activeAt}';

const STREAMS: Record<EventStream, StreamSql> = {
	redeemed: { time: 'r.redeemed_at', n: 'r.n', ofUses: true, where: '', binds: [] },
	undone: { time: 'r.undone_at', n: 'r.n', ofUses: true, where: '', binds: [] },
	holdLapsed: {
		time: 'c.held_until',
		n: '0',
		ofUses: false,
		where: 'c.held_for IS NOT NULL',
		binds: [],
	},
	expiring: {
		time: 'c.valid_until',
		n: '0',
		ofUses: false,
		where: `${ACTIVE} AND c.assigned_at <= {assignedAtMost}`,
		binds: ['activeAt', 'assignedAtMost'],
	},
	assignedExpiring: {
		time: 'c.assigned_at',
		n: '0',
		ofUses: false,
		where: `${ACTIVE} AND c.valid_until <= {validUntilAtMost}`,
		binds: ['activeAt', 'validUntilAtMost'],
	},
};

export type EventRow<Id, Time, Json> = AssignmentRow<Id, Time, Json> &
	TermsRow<Json> & { pool_key: string; event_at: Time; event_n: number | string };

/** The statement and parameters of one read of a stream. */
export function eventQuery(
	read: EventRead,
	dialect: EventDialect,
): { sql: string; params: unknown[] } {
	const stream = STREAMS[read.stream];
	const params: unknown[] = [];
	const bind = (value: unknown) => {
		params.push(value);
		return dialect.param(params.length);
	};
	const { after } = read;
	const keys = `${dialect.byBytes('p.name_key')}, ${dialect.byBytes('c.code_key')}, ${stream.n}`;
	const afterAt = bind(dialect.time(after.at));
	const conditions = [
		`${stream.time} >= ${afterAt}`,
		`${stream.time} <= ${bind(dialect.time(read.upTo))}`,
		`(${stream.time} > ${afterAt} OR (${keys}) > (${bind(after.couponKey)}, ${bind(after.codeKey)}, ${bind(after.n)}))`,
	];
	if (read.couponKeys)
		conditions.push(dialect.inList('p.name_key', bind(dialect.list(read.couponKeys))));
	if (stream.where) {
		let where = stream.where;
		for (const name of stream.binds) {
			const value = read[name];
			if (value === undefined) throw new Error(`Stream ${read.stream} reads ${name}`);
			const placeholder = bind(dialect.time(value));
			where = where.replace(`{${name}}`, () => placeholder);
		}
		conditions.push(where);
	}
	const uses = stream.ofUses
		? `JOIN ${dialect.redemptions} r ON r.pool_id = c.pool_id AND r.code_key = c.code_key`
		: '';
	const sql = `SELECT ${TERMS_COLUMNS}, p.name_key AS pool_key, ${ASSIGNMENT_COLUMNS},
		${stream.time} AS event_at, ${stream.n} AS event_n
		FROM ${dialect.codes} c JOIN ${dialect.pools} p ON p.id = c.pool_id ${uses}
		WHERE ${conditions.join(' AND ')}
		ORDER BY ${stream.time}, ${dialect.byBytes('p.name_key')}, ${dialect.byBytes('c.code_key')}${stream.ofUses ? `, ${stream.n}` : ''}
		LIMIT ${bind(read.limit)}`;
	return { sql, params };
}

/** The events of a read's rows; `records` are the rows' records, in order. */
/** The uses a page of events is: of a shared code, only these are read of its history. */
export const eventUses = (rows: Array<{ event_n: number | string }>): UseScope => ({
	numbers: [...new Set(rows.map((row) => Number(row.event_n)).filter((n) => n > 0))],
});

export function storedEvents<Id, Time, Json>(
	rows: Array<EventRow<Id, Time, Json>>,
	records: AssignmentRecord[],
	sqlRows: SqlRows<Id, Time, Json>,
	ms: (time: Time) => number,
): StoredEvent[] {
	return rows.map((row, i) => ({
		...sqlRows.termsOf(row),
		position: {
			at: ms(row.event_at),
			couponKey: row.pool_key,
			codeKey: row.code_key,
			n: Number(row.event_n),
		},
		assignment: records[i],
	}));
}

/** The Local file's dialect. */
export const SQLITE_EVENTS: EventDialect = {
	param: (index) => `?${index}`,
	time: (ms) => ms,
	// The unary + keeps SQLite from starting at the pools: it reads the stream's time index instead.
	inList: (column, placeholder) => `+${column} IN (SELECT value FROM json_each(${placeholder}))`,
	list: (keys) => JSON.stringify(keys),
	byBytes: (column) => column,
	pools: 'pools',
	codes: 'codes',
	redemptions: 'redemptions',
};

/** PostgreSQL's dialect, for tables in `schema` (quoted). */
export const postgresEvents = (schema: string): EventDialect => ({
	param: (index) => `$${index}`,
	time: (ms) => new Date(ms).toISOString(),
	inList: (column, placeholder) => `${column} = ANY(${placeholder}::text[])`,
	list: (keys) => keys,
	// Keys in byte order, as the Local file compares them.
	byBytes: (column) => `${column} COLLATE "C"`,
	pools: `${schema}.pools`,
	codes: `${schema}.codes`,
	redemptions: `${schema}.redemptions`,
});

/**
 * The statements of the trigger cursors: read (key); insert (key, cursor, time), which inserts
 * nothing when the key has one; replace (key, cursor, time, the cursor expected), which replaces
 * nothing when another is kept. `json` is how the dialect compares a cursor bound as JSON text.
 */
const cursorStatements = (
	table: string,
	param: (index: number) => string,
	json: (placeholder: string) => string,
) => ({
	read: `SELECT cursor FROM ${table} WHERE trigger_key = ${param(1)}`,
	insert: `INSERT INTO ${table} (trigger_key, cursor, updated_at) VALUES (${param(1)}, ${param(2)}, ${param(3)})
		ON CONFLICT (trigger_key) DO NOTHING`,
	replace: `UPDATE ${table} SET cursor = ${param(2)}, updated_at = ${param(3)}
		WHERE trigger_key = ${param(1)} AND cursor = ${json(param(4))}`,
});

export const SQLITE_CURSORS = cursorStatements('trigger_cursors', SQLITE_EVENTS.param, (p) => p);
export const postgresCursors = (schema: string) =>
	cursorStatements(`${schema}.trigger_cursors`, postgresEvents(schema).param, (p) => `${p}::jsonb`);
