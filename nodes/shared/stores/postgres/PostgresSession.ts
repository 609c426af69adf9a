import type { PoolClient, QueryResultRow } from 'pg';
import { codeKey } from '../../core/codes/codes';
import { couponNameKey } from '../../core/common/names';
import { Turns } from '../../core/common/turns';
import { expiryNeeded } from '../../core/common/validity';
import { describeDatabaseError } from '../../transport/postgres';
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
	type UseChange,
	type HoldChange,
	type Details,
	type NewCouponTerms,
	type ListedCode,
	type CodeFormat,
	type StagedList,
	type TriggerEvents,
	type UseScope,
} from '../../core/storeContract';
import { PostgresEvents } from './PostgresEvents';
import {
	ASSIGNMENT_COLUMNS,
	countedCodes,
	importOutcome,
	groupByContact,
	POOL_COLUMNS,
	PoolIds,
	TERMS_COLUMNS,
} from '../sqlRows';

import {
	assertAllAssigned,
	assignStatement,
	writeHoldsStatement,
	writeUsesStatement,
	type WrittenCodes,
	chunks,
	countPoolStatement,
	copyDetails,
	copyExpiry,
	copyRows,
	copiedPages,
	copyText,
	evenRanks,
	iso,
	isoOrNull,
	scopedUsesStatement,
	scopedUsesParams,
	wholeUsesStatement,
	shuffle,
	STAGED_TABLE,
} from './statements';
import {
	COPIED_LISTED_COLUMNS,
	listedOfCopy,
	sqlRows,
	type AssignmentRow,
	type ListedRow,
	type PoolRow,
	type RedemptionRow,
	type TermsRow,
} from './rows';

/** Imports of this many codes or more refresh the table statistics. */
const ANALYZE_AFTER_ROWS = 10_000;

export class PostgresSession implements CouponStoreSession {
	readonly turns = new Turns();
	readonly events: TriggerEvents;
	private readonly poolIds = new PoolIds<string>(async (name) => await this.findPool(name));
	/**
	 * Generated codes per pool, added to the pools' counts just before commit. Updating the pool row
	 * at once would hold its lock for the rest of the transaction: every run assigning that coupon would
	 * wait for the one before, and runs serving several coupons could deadlock.
	 */
	private readonly newCodes = new Map<string, number>();
	/** Whether this transaction created a coupon: the store refreshes the coupons' statistics after it. */
	createdPool = false;

	constructor(
		private readonly client: PoolClient,
		/** The schema, quoted for SQL. */
		private readonly schema: string,
		private readonly where: string,
		/** Whether the connection holds a staging area (`PostgresStaging`): its lists can be read. */
		private readonly staging = false,
	) {
		this.events = new PostgresEvents(schema, {
			query: async (sql, params) => await this.query(sql, params),
			records: async (rows, scope) => await this.records(rows, scope),
		});
	}

	private async query<R extends QueryResultRow>(
		sql: string,
		params: unknown[] = [],
	): Promise<{ rows: R[]; rowCount: number }> {
		try {
			const result = await this.client.query<R>(sql, params);
			return { rows: result.rows, rowCount: result.rowCount ?? 0 };
		} catch (error) {
			throw describeDatabaseError(error, this.where);
		}
	}

	/**
	 * The codes the contact `k.contact_key` holds in pool `pool`, one look-up in codes_by_contact.
	 * OFFSET 0 keeps it a look-up per contact: merged into a join, the planner would read every
	 * code the pool has assigned, since statistics taken after an import say it has none.
	 */
	private codesOfContactIn(pool: string): string {
		return `SELECT * FROM ${this.schema}.codes c WHERE c.pool_id = ${pool} AND c.contact_key = k.contact_key OFFSET 0`;
	}

	private info(row: PoolRow): PoolInfo {
		this.poolIds.remember(row.name, row.id);
		return sqlRows.poolInfo(row, Number(row.code_count) + (this.newCodes.get(row.id) ?? 0));
	}

	/**
	 * The records of these rows, with the uses of those that count them: every use, or of a shared
	 * code those `scope` asks for and the newest.
	 */
	private async records(rows: AssignmentRow[], scope: UseScope = {}): Promise<AssignmentRecord[]> {
		const { whole, shared } = countedCodes(rows);
		const read = async (sql: string, params: unknown[]) =>
			(await this.query<RedemptionRow>(sql, params)).rows;
		const entries = [
			...(whole.codeKeys.length > 0
				? await read(wholeUsesStatement(this.schema), [whole.poolIds, whole.codeKeys])
				: []),
			...(shared.codeKeys.length > 0
				? await read(scopedUsesStatement(this.schema), scopedUsesParams(shared, scope))
				: []),
		];
		const history = sqlRows.history(entries);
		return rows.map((row) => sqlRows.record(row, history));
	}

	/** Adds this transaction's generated codes to the pool counts, pools in id order (no deadlock). */
	async finish(): Promise<void> {
		const pending = [...this.newCodes]
			.filter(([, count]) => count > 0)
			.sort(([a], [b]) => Number(a) - Number(b));
		for (const [poolId, count] of pending)
			await this.query(
				`UPDATE ${this.schema}.pools SET code_count = code_count + $2 WHERE id = $1`,
				[poolId, count],
			);
		this.newCodes.clear();
	}

	async findPool(name: string): Promise<PoolInfo | undefined> {
		const { rows } = await this.query<PoolRow>(
			`SELECT ${POOL_COLUMNS} FROM ${this.schema}.pools WHERE name_key = $1`,
			[couponNameKey(name)],
		);
		return rows[0] && this.info(rows[0]);
	}

	async createPool(name: string, kind: PoolKind, terms?: NewCouponTerms): Promise<PoolInfo> {
		// A run creating the same name concurrently makes this wait for its commit, then find its pool.
		const { rows } = await this.query<PoolRow>(
			`INSERT INTO ${this.schema}.pools (name, name_key, kind, uses_per_code, uses_per_customer, details, code_format) VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (name_key) DO NOTHING RETURNING ${POOL_COLUMNS}`,
			[
				name,
				couponNameKey(name),
				kind,
				terms?.usesPerCode ?? 1,
				terms?.usesPerCustomer ?? null,
				terms?.details ?? null,
				terms?.codeFormat ?? null,
			],
		);
		if (!rows[0]) return (await this.findPool(name))!;
		this.createdPool = true;
		return this.info(rows[0]);
	}

	async listPools(): Promise<PoolInfo[]> {
		const { rows } = await this.query<PoolRow>(
			`SELECT ${POOL_COLUMNS} FROM ${this.schema}.pools ORDER BY name_key COLLATE "C"`,
		);
		return rows.map((row) => this.info(row));
	}

	async setCouponDetails(name: string, details: Details | undefined): Promise<void> {
		await this.query(`UPDATE ${this.schema}.pools SET details = $2 WHERE id = $1`, [
			await this.poolIds.required(name),
			details ?? null,
		]);
	}

	async setCodeFormat(name: string, format: CodeFormat): Promise<void> {
		await this.query(`UPDATE ${this.schema}.pools SET code_format = $2 WHERE id = $1`, [
			await this.poolIds.required(name),
			format,
		]);
	}

	async countPool(name: string, now: number, since: number): Promise<PoolCounts> {
		const { rows } = await this.query<Record<keyof PoolCounts, string>>(
			countPoolStatement(this.schema),
			[await this.poolIds.required(name), iso(now), iso(since)],
		);
		const counts = Object.fromEntries(
			Object.entries(rows[0]).map(([key, value]) => [key, Number(value)]),
		);
		return counts as unknown as PoolCounts;
	}

	async assignmentsOf(
		name: string,
		contactKeys: string[],
	): Promise<Map<string, AssignmentRecord[]>> {
		const poolId = await this.poolIds.of(name);
		if (poolId === undefined || contactKeys.length === 0) return new Map();
		// Lock each contact's row until the transaction ends, in one sorted order, in one statement:
		// a new row is the inserter's, and ON CONFLICT DO UPDATE locks an existing one, even one
		// committed after the statement began (which a SELECT FOR UPDATE beside the insert would miss).
		const sorted = [...new Set(contactKeys)].sort();
		await this.query(
			`INSERT INTO ${this.schema}.contacts AS c (pool_id, contact_key) SELECT $1, k FROM unnest($2::text[]) AS k ORDER BY k
			ON CONFLICT (pool_id, contact_key) DO UPDATE SET contact_key = c.contact_key`,
			[poolId, sorted],
		);
		const { rows } = await this.query<AssignmentRow>(
			`SELECT ${ASSIGNMENT_COLUMNS} FROM unnest($2::text[]) AS k (contact_key)
			CROSS JOIN LATERAL (${this.codesOfContactIn('$1')}) c ORDER BY c.assigned_at, c.code_key`,
			[poolId, sorted],
		);
		return groupByContact(await this.records(rows));
	}

	async assignmentsOfContacts(contactKeys: string[]): Promise<Map<string, HeldAssignment[]>> {
		if (contactKeys.length === 0) return new Map();
		// Pool by pool: pools are few, assigned codes may be millions.
		const { rows } = await this.query<AssignmentRow & TermsRow>(
			`SELECT ${TERMS_COLUMNS}, ${ASSIGNMENT_COLUMNS} FROM ${this.schema}.pools p
			CROSS JOIN unnest($1::text[]) AS k (contact_key)
			CROSS JOIN LATERAL (${this.codesOfContactIn('p.id')}) c`,
			[[...new Set(contactKeys)]],
		);
		const records = await this.records(rows);
		return groupByContact(rows.map((row, i) => ({ ...records[i], ...sqlRows.termsOf(row) })));
	}

	async markReplaced(name: string, codes: string[], at: number): Promise<void> {
		if (codes.length === 0) return;
		// The row locks make a redemption that committed meanwhile visible here; such a code is skipped.
		// The codes are the contacts' own; codes_replaced_when_assigned refuses any other. Saying
		// "assigned" here would let the planner read every assigned code (see COUNT_WRITTEN).
		await this.query(
			`UPDATE ${this.schema}.codes SET replaced_at = $3
			WHERE pool_id = $1 AND code_key = ANY($2::text[]) AND replaced_at IS NULL AND redeemed_at IS NULL`,
			[await this.poolIds.required(name), codes.map(codeKey), iso(at)],
		);
	}

	async findCodes(keys: string[], forUpdate: boolean, scope?: UseScope): Promise<StoredCode[]> {
		if (keys.length === 0) return [];
		// Locked in one order (pool, key), so runs redeeming overlapping codes cannot deadlock.
		const { rows } = await this.query<ListedRow & TermsRow>(
			`SELECT ${TERMS_COLUMNS}, ${ASSIGNMENT_COLUMNS} FROM ${this.schema}.pools p
			JOIN ${this.schema}.codes c ON c.pool_id = p.id AND c.code_key = ANY($1::text[])
			ORDER BY c.pool_id, c.code_key${forUpdate ? ' FOR UPDATE OF c' : ''}`,
			[[...new Set(keys)]],
		);
		const assigned = rows.filter((row) => row.contact_key !== null) as AssignmentRow[];
		// The checkout writes to these pools next: their ids are known now, not looked up again.
		for (const row of rows) this.poolIds.remember(row.pool_name, row.pool_id);
		return sqlRows.storedCodes(rows, await this.records(assigned, scope));
	}

	async *listCodes(name: string, pageSize: number): AsyncGenerator<ListedCode[]> {
		const poolId = BigInt(await this.poolIds.required(name));
		// One statement streaming the coupon in code-key order, read field by field: 200 pages of
		// SELECT, each a row object per code, took twice as long to read a million codes (the
		// export took 2.5 times as long as PostgreSQL writing the same CSV itself).
		yield* copiedPages(
			this.client,
			`COPY (SELECT ${COPIED_LISTED_COLUMNS} FROM ${this.schema}.codes c WHERE c.pool_id = ${poolId} ORDER BY c.code_key) TO STDOUT`,
			listedOfCopy,
			pageSize,
			this.where,
		);
	}

	async hasCodeDetails(name: string): Promise<boolean> {
		const { rows } = await this.query<{ found: boolean }>(
			`SELECT EXISTS (SELECT 1 FROM ${this.schema}.codes WHERE pool_id = $1 AND details IS NOT NULL) AS found`,
			[await this.poolIds.required(name)],
		);
		return rows[0].found;
	}

	async writeUses(name: string, changes: UseChange[]): Promise<void> {
		const poolId = await this.poolIds.required(name);
		for (const batch of chunks(changes)) {
			const entries = batch.flatMap(({ code, entries }) =>
				entries.map((entry) => ({ key: codeKey(code), ...entry })),
			);
			const { rows } = await this.query<WrittenCodes>(writeUsesStatement(this.schema), [
				poolId,
				entries.map((e) => e.key),
				entries.map((e) => e.n),
				entries.map((e) => iso(e.at)),
				entries.map((e) => e.orderReference ?? null),
				entries.map((e) => isoOrNull(e.undoneAt)),
				entries.map((e) => e.undoReason ?? null),
				entries.map((e) => e.contactKey ?? null),
				batch.map((c) => codeKey(c.code)),
				batch.map((c) => c.uses),
				batch.map((c) => isoOrNull(c.redeemedAt)),
				batch.map((c) => c.orderReference ?? null),
			]);
			assertAllAssigned(rows[0], batch.length, name, 'took their uses');
		}
	}

	async writeHolds(name: string, changes: HoldChange[]): Promise<void> {
		const poolId = await this.poolIds.required(name);
		for (const batch of chunks(changes)) {
			const { rows } = await this.query<WrittenCodes>(writeHoldsStatement(this.schema), [
				poolId,
				batch.map((c) => codeKey(c.code)),
				batch.map((c) => c.hold?.orderReference ?? null),
				batch.map((c) => isoOrNull(c.hold?.until)),
			]);
			assertAllAssigned(rows[0], batch.length, name, 'took their holds');
		}
	}

	async assignImported(
		name: string,
		pending: PendingAssignment[],
		shortenToExpiry = false,
	): Promise<AssignmentRecord[]> {
		const poolId = await this.poolIds.required(name);
		const assigned: AssignmentRecord[] = [];
		const needed = expiryNeeded(pending, shortenToExpiry);
		for (const batch of chunks(pending)) {
			let got = await this.assignUnused(poolId, batch, needed, true);
			if (got.length < batch.length) {
				// Rows other runs hold were skipped; one of them may yet roll back. Wait for them before
				// calling the coupon exhausted.
				got = [
					...got,
					...(await this.assignUnused(poolId, batch.slice(got.length), needed, false)),
				];
			}
			assigned.push(...got);
			if (got.length < batch.length) break;
		}
		return assigned;
	}

	private async assignUnused(
		poolId: string,
		batch: PendingAssignment[],
		needed: number,
		skipLocked: boolean,
	): Promise<AssignmentRecord[]> {
		const { rows } = await this.query<AssignmentRow & { n: string }>(
			assignStatement(this.schema, skipLocked),
			[
				poolId,
				batch.map((p) => p.contactKey),
				batch.map((p) => iso(p.assignedAt)),
				batch.map((p) => iso(p.validUntil)),
				batch.length,
				iso(needed),
			],
		);
		rows.sort((a, b) => Number(a.n) - Number(b.n));
		// Locked rows cannot change under us, so the assigned requests are always the first ones.
		if (rows.some((row, i) => Number(row.n) !== i + 1))
			throw new Error('An assignment skipped a request: the codes table changed under a row lock');
		// Codes taken from the unused ones were never redeemed: they have no history to read.
		return rows.map((row) => sqlRows.record(row));
	}

	async insertGenerated(name: string, candidates: AssignmentRecord[]): Promise<AssignmentRecord[]> {
		const poolId = await this.poolIds.required(name);
		const inserted: AssignmentRecord[] = [];
		for (const batch of chunks(candidates)) {
			// The unique index decides: a key already in the pool (or twice in the batch) is skipped.
			const { rows } = await this.query<AssignmentRow>(
				`INSERT INTO ${this.schema}.codes AS c (pool_id, code, code_key, contact_key, assigned_at, valid_until)
				SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[])
				ON CONFLICT (pool_id, code_key) DO NOTHING
				RETURNING ${ASSIGNMENT_COLUMNS}`,
				[
					poolId,
					batch.map((c) => c.code),
					batch.map((c) => codeKey(c.code)),
					batch.map((c) => c.contactKey),
					batch.map((c) => iso(c.assignedAt)),
					batch.map((c) => iso(c.validUntil)),
				],
			);
			this.newCodes.set(poolId, (this.newCodes.get(poolId) ?? 0) + rows.length);
			inserted.push(...rows.map((row) => sqlRows.record(row)));
		}
		return inserted;
	}

	async keysInPool(name: string, list: StagedList, now: number): Promise<KeysInPool> {
		const { poolId } = await this.lockPool(name);
		const { rows } = await this.query<Record<keyof KeysInPool, string>>(
			`SELECT count(*) AS known,
				count(*) FILTER (WHERE c.contact_key IS NULL) AS unused,
				count(*) FILTER (WHERE c.contact_key IS NULL AND (c.expires_at IS NULL OR c.expires_at > $2)) AS available
			FROM ${this.stagedTable()} k JOIN ${this.schema}.codes c ON c.pool_id = $1 AND c.code_key = k.code_key
			WHERE k.list = $3`,
			[poolId, iso(now), list.id],
		);
		return {
			known: Number(rows[0].known),
			unused: Number(rows[0].unused),
			available: Number(rows[0].available),
		};
	}

	async withdrawUnused(name: string, keep: StagedList): Promise<number> {
		const { poolId } = await this.lockPool(name);
		// An assignment committed meanwhile makes its row fail "contact_key IS NULL" when re-checked.
		const { rowCount: withdrawn } = await this.query(
			`DELETE FROM ${this.schema}.codes c WHERE c.pool_id = $1 AND c.contact_key IS NULL
			AND NOT EXISTS (SELECT 1 FROM ${this.stagedTable()} k WHERE k.list = $2 AND k.code_key = c.code_key)`,
			[poolId, keep.id],
		);
		if (withdrawn > 0)
			await this.query(
				`UPDATE ${this.schema}.pools SET code_count = code_count - $2 WHERE id = $1`,
				[poolId, withdrawn],
			);
		return withdrawn;
	}

	/** The staging area's table of staged codes (see PostgresStaging). */
	private stagedTable(): string {
		if (!this.staging)
			throw new Error('A staged list is read only in a transaction of its staging area');
		return STAGED_TABLE;
	}

	async deletePool(name: string): Promise<{ codes: number; assigned: number }> {
		const { poolId } = await this.lockPool(name);
		// Rows another run is assigning are waited for, then removed and counted as assigned.
		const { rows } = await this.query<{ codes: string; assigned: string }>(
			`WITH gone AS (DELETE FROM ${this.schema}.codes WHERE pool_id = $1 RETURNING contact_key)
			SELECT count(*) AS codes, count(contact_key) AS assigned FROM gone`,
			[poolId],
		);
		for (const table of ['redemptions', 'contacts'])
			await this.query(`DELETE FROM ${this.schema}.${table} WHERE pool_id = $1`, [poolId]);
		await this.query(`DELETE FROM ${this.schema}.pools WHERE id = $1`, [poolId]);
		this.poolIds.forget(name);
		this.newCodes.delete(poolId);
		return { codes: Number(rows[0].codes), assigned: Number(rows[0].assigned) };
	}

	async addImported(name: string, candidates: ImportCandidate[]): Promise<ImportOutcome> {
		const { poolId, wasEmpty } = await this.lockPool(name);
		if (!wasEmpty) {
			await this.query(
				`CREATE TEMP TABLE coupon_import_staging (code_key text, code text, source_row integer, rank double precision DEFAULT random(), details jsonb, expires_at timestamptz) ON COMMIT DROP`,
			);
			await this.copy(
				`COPY coupon_import_staging (code_key, code, source_row, details, expires_at) FROM STDIN`,
				candidates,
				(c) =>
					`${copyText(c.key)}\t${copyText(c.code)}\t${c.row}\t${copyDetails(c)}\t${copyExpiry(c)}\n`,
			);
			const outcome = await this.addRows(poolId, wasEmpty, 'coupon_import_staging');
			await this.query('DROP TABLE coupon_import_staging');
			return outcome;
		}
		// An empty pool cannot hold duplicates: COPY straight into the table. Rows go in shuffled,
		// with rising ranks, so the rank index is written in order and assignments still come out random.
		const shuffled = await shuffle(candidates, this.turns);
		const rank = evenRanks(shuffled.length);
		await this.copy(
			`COPY ${this.schema}.codes (pool_id, code_key, code, rank, details, expires_at) FROM STDIN`,
			shuffled,
			(c, i) => {
				const key = copyText(c.key);
				// Most codes are their own key (imports of plain codes, generated codes): escaped once.
				const code = c.code === c.key ? key : copyText(c.code);
				return `${poolId}\t${key}\t${code}\t${rank(i)}\t${copyDetails(c)}\t${copyExpiry(c)}\n`;
			},
		);
		return await this.counted(poolId, wasEmpty, shuffled.length, 0, []);
	}

	async addStaged(name: string, list: StagedList): Promise<ImportOutcome> {
		const { poolId, wasEmpty } = await this.lockPool(name);
		return await this.addRows(poolId, wasEmpty, this.stagedTable(), list.id);
	}

	/**
	 * The pool's id, its row locked, and whether it holds no code. Imports, withdrawals and deletions
	 * of one pool wait for each other; assignments never take this lock.
	 */
	private async lockPool(name: string): Promise<{ poolId: string; wasEmpty: boolean }> {
		const poolId = await this.poolIds.required(name);
		const { rows: locked } = await this.query<{ code_count: string }>(
			`SELECT code_count FROM ${this.schema}.pools WHERE id = $1 FOR UPDATE`,
			[poolId],
		);
		return { poolId, wasEmpty: Number(locked[0].code_count) === 0 };
	}

	/**
	 * Adds the rows of `table` (of its list `list`, when given) whose key the pool does not hold, in
	 * rank order, so that the rank index is written in order. Their keys are distinct: into an empty
	 * pool they go without the cost of checking each for a conflict.
	 */
	private async addRows(
		poolId: string,
		wasEmpty: boolean,
		table: string,
		list?: number,
	): Promise<ImportOutcome> {
		const listed = (n: number) => (list === undefined ? 'true' : `s.list = $${n}`);
		const listParams = list === undefined ? [] : [list];
		let duplicates = 0;
		let duplicateExamples: ImportCandidate[] = [];
		if (!wasEmpty) {
			const { rows } = await this.query<{ code: string; source_row: number; total: string }>(
				`SELECT s.code, s.source_row, count(*) OVER () AS total FROM ${table} s
				JOIN ${this.schema}.codes c ON c.pool_id = $1 AND c.code_key = s.code_key
				WHERE ${listed(3)} ORDER BY s.source_row LIMIT $2`,
				[poolId, DUPLICATE_EXAMPLES, ...listParams],
			);
			duplicateExamples = rows.map((row) => ({
				code: row.code,
				key: codeKey(row.code),
				row: row.source_row,
			}));
			duplicates = rows.length > 0 ? Number(rows[0].total) : 0;
		}
		const { rowCount: added } = await this.query(
			`INSERT INTO ${this.schema}.codes (pool_id, code_key, code, rank, details, expires_at)
			SELECT $1, s.code_key, s.code, s.rank, s.details, s.expires_at FROM ${table} s
			WHERE ${listed(2)} ORDER BY s.rank
			${wasEmpty ? '' : 'ON CONFLICT (pool_id, code_key) DO NOTHING'}`,
			[poolId, ...listParams],
		);
		return await this.counted(poolId, wasEmpty, added, duplicates, duplicateExamples);
	}

	/** The outcome of adding `added` codes to the pool, its count brought up to date. */
	private async counted(
		poolId: string,
		wasEmpty: boolean,
		added: number,
		duplicates: number,
		duplicateExamples: ImportCandidate[],
	): Promise<ImportOutcome> {
		// Fresh statistics after a bulk load: without them the planner may pick a slow plan for
		// assignments. The pools too: never analyzed, they count as hundreds of rows, and a code typed
		// at checkout would be looked for by reading every code rather than through each pool's key.
		if (added >= ANALYZE_AFTER_ROWS)
			await this.query(`ANALYZE ${this.schema}.codes, ${this.schema}.pools`);
		// A pool that was empty holds only the codes just added, all unused: no need to count them.
		const { rows: counts } = await this.query<{ code_count: string; available: string }>(
			`UPDATE ${this.schema}.pools SET code_count = code_count + $2 WHERE id = $1
			RETURNING code_count, ${wasEmpty ? '$2::bigint' : `(SELECT count(*) FROM ${this.schema}.codes WHERE pool_id = $1 AND contact_key IS NULL)`} AS available`,
			[poolId, added],
		);
		return importOutcome(added, duplicates, duplicateExamples, counts[0]);
	}

	private async copy<T>(
		sql: string,
		items: T[],
		line: (item: T, index: number) => string,
	): Promise<void> {
		await copyRows(this.client, sql, items, line, this.turns, this.where);
	}
}
