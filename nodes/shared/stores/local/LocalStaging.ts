import type { DatabaseSync } from 'node:sqlite';
import { StoreError } from '../../core/common/errors';
import { Turns } from '../../core/common/turns';
import type {
	CouponStoreSession,
	ImportCandidate,
	ImportStaging,
	StagedList,
	StagedRepeat,
	TransactionOptions,
} from '../../core/storeContract';
import { describeSqliteError, type LocalDatabase } from '../../transport/sqlite';
import { randomRanks } from './ranks';

/** The temporary tables' page cache while an import is staged, in KiB; SQLite's own otherwise. */
const TEMP_CACHE_KIB = 65_536;
const DEFAULT_CACHE_SIZE = -2000;

/** Staging areas opened by this process: each its own table. */
let stagingAreas = 0;

/**
 * An import's staging area in the local file's process: a temporary table of the write connection,
 * which SQLite keeps apart from the file (no lock on it, no other process sees it) and drops when
 * the connection closes, a crash included. Each batch takes a turn of the write connection, not the
 * file's write lock: checkouts of this n8n and of others go on while an import is read. Its
 * transactions publish the lists on the same connection.
 */
export class LocalStaging implements ImportStaging {
	/** The table, as SQL names it. */
	readonly table = `temp.coupon_staged_${++stagingAreas}`;
	private lists = 0;
	/** The write connection the table was made on; it is gone if that connection was closed since. */
	private connection?: DatabaseSync;
	private readonly turns = new Turns();

	constructor(
		private readonly database: LocalDatabase,
		readonly transaction: <T>(
			work: (session: CouponStoreSession) => Promise<T>,
			options?: TransactionOptions,
		) => Promise<T>,
	) {}

	newList(): StagedList {
		return { id: ++this.lists, size: 0 };
	}

	async stage(list: StagedList, candidates: ImportCandidate[]): Promise<StagedRepeat[]> {
		if (candidates.length === 0) return [];
		const { file } = this.database;
		return await this.database.exclusive(async (connection) => {
			try {
				this.tableOn(connection);
				const insert = connection.prepare(
					`INSERT INTO ${this.table} (list, code_key, code, source_row, rank, details, expires_at)
					VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (list, code_key) DO NOTHING`,
				);
				const first = connection.prepare(
					`SELECT source_row FROM ${this.table} WHERE list = ? AND code_key = ?`,
				);
				const ranks = randomRanks(candidates.length);
				const repeats: StagedRepeat[] = [];
				// A deferred transaction that writes only the temporary table takes no lock on the file.
				connection.exec('BEGIN');
				try {
					for (const [i, c] of candidates.entries()) {
						const { changes } = insert.run(
							list.id,
							c.key,
							c.code,
							c.row,
							ranks[i],
							c.details === undefined ? null : JSON.stringify(c.details),
							c.expiresAt ?? null,
						);
						if (Number(changes) === 0) {
							const { source_row } = first.get(list.id, c.key) as { source_row: number };
							repeats.push({ row: c.row, firstRow: source_row });
						}
						if (this.turns.due()) await this.turns.pass();
					}
					connection.exec('COMMIT');
				} catch (error) {
					this.database.rollBack(connection);
					throw error;
				}
				list.size += candidates.length - repeats.length;
				return repeats;
			} catch (error) {
				throw describeSqliteError(error, file);
			}
		});
	}

	/**
	 * The staged table on the write connection `connection`, made on first use. Throws if it was
	 * made on a connection since closed, which dropped it.
	 */
	tableOn(connection: DatabaseSync): string {
		if (this.connection === connection) return this.table;
		if (this.connection !== undefined)
			throw new StoreError(
				'STORE_CONNECTION_LOST',
				`The codes read so far were lost: the connection to the local coupon file ${this.database.file} was reopened while the file was being read`,
				'Nothing of this step was saved. Run it again.',
			);
		connection.exec(
			`CREATE TABLE ${this.table} (list INTEGER NOT NULL, code_key TEXT NOT NULL, code TEXT NOT NULL,
			source_row INTEGER NOT NULL, rank REAL NOT NULL, details TEXT, expires_at INTEGER,
			PRIMARY KEY (list, code_key)) WITHOUT ROWID`,
		);
		// The table's pages stay in memory up to this size, then go to a temporary file: SQLite's
		// default of 2 MB would have every insert of a large list read and write its index there.
		connection.exec(`PRAGMA temp.cache_size = -${TEMP_CACHE_KIB}`);
		// Its rollback journal in memory: a staging step writes the temporary file only once.
		connection.exec('PRAGMA temp.journal_mode = MEMORY');
		this.connection = connection;
		return this.table;
	}

	/**
	 * Drops the table, if the connection that made it is still open. The last staging area of the
	 * connection also gives back the temporary file's space and the page cache it took.
	 */
	async discard(): Promise<void> {
		if (!this.connection) return;
		const made = this.connection;
		this.connection = undefined;
		await this.database.exclusive(async (connection) => {
			if (connection !== made || !connection.isOpen) return;
			connection.exec(`DROP TABLE ${this.table}`);
			const others = connection
				.prepare(`SELECT 1 FROM temp.sqlite_schema WHERE name LIKE 'coupon_staged_%' LIMIT 1`)
				.get();
			if (others) return;
			connection.exec('VACUUM temp');
			connection.exec(`PRAGMA temp.cache_size = ${DEFAULT_CACHE_SIZE}`);
		});
	}
}
