import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';
import { codeKey } from '../../core/codes/codes';
import { couponNameKey } from '../../core/common/names';
import { Turns } from '../../core/common/turns';
import { expiryNeeded } from '../../core/common/validity';
import {
	DUPLICATE_EXAMPLES,
	type AssignmentRecord,
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
	type Details,
	type HoldChange,
	type UseChange,
	type NewCouponTerms,
	type ListedCode,
	type CodeFormat,
	type StagedList,
	type TriggerEvents,
	type UseScope,
} from '../../core/storeContract';
import { LocalEvents } from './LocalEvents';
import { codesList, SCOPED_USES, sqlRows, WHOLE_USES } from './rows';
import {
	ASSIGNMENT_COLUMNS,
	countedCodes,
	importOutcome,
	groupByContact,
	POOL_COLUMNS,
	PoolIds,
	LISTED_COLUMNS,
	TERMS_COLUMNS,
	type AssignmentRow as SqlAssignmentRow,
	type ListedRow as SqlListedRow,
	type PoolRow as SqlPoolRow,
	type RedemptionRow as SqlRedemptionRow,
	type TermsRow as SqlTermsRow,
} from '../sqlRows';
import { randomRanks } from './ranks';
import { describeSqliteError, isReadOnlyRefusal } from '../../transport/sqlite';

/** Codes counted in one statement: some ten milliseconds of SQLite's time. */
const COUNT_RANGE = 25_000;

type PoolRow = SqlPoolRow<number, number, string>;
type AssignmentRow = SqlAssignmentRow<number, number, string>;
type TermsRow = SqlTermsRow<string>;
type ListedRow = SqlListedRow<number, number, string>;
type RedemptionRow = SqlRedemptionRow<number, number>;

const detailsText = (details: Details | undefined) =>
	details === undefined ? null : JSON.stringify(details);

/** Staged rows published per statement. */
const STAGED_WINDOW = 20_000;

/** A list bound as one parameter and read in SQL with json_each. */
const list = (values: string[]) => JSON.stringify(values);

export class LocalSession implements CouponStoreSession {
	readonly turns = new Turns();
	readonly events: TriggerEvents = new LocalEvents({
		all: (sql, ...params) => this.all(sql, ...params),
		run: (sql, ...params) => this.run(sql, ...params),
		records: (rows, scope) => this.records(rows, scope),
	});
	private readonly poolIds = new PoolIds<number>(async (name) => await this.findPool(name));
	private readonly statements = new Map<string, StatementSync>();

	constructor(
		private readonly connection: DatabaseSync,
		private readonly file: string,
		/** Whether the session serves a read-only transaction: any write in it is a bug. */
		private readonly readOnly: boolean,
		/** The staging area's table of staged codes, in a transaction of a staging area (LocalStaging). */
		private readonly staged?: string,
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
		this.poolIds.remember(row.name, row.id);
		return sqlRows.poolInfo(row, row.code_count);
	}

	/**
	 * The records of these rows, with the uses of those that count them: every use, or of a shared
	 * code those `scope` asks for and the newest.
	 */
	private records(rows: AssignmentRow[], scope: UseScope = {}): AssignmentRecord[] {
		const { whole, shared } = countedCodes(rows);
		const entries: RedemptionRow[] = [];
		if (whole.codeKeys.length > 0)
			entries.push(...this.all<RedemptionRow>(WHOLE_USES, codesList(whole)));
		if (shared.codeKeys.length > 0)
			entries.push(
				...this.all<RedemptionRow>(
					SCOPED_USES,
					codesList(shared),
					list(scope.contactKeys ?? []),
					list(scope.orderReferences ?? []),
					JSON.stringify(scope.numbers ?? []),
				),
			);
		const history = sqlRows.history(entries);
		return rows.map((row) => sqlRows.record(row, history));
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
			`INSERT INTO pools (name, name_key, kind, created_at, uses_per_code, uses_per_customer, details, code_format) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (name_key) DO NOTHING RETURNING ${POOL_COLUMNS}`,
			name,
			couponNameKey(name),
			kind,
			Date.now(),
			terms?.usesPerCode ?? 1,
			terms?.usesPerCustomer ?? null,
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
			await this.poolIds.required(name),
		);
	}

	async setCodeFormat(name: string, format: CodeFormat): Promise<void> {
		this.run(
			'UPDATE pools SET code_format = ? WHERE id = ?',
			JSON.stringify(format),
			await this.poolIds.required(name),
		);
	}

	async countPool(name: string, now: number, since: number): Promise<PoolCounts> {
		const poolId = await this.poolIds.required(name);
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
		const poolId = await this.poolIds.of(name);
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
		return groupByContact(rows.map((row, i) => ({ ...records[i], ...sqlRows.termsOf(row) })));
	}

	async markReplaced(name: string, codes: string[], at: number): Promise<void> {
		if (codes.length === 0) return;
		this.run(
			`UPDATE codes SET replaced_at = ?
			WHERE pool_id = ? AND code_key IN (SELECT value FROM json_each(?))
				AND contact_key IS NOT NULL AND replaced_at IS NULL AND redeemed_at IS NULL`,
			at,
			await this.poolIds.required(name),
			list(codes.map(codeKey)),
		);
	}

	async findCodes(keys: string[], _forUpdate: boolean, scope?: UseScope): Promise<StoredCode[]> {
		if (keys.length === 0) return [];
		// Nothing to lock: a transaction that writes holds the file's write lock already.
		const rows = this.all<ListedRow & TermsRow>(
			// Pool by pool and key by key through the primary key: with the keys as a list beside the
			// join, SQLite read every code of the file (over 100 ms for a million).
			`SELECT ${TERMS_COLUMNS}, ${ASSIGNMENT_COLUMNS}
			FROM pools p CROSS JOIN (SELECT DISTINCT value AS code_key FROM json_each(?)) AS k
			JOIN codes c ON c.pool_id = p.id AND c.code_key = k.code_key
			ORDER BY c.pool_id, c.code_key`,
			list(keys),
		);
		const assigned = rows.filter((row) => row.contact_key !== null) as AssignmentRow[];
		// The checkout writes to these pools next: their ids are known now, not looked up again.
		for (const row of rows) this.poolIds.remember(row.pool_name, row.pool_id);
		return sqlRows.storedCodes(rows, this.records(assigned, scope));
	}

	async *listCodes(name: string, pageSize: number): AsyncGenerator<ListedCode[]> {
		const poolId = await this.poolIds.required(name);
		// The primary key (pool, code key) serves the order and the start: each page is a range scan.
		for (let afterKey = ''; ;) {
			const rows = this.all<ListedRow>(
				`SELECT ${LISTED_COLUMNS}
				FROM codes c WHERE c.pool_id = ? AND c.code_key > ? ORDER BY c.code_key LIMIT ?`,
				poolId,
				afterKey,
				pageSize,
			);
			if (rows.length > 0) yield rows.map((row) => sqlRows.listed(row));
			if (rows.length < pageSize) return;
			afterKey = rows[rows.length - 1].code_key;
		}
	}

	async hasCodeDetails(name: string): Promise<boolean> {
		const [row] = this.all<{ found: number }>(
			'SELECT EXISTS (SELECT 1 FROM codes WHERE pool_id = ? AND details IS NOT NULL) AS found',
			await this.poolIds.required(name),
		);
		return row.found === 1;
	}

	async writeUses(name: string, changes: UseChange[]): Promise<void> {
		const poolId = await this.poolIds.required(name);
		for (const { code, entries, uses, redeemedAt, orderReference } of changes) {
			const key = codeKey(code);
			for (const entry of entries)
				// A use undone updates its entry; a use taken adds one.
				this.run(
					`INSERT INTO redemptions (pool_id, code_key, n, redeemed_at, order_reference, undone_at, undo_reason, contact_key)
					VALUES (?, ?, ?, ?, ?, ?, ?, ?)
					ON CONFLICT (pool_id, code_key, n) DO UPDATE SET undone_at = excluded.undone_at, undo_reason = excluded.undo_reason`,
					poolId,
					key,
					entry.n,
					entry.at,
					entry.orderReference ?? null,
					entry.undoneAt ?? null,
					entry.undoReason ?? null,
					entry.contactKey ?? null,
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
		const poolId = await this.poolIds.required(name);
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
		const poolId = await this.poolIds.required(name);
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
		const poolId = await this.poolIds.required(name);
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

	async keysInPool(name: string, list: StagedList, now: number): Promise<KeysInPool> {
		// The transaction holds the file's write lock: no import can change the pool meanwhile.
		const [counted] = this.all<KeysInPool>(
			`SELECT count(*) AS known,
				count(*) FILTER (WHERE c.contact_key IS NULL) AS unused,
				count(*) FILTER (WHERE c.contact_key IS NULL AND (c.expires_at IS NULL OR c.expires_at > ?)) AS available
			FROM ${this.stagedTable()} k JOIN codes c ON c.pool_id = ? AND c.code_key = k.code_key WHERE k.list = ?`,
			now,
			await this.poolIds.required(name),
			list.id,
		);
		return { ...counted };
	}

	async withdrawUnused(name: string, keep: StagedList): Promise<number> {
		const poolId = await this.poolIds.required(name);
		const withdrawn = this.run(
			`DELETE FROM codes WHERE pool_id = ? AND contact_key IS NULL
			AND code_key NOT IN (SELECT code_key FROM ${this.stagedTable()} WHERE list = ?)`,
			poolId,
			keep.id,
		);
		if (withdrawn > 0)
			this.run('UPDATE pools SET code_count = code_count - ? WHERE id = ?', withdrawn, poolId);
		return withdrawn;
	}

	private stagedTable(): string {
		if (!this.staged)
			throw new Error('A staged list is read only in a transaction of its staging area');
		return this.staged;
	}

	async deletePool(name: string): Promise<{ codes: number; assigned: number }> {
		const poolId = await this.poolIds.required(name);
		// The transaction holds the file's write lock: nobody assigns a code meanwhile.
		const [removed] = this.all<{ codes: number; assigned: number }>(
			'SELECT count(*) AS codes, count(contact_key) AS assigned FROM codes WHERE pool_id = ?',
			poolId,
		);
		this.run('DELETE FROM redemptions WHERE pool_id = ?', poolId);
		this.run('DELETE FROM codes WHERE pool_id = ?', poolId);
		this.run('DELETE FROM pools WHERE id = ?', poolId);
		this.poolIds.forget(name);
		return { ...removed };
	}

	async addImported(name: string, candidates: ImportCandidate[]): Promise<ImportOutcome> {
		const poolId = await this.poolIds.required(name);
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
		return this.counted(
			poolId,
			candidates.length - duplicateRows.length,
			duplicateRows.length,
			duplicateRows,
		);
	}

	async addStaged(name: string, list: StagedList): Promise<ImportOutcome> {
		const poolId = await this.poolIds.required(name);
		const table = this.stagedTable();
		let added = 0;
		let examples: ImportCandidate[] = [];
		// A window of keys per statement, in key order, as the codes table keeps them: a million
		// staged codes never hold the event loop at once, and go in where the last ones went.
		for (let after = ''; ;) {
			const [end] = this.all<{ code_key: string }>(
				`SELECT code_key FROM ${table} WHERE list = ? AND code_key > ? ORDER BY code_key LIMIT 1 OFFSET ?`,
				list.id,
				after,
				STAGED_WINDOW - 1,
			);
			// The last window has no end: any key past the one before it.
			const keys = end ? [after, end.code_key] : [after];
			const inWindow = (s: string) =>
				`${s}list = ? AND ${s}code_key > ? ${end ? `AND ${s}code_key <= ?` : ''}`;
			const repeated = this.all<{ code: string; source_row: number }>(
				`SELECT s.code, s.source_row FROM ${table} s JOIN codes c ON c.pool_id = ? AND c.code_key = s.code_key
				WHERE ${inWindow('s.')} ORDER BY s.source_row LIMIT ?`,
				poolId,
				list.id,
				...keys,
				DUPLICATE_EXAMPLES,
			);
			if (repeated.length > 0)
				examples = [
					...examples,
					...repeated.map((row) => ({
						code: row.code,
						key: codeKey(row.code),
						row: row.source_row,
					})),
				];
			added += this.run(
				`INSERT INTO codes (pool_id, code_key, code, rank, details, expires_at)
				SELECT ?, code_key, code, rank, details, expires_at FROM ${table}
				WHERE ${inWindow('')} ORDER BY code_key ON CONFLICT (pool_id, code_key) DO NOTHING`,
				poolId,
				list.id,
				...keys,
			);
			if (!end) break;
			after = end.code_key;
			if (this.turns.due()) await this.turns.pass();
		}
		return this.counted(poolId, added, list.size - added, examples);
	}

	/** The outcome of adding `added` codes to the pool, its count brought up to date. */
	private counted(
		poolId: number,
		added: number,
		duplicates: number,
		repeated: ImportCandidate[],
	): ImportOutcome {
		// A pool that was empty holds only the codes just added, all unused: no need to count them.
		const [counts] = this.all<{ code_count: number; available: number }>(
			`UPDATE pools SET code_count = code_count + ?1 WHERE id = ?2
			RETURNING code_count, CASE WHEN code_count = ?1 THEN ?1
				ELSE (SELECT count(*) FROM codes WHERE pool_id = pools.id AND contact_key IS NULL) END AS available`,
			added,
			poolId,
		);
		const examples = repeated.sort((a, b) => a.row - b.row).slice(0, DUPLICATE_EXAMPLES);
		return importOutcome(
			added,
			duplicates,
			examples.map((candidate) => ({ ...candidate })),
			counts,
		);
	}
}
