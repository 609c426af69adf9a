import { randomFillSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';
import { codeKey } from '../../core/codes/codes';
import { StoreError } from '../../core/common/errors';
import { couponNameKey } from '../../core/common/names';
import { Turns } from '../../core/common/turns';
import { expiryNeeded } from '../../core/common/validity';
import {
	DUPLICATE_EXAMPLES,
	type AssignmentRecord,
	type CouponStore,
	type CouponStoreSession,
	type HeldAssignment,
	type ImportCandidate,
	type ImportOutcome,
	type KeysInPool,
	type PendingAssignment,
	type PoolCounts,
	type PoolInfo,
	type PoolKind,
	type StoredCode,
	type CouponTerms,
	type Details,
	type HoldChange,
	type OfCoupon,
	type RedemptionEntry,
	type UseChange,
	type NewCouponTerms,
	type ListedCode,
	type TransactionOptions,
	type CodeFormat,
} from '../../core/storeContract';
import {
	beginImmediate,
	beginReading,
	describeSqliteError,
	isReadOnlyRefusal,
	type LocalDatabase,
} from '../../transport/sqlite';
import { LOCAL_SCHEMA_VERSION, migrate } from './migrations';

/** Codes counted in one statement: some ten milliseconds of SQLite's time. */
const COUNT_RANGE = 25_000;

/**
 * Commits the write transaction, durably: with `synchronous = FULL` SQLite syncs the WAL inside
 * COMMIT, which after a million rows keeps the event loop for a fifth of a second. A bulk
 * transaction commits without that sync (`synchronous = NORMAL`, set before it began) and then has
 * the WAL synced on a thread of the pool before it is reported done; a later commit's sync, in any
 * process, covers its frames too, as the WAL is read in order.
 */
async function commit(
	connection: DatabaseSync,
	database: LocalDatabase,
	bulk: boolean,
): Promise<void> {
	try {
		connection.exec('COMMIT');
	} catch (error) {
		database.rollBack(connection);
		throw describeSqliteError(error, database.file);
	}
	if (bulk) await database.syncWal();
	database.committed();
}

/**
 * Coupon storage in an SQLite file on this host (node:sqlite): shared by every workflow and
 * execution of this n8n, atomic across executions (they take turns on the connection) and across
 * processes (SQLite's write lock, taken at the start of each transaction that writes). A transaction
 * that only reads takes no lock: it reads a snapshot on a read-only connection of its own.
 */
export class LocalStore implements CouponStore {
	constructor(private readonly database: LocalDatabase) {}

	async transaction<T>(
		work: (session: CouponStoreSession) => Promise<T>,
		{ rollBack = false, readOnly = false, bulk = false }: TransactionOptions = {},
	): Promise<T> {
		return readOnly ? await this.read(work) : await this.write(work, rollBack, bulk);
	}

	/**
	 * Takes the file's write lock at the start (`BEGIN IMMEDIATE`): the work decides on what every
	 * transaction before it stored, in any process, and no other writes until it ends.
	 */
	private async write<T>(
		work: (session: CouponStoreSession) => Promise<T>,
		rollBack: boolean,
		bulk: boolean,
	): Promise<T> {
		const { database } = this;
		const { file } = database;
		return await database.exclusive(async (connection) => {
			try {
				// A bulk transaction's COMMIT does not sync: `commit` syncs the WAL off the event loop.
				connection.exec(`PRAGMA synchronous = ${bulk ? 'NORMAL' : 'FULL'}`);
				await this.migrateOnce(connection);
				await beginImmediate(connection, database);
			} catch (error) {
				throw describeSqliteError(error, file);
			}
			let result: T;
			const session = new LocalSession(connection, file, false);
			try {
				result = await work(session);
			} catch (error) {
				// The work's own errors (a coupon rule, a node error) pass through as they are.
				database.rollBack(connection);
				throw error;
			}
			if (rollBack) {
				database.rollBack(connection);
				return result;
			}
			// COMMIT writes what the cache still holds: tens of milliseconds, a turn of its own.
			await session.turns.pass();
			await commit(connection, database, bulk);
			return result;
		});
	}

	/**
	 * A deferred transaction (`BEGIN`) on a read-only connection, its WAL snapshot taken at the
	 * start: it waits neither for this process's writes nor for another's. The connection cannot
	 * write, so a write in the work fails at once; on a connection that could, it would try to take
	 * the write lock halfway through, waiting for another writer, or failing because its snapshot
	 * is older than the last commit.
	 */
	private async read<T>(work: (session: CouponStoreSession) => Promise<T>): Promise<T> {
		const { database } = this;
		const { file } = database;
		try {
			// A new file is created and migrated by the write connection before anything reads it.
			if (!database.migrated && !existsSync(file)) await this.migrateOnWriter();
		} catch (error) {
			throw describeSqliteError(error, file);
		}
		// `reading` ends the transaction when the work is done: a read keeps nothing.
		return await database.reading(async (connection) => {
			try {
				if (!database.migrated) await this.checkSchemaForReading(connection);
				await beginReading(connection, database);
			} catch (error) {
				throw describeSqliteError(error, file);
			}
			return await work(new LocalSession(connection, file, true));
		});
	}

	/**
	 * A file at this package's schema is only read, without the write lock (`migrate` then just
	 * refuses a newer one); an older one is migrated by the write connection first.
	 */
	private async checkSchemaForReading(reader: DatabaseSync): Promise<void> {
		const { database } = this;
		if (hasCurrentSchema(reader)) await migrate(reader, database);
		else if (database.isReadOnly())
			throw new StoreError(
				`The local coupon file ${database.file} is read-only, and its schema is older than this version of n8n-nodes-coupons reads (version ${LOCAL_SCHEMA_VERSION})`,
				'Let n8n write the file once (the upgrade is applied on first use), or read it with the version of n8n-nodes-coupons that wrote it.',
			);
		else await this.migrateOnWriter();
		database.migrated = true;
	}

	private async migrateOnWriter(): Promise<void> {
		await this.database.exclusive(async (connection) => await this.migrateOnce(connection));
	}

	/** Brings the file's schema up to date, once per process; the write lock only if it must change. */
	private async migrateOnce(connection: DatabaseSync): Promise<void> {
		if (this.database.migrated) return;
		await migrate(connection, this.database);
		this.database.migrated = true;
	}
}

/** Whether the file has this package's schema (or a newer one, which `migrate` refuses). */
function hasCurrentSchema(connection: DatabaseSync): boolean {
	const tracked = connection
		.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'")
		.get();
	return (
		tracked !== undefined &&
		connection
			.prepare('SELECT 1 FROM schema_migrations WHERE version = ?')
			.get(LOCAL_SCHEMA_VERSION) !== undefined
	);
}

interface PoolRow {
	id: number;
	name: string;
	kind: PoolKind;
	code_count: number;
	uses_per_code: number;
	details: string | null;
	code_format: string | null;
}

const POOL_COLUMNS = 'id, name, kind, code_count, uses_per_code, details, code_format';

interface AssignmentRow {
	pool_id: number;
	code_key: string;
	code: string;
	contact_key: string;
	assigned_at: number;
	valid_until: number;
	replaced_at: number | null;
	redeemed_at: number | null;
	order_reference: string | null;
	uses: number | null;
	held_for: string | null;
	held_until: number | null;
	details: string | null;
}

/** The columns `toRecord` reads, qualified by the table alias `c`. */
const ASSIGNMENT_COLUMNS =
	'c.pool_id, c.code_key, c.code, c.contact_key, c.assigned_at, c.valid_until, c.replaced_at, c.redeemed_at, c.order_reference, c.uses, c.held_for, c.held_until, c.details';

/** The coupon columns of a row joined with pools as `p`, read by `termsOf`. */
const TERMS_COLUMNS = 'p.name AS pool_name, p.uses_per_code, p.details AS pool_details';

interface TermsRow {
	pool_name: string;
	uses_per_code: number;
	pool_details: string | null;
}

const termsOf = (row: TermsRow): OfCoupon => ({
	couponName: row.pool_name,
	terms: terms(row.uses_per_code, row.pool_details),
});

/** Details are kept as JSON text; the rules checked them before they were stored. */
const terms = (usesPerCode: number, details: string | null): CouponTerms =>
	details === null ? { usesPerCode } : { usesPerCode, details: JSON.parse(details) as Details };

const detailsText = (details: Details | undefined) =>
	details === undefined ? null : JSON.stringify(details);

interface RedemptionRow {
	pool_id: number;
	code_key: string;
	n: number;
	redeemed_at: number;
	order_reference: string | null;
	undone_at: number | null;
	undo_reason: string | null;
}

/** The record of a row; `history` holds its uses when the row counts them (`uses` is set). */
function toRecord(row: AssignmentRow, history?: Map<string, RedemptionEntry[]>): AssignmentRecord {
	const record: AssignmentRecord = {
		code: row.code,
		contactKey: row.contact_key,
		assignedAt: row.assigned_at,
		validUntil: row.valid_until,
	};
	if (row.replaced_at !== null) record.replacedAt = row.replaced_at;
	if (row.redeemed_at !== null) record.redeemedAt = row.redeemed_at;
	if (row.order_reference !== null) record.orderReference = row.order_reference;
	if (row.uses !== null) {
		record.uses = row.uses;
		record.redemptions = history?.get(historyKey(row.pool_id, row.code_key)) ?? [];
	}
	if (row.held_for !== null && row.held_until !== null)
		record.hold = { orderReference: row.held_for, until: row.held_until };
	if (row.details !== null) record.details = JSON.parse(row.details) as Details;
	return record;
}

const historyKey = (poolId: number, key: string) => `${poolId}\t${key}`;

function toEntry(row: RedemptionRow): RedemptionEntry {
	const entry: RedemptionEntry = { n: row.n, at: row.redeemed_at };
	if (row.order_reference !== null) entry.orderReference = row.order_reference;
	if (row.undone_at !== null) entry.undoneAt = row.undone_at;
	if (row.undo_reason !== null) entry.undoReason = row.undo_reason;
	return entry;
}

function groupByContact<T extends AssignmentRecord>(records: T[]): Map<string, T[]> {
	const found = new Map<string, T[]>();
	for (const record of records) {
		const list = found.get(record.contactKey);
		if (list) list.push(record);
		else found.set(record.contactKey, [record]);
	}
	return found;
}

/** Random ranks in [0, 1) from cryptographic randomness, as many as asked for. */
function randomRanks(count: number): Float64Array {
	const random = randomFillSync(new Uint32Array(count * 2));
	const ranks = new Float64Array(count);
	for (let i = 0; i < count; i++)
		ranks[i] = (random[2 * i] * 2 ** 21 + (random[2 * i + 1] >>> 11)) / 2 ** 53;
	return ranks;
}

/** A list bound as one parameter and read in SQL with json_each. */
const list = (values: string[]) => JSON.stringify(values);

class LocalSession implements CouponStoreSession {
	readonly turns = new Turns();
	private readonly poolIds = new Map<string, number>();
	private readonly statements = new Map<string, StatementSync>();

	constructor(
		private readonly connection: DatabaseSync,
		private readonly file: string,
		/** Whether the session serves a read-only transaction: any write in it is a bug. */
		private readonly readOnly: boolean,
	) {}

	/** A prepared statement, prepared once per session; errors name the file. */
	private statement(sql: string): StatementSync {
		let prepared = this.statements.get(sql);
		if (!prepared) {
			prepared = this.attempt(() => this.connection.prepare(sql));
			this.statements.set(sql, prepared);
		}
		return prepared;
	}

	private attempt<T>(run: () => T): T {
		try {
			return run();
		} catch (error) {
			if (this.readOnly && isReadOnlyRefusal(error))
				throw new Error(
					`A read-only transaction tried to write to the local coupon file ${this.file}: a bug in n8n-nodes-coupons, please report it`,
				);
			throw describeSqliteError(error, this.file);
		}
	}

	private all<R>(sql: string, ...params: SQLInputValue[]): R[] {
		return this.attempt(() => this.statement(sql).all(...params)) as R[];
	}

	private run(sql: string, ...params: SQLInputValue[]): number {
		return Number(this.attempt(() => this.statement(sql).run(...params)).changes);
	}

	private info(row: PoolRow): PoolInfo {
		this.poolIds.set(couponNameKey(row.name), row.id);
		return {
			name: row.name,
			kind: row.kind,
			codeCount: row.code_count,
			...terms(row.uses_per_code, row.details),
			...(row.code_format ? { codeFormat: JSON.parse(row.code_format) as CodeFormat } : {}),
		};
	}

	/** The records of these rows, with the uses of those that count them. */
	private records(rows: AssignmentRow[]): AssignmentRecord[] {
		const counted = rows.filter((row) => row.uses !== null);
		const history = new Map<string, RedemptionEntry[]>();
		if (counted.length > 0) {
			const entries = this.all<RedemptionRow>(
				`SELECT r.* FROM redemptions r
				JOIN json_each(?) AS k ON r.pool_id = k.value ->> 0 AND r.code_key = k.value ->> 1 ORDER BY r.n`,
				JSON.stringify(counted.map((row) => [row.pool_id, row.code_key])),
			);
			for (const entry of entries) {
				const key = historyKey(entry.pool_id, entry.code_key);
				const list = history.get(key);
				if (list) list.push(toEntry(entry));
				else history.set(key, [toEntry(entry)]);
			}
		}
		return rows.map((row) => toRecord(row, history));
	}

	/** The pool's id, found once per session. */
	private async poolId(name: string): Promise<number | undefined> {
		const key = couponNameKey(name);
		if (!this.poolIds.has(key)) await this.findPool(name);
		return this.poolIds.get(key);
	}

	private async requirePoolId(name: string): Promise<number> {
		const id = await this.poolId(name);
		if (id === undefined) throw new Error(`Pool "${name}" does not exist`);
		return id;
	}

	async findPool(name: string): Promise<PoolInfo | undefined> {
		const [row] = this.all<PoolRow>(
			`SELECT ${POOL_COLUMNS} FROM pools WHERE name_key = ?`,
			couponNameKey(name),
		);
		return row && this.info(row);
	}

	async createPool(name: string, kind: PoolKind, terms?: NewCouponTerms): Promise<PoolInfo> {
		const [row] = this.all<PoolRow>(
			`INSERT INTO pools (name, name_key, kind, created_at, uses_per_code, details, code_format) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (name_key) DO NOTHING RETURNING ${POOL_COLUMNS}`,
			name,
			couponNameKey(name),
			kind,
			Date.now(),
			terms?.usesPerCode ?? 1,
			detailsText(terms?.details),
			terms?.codeFormat ? JSON.stringify(terms.codeFormat) : null,
		);
		return row ? this.info(row) : (await this.findPool(name))!;
	}

	async listPools(): Promise<PoolInfo[]> {
		return this.all<PoolRow>(`SELECT ${POOL_COLUMNS} FROM pools ORDER BY name_key`).map((row) =>
			this.info(row),
		);
	}

	async setCouponDetails(name: string, details: Details | undefined): Promise<void> {
		this.run(
			'UPDATE pools SET details = ? WHERE id = ?',
			detailsText(details),
			await this.requirePoolId(name),
		);
	}

	async setCodeFormat(name: string, format: CodeFormat): Promise<void> {
		this.run(
			'UPDATE pools SET code_format = ? WHERE id = ?',
			JSON.stringify(format),
			await this.requirePoolId(name),
		);
	}

	async countPool(name: string, now: number, since: number): Promise<PoolCounts> {
		const poolId = await this.requirePoolId(name);
		// A range of codes at a time, in code-key order, the turn passed between: counting a million
		// codes in one statement would keep the event loop for a third of a second.
		const totals: PoolCounts = {
			available: 0,
			lapsed: 0,
			assigned: 0,
			active: 0,
			expired: 0,
			redeemed: 0,
			replaced: 0,
			assignedSince: 0,
			uses: 0,
			held: 0,
		};
		for (let after = ''; ;) {
			// The last key of this range: the codes from `after` on, COUNT_RANGE of them at most.
			const [last] = this.all<{ code_key: string }>(
				'SELECT code_key FROM codes WHERE pool_id = ? AND code_key > ? ORDER BY code_key LIMIT 1 OFFSET ?',
				poolId,
				after,
				COUNT_RANGE - 1,
			);
			// The classes of assignmentStatus (core/common/validity.ts): replaced, else redeemed, else active or expired.
			const [counts] = this.all<PoolCounts>(
				`SELECT count(*) FILTER (WHERE contact_key IS NULL AND (expires_at IS NULL OR expires_at > ?2)) AS available,
					count(*) FILTER (WHERE contact_key IS NULL AND expires_at <= ?2) AS lapsed,
					count(contact_key) AS assigned,
					count(*) FILTER (WHERE contact_key IS NOT NULL AND replaced_at IS NULL AND redeemed_at IS NULL AND ?2 < valid_until) AS active,
					count(*) FILTER (WHERE contact_key IS NOT NULL AND replaced_at IS NULL AND redeemed_at IS NULL AND ?2 >= valid_until) AS expired,
					count(redeemed_at) FILTER (WHERE replaced_at IS NULL) AS redeemed,
					count(replaced_at) AS replaced,
					count(*) FILTER (WHERE assigned_at >= ?3) AS assignedSince,
					coalesce(sum(coalesce(uses, redeemed_at IS NOT NULL)), 0) AS uses,
					count(*) FILTER (WHERE held_until > ?2) AS held
				FROM codes WHERE pool_id = ?1 AND code_key > ?4 AND (?5 IS NULL OR code_key <= ?5)`,
				poolId,
				now,
				since,
				after,
				last?.code_key ?? null,
			);
			for (const field of Object.keys(totals) as Array<keyof PoolCounts>)
				totals[field] += counts[field];
			if (!last) return totals;
			after = last.code_key;
			if (this.turns.due()) await this.turns.pass();
		}
	}

	async assignmentsOf(
		name: string,
		contactKeys: string[],
	): Promise<Map<string, AssignmentRecord[]>> {
		const poolId = await this.poolId(name);
		if (poolId === undefined || contactKeys.length === 0) return new Map();
		// The transaction holds the file's write lock: no other run can decide for these contacts now.
		const rows = this.all<AssignmentRow>(
			`SELECT ${ASSIGNMENT_COLUMNS} FROM codes c
			WHERE c.pool_id = ? AND c.contact_key IN (SELECT value FROM json_each(?)) AND c.contact_key IS NOT NULL
			ORDER BY c.assigned_at, c.code_key`,
			poolId,
			list(contactKeys),
		);
		return groupByContact(this.records(rows));
	}

	async assignmentsOfContacts(contactKeys: string[]): Promise<Map<string, HeldAssignment[]>> {
		if (contactKeys.length === 0) return new Map();
		const rows = this.all<AssignmentRow & TermsRow>(
			`SELECT ${TERMS_COLUMNS}, ${ASSIGNMENT_COLUMNS} FROM pools p
			JOIN codes c ON c.pool_id = p.id AND c.contact_key IN (SELECT value FROM json_each(?)) AND c.contact_key IS NOT NULL`,
			list(contactKeys),
		);
		const records = this.records(rows);
		return groupByContact(rows.map((row, i) => ({ ...records[i], ...termsOf(row) })));
	}

	async markReplaced(name: string, codes: string[], at: number): Promise<void> {
		if (codes.length === 0) return;
		this.run(
			`UPDATE codes SET replaced_at = ?
			WHERE pool_id = ? AND code_key IN (SELECT value FROM json_each(?))
				AND contact_key IS NOT NULL AND replaced_at IS NULL AND redeemed_at IS NULL`,
			at,
			await this.requirePoolId(name),
			list(codes.map(codeKey)),
		);
	}

	async findCodes(keys: string[]): Promise<StoredCode[]> {
		if (keys.length === 0) return [];
		// Nothing to lock: a transaction that writes holds the file's write lock already.
		const rows = this.all<AssignmentRow & TermsRow>(
			// Pool by pool and key by key through the primary key: with the keys as a list beside the
			// join, SQLite read every code of the file (over 100 ms for a million).
			`SELECT ${TERMS_COLUMNS}, ${ASSIGNMENT_COLUMNS}
			FROM pools p CROSS JOIN (SELECT DISTINCT value AS code_key FROM json_each(?)) AS k
			JOIN codes c ON c.pool_id = p.id AND c.code_key = k.code_key
			ORDER BY c.pool_id, c.code_key`,
			list(keys),
		);
		const records = this.records(rows.filter((row) => row.contact_key !== null));
		let next = 0;
		return rows.map((row) => ({
			...termsOf(row),
			code: row.code,
			key: row.code_key,
			...(row.contact_key === null ? {} : { assignment: records[next++] }),
		}));
	}

	async listCodes(
		name: string,
		afterKey: string | undefined,
		limit: number,
	): Promise<ListedCode[]> {
		// The primary key (pool, code key) serves the order and the start: each page is a range scan.
		const rows = this.all<AssignmentRow & { expires_at: number | null }>(
			`SELECT c.pool_id, c.code_key, c.code, c.contact_key, c.assigned_at, c.valid_until, c.replaced_at, c.redeemed_at, c.order_reference, c.uses, c.held_for, c.held_until, c.details, c.expires_at
			FROM codes c WHERE c.pool_id = ? AND c.code_key > ? ORDER BY c.code_key LIMIT ?`,
			await this.requirePoolId(name),
			afterKey ?? '',
			limit,
		);
		return rows.map((row) => {
			const listed: ListedCode = { code: row.code, key: row.code_key };
			if (row.details !== null) listed.details = JSON.parse(row.details) as Details;
			if (row.expires_at !== null && row.contact_key === null) listed.expiresAt = row.expires_at;
			if (row.contact_key !== null) {
				const { redemptions: _, ...assignment } = toRecord(row);
				listed.assignment = assignment;
			}
			return listed;
		});
	}

	async writeUses(name: string, changes: UseChange[]): Promise<void> {
		const poolId = await this.requirePoolId(name);
		for (const { code, entries, uses, redeemedAt, orderReference } of changes) {
			const key = codeKey(code);
			for (const entry of entries)
				// A use undone updates its entry; a use taken adds one.
				this.run(
					`INSERT INTO redemptions (pool_id, code_key, n, redeemed_at, order_reference, undone_at, undo_reason)
					VALUES (?, ?, ?, ?, ?, ?, ?)
					ON CONFLICT (pool_id, code_key, n) DO UPDATE SET undone_at = excluded.undone_at, undo_reason = excluded.undo_reason`,
					poolId,
					key,
					entry.n,
					entry.at,
					entry.orderReference ?? null,
					entry.undoneAt ?? null,
					entry.undoReason ?? null,
				);
			const changed = this.run(
				`UPDATE codes SET uses = ?, redeemed_at = ?, order_reference = ?
				WHERE pool_id = ? AND code_key = ? AND contact_key IS NOT NULL`,
				uses,
				redeemedAt ?? null,
				orderReference ?? null,
				poolId,
				key,
			);
			// The rules found these codes assigned in this transaction: anything else rolls back.
			if (changed !== 1)
				throw new Error(`Code ${code} of pool "${name}" cannot take a use: it is not assigned`);
		}
	}

	async writeHolds(name: string, changes: HoldChange[]): Promise<void> {
		const poolId = await this.requirePoolId(name);
		for (const { code, hold } of changes) {
			const changed = this.run(
				'UPDATE codes SET held_for = ?, held_until = ? WHERE pool_id = ? AND code_key = ? AND contact_key IS NOT NULL',
				hold?.orderReference ?? null,
				hold?.until ?? null,
				poolId,
				codeKey(code),
			);
			if (changed !== 1)
				throw new Error(`Code ${code} of pool "${name}" cannot be held: it is not assigned`);
		}
	}

	async assignImported(
		name: string,
		pending: PendingAssignment[],
		shortenToExpiry = false,
	): Promise<AssignmentRecord[]> {
		const poolId = await this.requirePoolId(name);
		if (pending.length === 0) return [];
		const needed = expiryNeeded(pending, shortenToExpiry);
		const free = this.all<{
			code_key: string;
			code: string;
			details: string | null;
			expires_at: number | null;
		}>(
			`SELECT code_key, code, details, expires_at FROM codes
			WHERE pool_id = ? AND contact_key IS NULL AND (expires_at IS NULL OR expires_at >= ?) ORDER BY rank LIMIT ?`,
			poolId,
			needed,
			pending.length,
		);
		const assigned: AssignmentRecord[] = [];
		for (const [i, { code_key, code, details, expires_at }] of free.entries()) {
			const { contactKey, assignedAt } = pending[i];
			const validUntil =
				expires_at !== null && expires_at < pending[i].validUntil
					? expires_at
					: pending[i].validUntil;
			const taken = this.run(
				'UPDATE codes SET contact_key = ?, assigned_at = ?, valid_until = ? WHERE pool_id = ? AND code_key = ? AND contact_key IS NULL',
				contactKey,
				assignedAt,
				validUntil,
				poolId,
				code_key,
			);
			// The transaction holds the write lock: a code found free is free. Anything else rolls back.
			if (taken !== 1)
				throw new Error(`Code ${code} of pool "${name}" was taken under the write lock`);
			assigned.push({
				code,
				contactKey,
				assignedAt,
				validUntil,
				...(details === null ? {} : { details: JSON.parse(details) as Details }),
			});
			if (this.turns.due()) await this.turns.pass();
		}
		return assigned;
	}

	async insertGenerated(name: string, candidates: AssignmentRecord[]): Promise<AssignmentRecord[]> {
		const poolId = await this.requirePoolId(name);
		const inserted: AssignmentRecord[] = [];
		for (const candidate of candidates) {
			// A generated code is assigned as it is made: its rank, read only for unused codes, is moot.
			const added = this.run(
				`INSERT INTO codes (pool_id, code_key, code, rank, contact_key, assigned_at, valid_until)
				VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (pool_id, code_key) DO NOTHING`,
				poolId,
				codeKey(candidate.code),
				candidate.code,
				0,
				candidate.contactKey,
				candidate.assignedAt,
				candidate.validUntil,
			);
			if (added === 1) inserted.push({ ...candidate });
			if (this.turns.due()) await this.turns.pass();
		}
		this.run('UPDATE pools SET code_count = code_count + ? WHERE id = ?', inserted.length, poolId);
		return inserted;
	}

	async keysInPool(name: string, keys: string[], now: number): Promise<KeysInPool> {
		// The transaction holds the file's write lock: no import can change the pool meanwhile.
		const [counted] = this.all<KeysInPool>(
			`SELECT count(*) AS known,
				count(*) FILTER (WHERE contact_key IS NULL) AS unused,
				count(*) FILTER (WHERE contact_key IS NULL AND (expires_at IS NULL OR expires_at > ?)) AS available
			FROM codes WHERE pool_id = ? AND code_key IN (SELECT value FROM json_each(?))`,
			now,
			await this.requirePoolId(name),
			list(keys),
		);
		return { ...counted };
	}

	async withdrawUnused(name: string, keepKeys: string[]): Promise<number> {
		const poolId = await this.requirePoolId(name);
		const withdrawn = this.run(
			`DELETE FROM codes WHERE pool_id = ? AND contact_key IS NULL
			AND code_key NOT IN (SELECT value FROM json_each(?))`,
			poolId,
			list(keepKeys),
		);
		if (withdrawn > 0)
			this.run('UPDATE pools SET code_count = code_count - ? WHERE id = ?', withdrawn, poolId);
		return withdrawn;
	}

	async deletePool(name: string): Promise<{ codes: number; assigned: number }> {
		const poolId = await this.requirePoolId(name);
		// The transaction holds the file's write lock: nobody assigns a code meanwhile.
		const [removed] = this.all<{ codes: number; assigned: number }>(
			'SELECT count(*) AS codes, count(contact_key) AS assigned FROM codes WHERE pool_id = ?',
			poolId,
		);
		this.run('DELETE FROM redemptions WHERE pool_id = ?', poolId);
		this.run('DELETE FROM codes WHERE pool_id = ?', poolId);
		this.run('DELETE FROM pools WHERE id = ?', poolId);
		this.poolIds.delete(couponNameKey(name));
		return { ...removed };
	}

	async addImported(name: string, candidates: ImportCandidate[]): Promise<ImportOutcome> {
		const poolId = await this.requirePoolId(name);
		const ranks = randomRanks(candidates.length);
		const duplicateRows: ImportCandidate[] = [];
		for (const [i, candidate] of candidates.entries()) {
			const added = this.run(
				'INSERT INTO codes (pool_id, code_key, code, rank, details, expires_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (pool_id, code_key) DO NOTHING',
				poolId,
				candidate.key,
				candidate.code,
				ranks[i],
				detailsText(candidate.details),
				candidate.expiresAt ?? null,
			);
			if (added === 0) duplicateRows.push(candidate);
			if (this.turns.due()) await this.turns.pass();
		}
		const added = candidates.length - duplicateRows.length;
		// A pool that was empty holds only the codes just added, all unused: no need to count them.
		const [counts] = this.all<{ code_count: number; available: number }>(
			`UPDATE pools SET code_count = code_count + ?1 WHERE id = ?2
			RETURNING code_count, CASE WHEN code_count = ?1 THEN ?1
				ELSE (SELECT count(*) FROM codes WHERE pool_id = pools.id AND contact_key IS NULL) END AS available`,
			added,
			poolId,
		);
		return {
			added,
			duplicates: duplicateRows.length,
			duplicateExamples: duplicateRows
				.sort((a, b) => a.row - b.row)
				.slice(0, DUPLICATE_EXAMPLES)
				.map((candidate) => ({ ...candidate })),
			codeCount: counts.code_count,
			available: counts.available,
		};
	}
}
