import type { PoolClient } from 'pg';
import type {
	CouponStoreSession,
	ImportCandidate,
	ImportStaging,
	StagedList,
	StagedRepeat,
	TransactionOptions,
} from '../../core/storeContract';
import { describeDatabaseError } from '../../transport/postgres';
import { Turns } from '../../core/common/turns';
import { copyDetails, copyExpiry, copyRows, copyText, STAGED_TABLE } from './statements';

/** PostgreSQL's error code for a key a unique index holds already. */
const UNIQUE_VIOLATION = '23505';

/** The batch `stage` copies in, before it goes into the staged table. */
const BATCH_TABLE = 'pg_temp.coupon_staging_batch';

/**
 * An import's staging area in PostgreSQL: temporary tables of the one connection it holds, so that
 * nothing is written to the write-ahead log, no other connection sees it, and a crash or a lost
 * connection leaves nothing behind; the store closes the connection when the import ends. Each batch
 * is its own statement, outside any transaction: it locks nothing a checkout waits for. Its
 * transactions run on the same connection, which is why a pooler in transaction mode (PgBouncer's
 * `pool_mode = transaction`) cannot stand between: it would hand each statement to any connection.
 */
export class PostgresStaging implements ImportStaging {
	private lists = 0;
	private created = false;
	private readonly turns = new Turns();

	constructor(
		private readonly client: PoolClient,
		private readonly where: string,
		private readonly runTransaction: <T>(
			work: (session: CouponStoreSession) => Promise<T>,
			options?: TransactionOptions,
		) => Promise<T>,
	) {}

	async transaction<T>(
		work: (session: CouponStoreSession) => Promise<T>,
		options?: TransactionOptions,
	): Promise<T> {
		// Made before the transaction: a file with no code to stage still has its (empty) lists read.
		await this.tables();
		return await this.runTransaction(work, options);
	}

	newList(): StagedList {
		return { id: ++this.lists, size: 0 };
	}

	async stage(list: StagedList, candidates: ImportCandidate[]): Promise<StagedRepeat[]> {
		if (candidates.length === 0) return [];
		await this.tables();
		await copyRows(
			this.client,
			`COPY ${BATCH_TABLE} (code_key, code, source_row, details, expires_at) FROM STDIN`,
			candidates,
			(c) =>
				`${copyText(c.key)}\t${copyText(c.code)}\t${c.row}\t${copyDetails(c)}\t${copyExpiry(c)}\n`,
			this.turns,
			this.where,
		);
		const repeated = await this.addBatch(list, candidates);
		list.size += candidates.length - repeated.length;
		await this.query(`TRUNCATE ${BATCH_TABLE}`);
		if (repeated.length === 0) return [];
		// Looked up by key, through the list's index: a file of repeats costs its own length.
		const { rows } = await this.query<{ code_key: string; source_row: number }>(
			`SELECT code_key, source_row FROM ${STAGED_TABLE} WHERE list = $1 AND code_key = ANY($2::text[])`,
			[list.id, repeated.map((c) => c.key)],
		);
		const firstRow = new Map(rows.map((row) => [row.code_key, row.source_row]));
		return repeated.map((c) => ({ row: c.row, firstRow: firstRow.get(c.key)! }));
	}

	/**
	 * Adds the copied batch to the list; returns the candidates whose key the list held already. The
	 * batch's keys are distinct, so those are rare: the insert is tried without checking each row for
	 * a conflict (twice as fast), and only when one is found goes again, skipping them.
	 */
	private async addBatch(
		list: StagedList,
		candidates: ImportCandidate[],
	): Promise<ImportCandidate[]> {
		const insert = `INSERT INTO ${STAGED_TABLE} (list, code_key, code, source_row, details, expires_at)
			SELECT $1, code_key, code, source_row, details, expires_at FROM ${BATCH_TABLE}`;
		try {
			await this.client.query(insert, [list.id]);
			return [];
		} catch (error) {
			if ((error as { code?: string }).code !== UNIQUE_VIOLATION)
				throw describeDatabaseError(error, this.where);
		}
		const { rows } = await this.query<{ code_key: string }>(
			`${insert} ON CONFLICT (list, code_key) DO NOTHING RETURNING code_key`,
			[list.id],
		);
		const added = new Set(rows.map((row) => row.code_key));
		return candidates.filter((c) => !added.has(c.key));
	}

	private async tables(): Promise<void> {
		if (this.created) return;
		// Room for a large list in memory. A pooled connection that used temporary tables before
		// refuses the change and keeps PostgreSQL's 8 MB: slower, not wrong.
		await this.query(`SET temp_buffers = '256MB'`).catch(() => undefined);
		await this.query(
			`CREATE TEMP TABLE coupon_staged (list integer NOT NULL, code_key text NOT NULL, code text NOT NULL,
				source_row integer NOT NULL, rank double precision NOT NULL DEFAULT random(), details jsonb,
				expires_at timestamptz, PRIMARY KEY (list, code_key));
			CREATE TEMP TABLE coupon_staging_batch (code_key text, code text, source_row integer, details jsonb,
				expires_at timestamptz)`,
		);
		this.created = true;
	}

	private async query<R extends object>(
		sql: string,
		params: unknown[] = [],
	): Promise<{ rows: R[] }> {
		try {
			return await this.client.query<R & Record<string, unknown>>(sql, params);
		} catch (error) {
			throw describeDatabaseError(error, this.where);
		}
	}
}
