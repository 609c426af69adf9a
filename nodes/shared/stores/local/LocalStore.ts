import { existsSync } from 'node:fs';
import type { DatabaseSync } from 'node:sqlite';
import { StoreError } from '../../core/common/errors';
import {
	type CouponStore,
	type CouponStoreSession,
	type ImportStaging,
	type TransactionOptions,
} from '../../core/storeContract';
import {
	beginImmediate,
	beginReading,
	describeSqliteError,
	type LocalDatabase,
} from '../../transport/sqlite';
import { LOCAL_SCHEMA_VERSION, migrate } from './migrations';
import { LocalSession } from './LocalSession';
import { LocalStaging } from './LocalStaging';

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

	async withStaging<T>(use: (staging: ImportStaging) => Promise<T>): Promise<T> {
		// A dry run publishes too, then rolls back; only a look-up reads without the write lock.
		const staging: LocalStaging = new LocalStaging(
			this.database,
			async (work, { rollBack = false, readOnly = false, bulk = false } = {}) =>
				readOnly ? await this.read(work) : await this.write(work, rollBack, bulk, staging),
		);
		try {
			return await use(staging);
		} finally {
			// The import is done whatever this says: a table that stays goes with the connection.
			await staging.discard().catch(() => undefined);
		}
	}

	/**
	 * Takes the file's write lock at the start (`BEGIN IMMEDIATE`): the work decides on what every
	 * transaction before it stored, in any process, and no other writes until it ends.
	 */
	private async write<T>(
		work: (session: CouponStoreSession) => Promise<T>,
		rollBack: boolean,
		bulk: boolean,
		staging?: LocalStaging,
	): Promise<T> {
		const { database } = this;
		const { file } = database;
		return await database.exclusive(async (connection) => {
			let staged: string | undefined;
			try {
				staged = staging?.tableOn(connection);
				// A bulk transaction's COMMIT does not sync: `commit` syncs the WAL off the event loop.
				connection.exec(`PRAGMA synchronous = ${bulk ? 'NORMAL' : 'FULL'}`);
				await this.migrateOnce(connection);
				await beginImmediate(connection, database);
			} catch (error) {
				throw describeSqliteError(error, file);
			}
			let result: T;
			const session = new LocalSession(connection, file, false, staged);
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
				'STORE_READ_ONLY',
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
