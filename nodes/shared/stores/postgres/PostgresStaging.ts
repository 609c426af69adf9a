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

/** The batch `stage` copies in, before it goes into the staged table. */
const BATCH_TABLE = 'pg_temp.coupon_staging_batch';

/**
 * An import's staging area in PostgreSQL: temporary tables of the one connection it holds, so that
 * nothing is written to the write-ahead log, no other connection sees it, and a crash or a lost
 * connection leaves nothing behind. Each batch is its own statement, outside any transaction: it
 * locks nothing a checkout waits for. Its transactions run on the same connection.
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
		const { rowCount } = await this.query(
			`INSERT INTO ${STAGED_TABLE} (list, code_key, code, source_row, details, expires_at)
			SELECT $1, code_key, code, source_row, details, expires_at FROM ${BATCH_TABLE}
			ON CONFLICT (list, code_key) DO NOTHING`,
			[list.id],
		);
		list.size += rowCount;
		// A key the batch did not add was staged by an earlier one: rare, so looked for only then.
		const { rows } =
			rowCount === candidates.length
				? { rows: [] }
				: await this.query<{ row: number; first_row: number }>(
						`SELECT b.source_row AS row, s.source_row AS first_row FROM ${BATCH_TABLE} b
						JOIN ${STAGED_TABLE} s ON s.list = $1 AND s.code_key = b.code_key
						WHERE s.source_row <> b.source_row`,
						[list.id],
					);
		await this.query(`TRUNCATE ${BATCH_TABLE}`);
		return rows.map((row) => ({ row: row.row, firstRow: row.first_row }));
	}

	private async tables(): Promise<void> {
		if (this.created) return;
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

	/** Drops the staged tables, which the connection would otherwise keep for its next user. */
	async discard(): Promise<void> {
		if (this.created) await this.query(`DROP TABLE ${STAGED_TABLE}, ${BATCH_TABLE}`);
		this.created = false;
	}

	private async query<R extends object>(
		sql: string,
		params: unknown[] = [],
	): Promise<{ rows: R[]; rowCount: number }> {
		try {
			const { rows, rowCount } = await this.client.query<R & Record<string, unknown>>(sql, params);
			return { rows, rowCount: rowCount ?? 0 };
		} catch (error) {
			throw describeDatabaseError(error, this.where);
		}
	}
}
