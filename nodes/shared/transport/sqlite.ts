import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DatabaseSync } from 'node:sqlite';
import { StoreError } from '../core/errors';

/** The file of the Local storage, in n8n's own folder, next to n8n's database.sqlite. */
export const LOCAL_FILE_NAME = 'coupons.sqlite';

/**
 * The local coupon file in n8n's own folder (`~/.n8n`, or `$N8N_USER_FOLDER/.n8n`), next to n8n's
 * database. n8n gives each node type a storage folder `<n8n folder>/storage/<node type>`
 * (`helpers.getStoragePath()`); its grandparent is n8n's folder as n8n's instance settings say, so
 * both nodes find the same file.
 */
export function localCouponFile(nodeStoragePath: string): string {
	return resolve(nodeStoragePath, '..', '..', LOCAL_FILE_NAME);
}

/**
 * n8n's queue mode, where workers run executions on hosts with disks of their own: set by
 * EXECUTIONS_MODE on the main process, and implied for `n8n worker` and `n8n webhook` processes,
 * which n8n switches to queue mode whatever the variable says.
 */
export const isQueueMode = (
	env: NodeJS.ProcessEnv = process.env,
	argv: string[] = process.argv,
): boolean => env.EXECUTIONS_MODE === 'queue' || ['worker', 'webhook'].includes(argv[2]);

/**
 * How long one statement waits inside SQLite for another process's write lock. It blocks the event
 * loop, so it is short; longer waits happen between attempts to begin (see `beginImmediate`).
 */
const BUSY_TIMEOUT_MS = 20;
/** How long a transaction waits for another process to finish writing before it gives up. */
export const LOCK_WAIT_MS = 30_000;

/** The Node that has what the Local storage uses of node:sqlite (busy timeout, isTransaction, isOpen). */
const NEEDED_NODE = '22.16';

const olderNode = () =>
	new StoreError(
		`The Local storage needs Node.js ${NEEDED_NODE} or later (n8n 2.x runs on Node 24); this n8n runs on Node ${process.versions.node}`,
		'Update n8n, or choose Workflow Static Data or Database (PostgreSQL) as the storage.',
	);

/** node:sqlite, loaded on first use: Node before 22.13 (n8n 1.x on Node 20) has no such module. */
function sqliteModule(): typeof import('node:sqlite') {
	try {
		// eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded lazily, see above
		return require('node:sqlite') as typeof import('node:sqlite');
	} catch {
		throw olderNode();
	}
}

/**
 * One SQLite file, opened once per process and shared by every execution in it. Node's SQLite is
 * synchronous and one connection holds one transaction: executions take turns (`exclusive`), and
 * other processes on the host are kept out by SQLite's write lock (`BEGIN IMMEDIATE`).
 */
export class LocalDatabase {
	private connection?: DatabaseSync;
	private queue: Promise<void> = Promise.resolve();
	/** Set once the file's schema has been migrated by this process. */
	migrated = false;

	constructor(
		readonly file: string,
		/** How long a transaction waits for another process's write lock. */
		readonly lockWaitMs = LOCK_WAIT_MS,
	) {}

	/** Runs `work` when every earlier caller in this process has finished with the connection. */
	async exclusive<T>(work: (connection: DatabaseSync) => Promise<T>): Promise<T> {
		const previous = this.queue;
		let done!: () => void;
		this.queue = new Promise((resolveTurn) => (done = resolveTurn));
		await previous;
		try {
			return await work(await this.open());
		} finally {
			done();
		}
	}

	private async open(): Promise<DatabaseSync> {
		if (this.connection?.isOpen) {
			// A turn that ended inside a transaction (it should not) must not leave it to the next one.
			if (this.connection.isTransaction) this.rollBack(this.connection);
			if (this.connection?.isOpen) return this.connection;
		}
		const { DatabaseSync } = sqliteModule();
		let connection: DatabaseSync | undefined;
		try {
			mkdirSync(dirname(this.file), { recursive: true });
			connection = new DatabaseSync(this.file, { timeout: BUSY_TIMEOUT_MS });
			// Before 22.16 the module exists without it: a failed run could not be rolled back.
			if (typeof connection.isTransaction !== 'boolean') throw olderNode();
			// WAL: readers never wait for the writer. FULL: a committed assignment survives a power cut.
			// Switching a new file to WAL needs the file to itself: processes opening it at once wait.
			await execWaiting(connection, 'PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;', this);
			this.connection = connection;
			return connection;
		} catch (error) {
			connection?.close();
			throw describeSqliteError(error, this.file);
		}
	}

	/**
	 * Ends the connection's transaction keeping nothing. If even that fails, the connection is
	 * closed (SQLite then rolls back) so that no later turn or other process finds the file locked.
	 */
	rollBack(connection: DatabaseSync): void {
		try {
			if (connection.isTransaction) connection.exec('ROLLBACK');
		} catch {
			if (connection === this.connection) this.close();
			else connection.close();
		}
	}

	/** Closes the connection; the next transaction opens it again. */
	close(): void {
		this.connection?.close();
		this.connection = undefined;
		this.migrated = false;
	}
}

const databases = new Map<string, LocalDatabase>();

/** The process's one LocalDatabase for this file. */
export function localDatabase(file: string): LocalDatabase {
	let database = databases.get(file);
	if (!database) {
		database = new LocalDatabase(file);
		databases.set(file, database);
	}
	return database;
}

/** Closes the file and forgets it (tests; n8n keeps it open for the life of the process). */
export function closeLocalDatabase(file: string): void {
	databases.get(file)?.close();
	databases.delete(file);
}

interface SqliteError {
	code?: string;
	errcode?: number;
	errstr?: string;
	message: string;
}

/** SQLite's primary result codes (the low byte of `errcode`) this store explains. */
const SQLITE_BUSY = 5;
const SQLITE_READONLY = 8;
const SQLITE_CORRUPT = 11;
const SQLITE_FULL = 13;
const SQLITE_CANTOPEN = 14;
const SQLITE_NOTADB = 26;

export const isBusy = (error: unknown): boolean =>
	((error as SqliteError).errcode ?? 0) % 256 === SQLITE_BUSY;

/** Begins a write transaction, waiting for another process that holds the file's write lock. */
export async function beginImmediate(
	connection: DatabaseSync,
	database: Pick<LocalDatabase, 'file' | 'lockWaitMs'>,
): Promise<void> {
	await execWaiting(connection, 'BEGIN IMMEDIATE', database);
}

/**
 * Runs `sql`, waiting while another process holds the lock it needs: each attempt waits up to the
 * busy timeout inside SQLite, then the event loop is let go between attempts.
 */
async function execWaiting(
	connection: DatabaseSync,
	sql: string,
	{ file, lockWaitMs }: Pick<LocalDatabase, 'file' | 'lockWaitMs'>,
): Promise<void> {
	const deadline = Date.now() + lockWaitMs;
	for (let pause = 5; ; pause = Math.min(pause * 2, 100)) {
		try {
			connection.exec(sql);
			return;
		} catch (error) {
			if (!isBusy(error)) throw describeSqliteError(error, file);
			if (Date.now() >= deadline) throw lockedTooLong(file, lockWaitMs);
		}
		await sleep(pause);
	}
}

const lockedTooLong = (file: string, waitedMs: number) =>
	new StoreError(
		`The local coupon file ${file} stayed locked by another process for more than ${waitedMs / 1000} seconds`,
		'Nothing of this step was saved. Run it again; if it keeps happening, another program holds the file open in a transaction.',
	);

/** A StoreError that names the file and what to do, for an error of node:sqlite. */
export function describeSqliteError(error: unknown, file: string): Error {
	if (error instanceof StoreError) return error;
	const { errcode, message } = error as SqliteError;
	const failed = (problem: string, fix: string) =>
		new StoreError(`The local coupon file ${file} ${problem}`, fix);
	switch ((errcode ?? -1) % 256) {
		case SQLITE_BUSY:
			return lockedTooLong(file, BUSY_TIMEOUT_MS);
		case SQLITE_READONLY:
		case SQLITE_CANTOPEN:
			return failed(
				`cannot be opened for writing: ${message}`,
				"Give the user n8n runs as the right to write that file and its folder (n8n's user folder), or set N8N_USER_FOLDER.",
			);
		case SQLITE_FULL:
			return failed(
				'could not grow: the disk is full',
				'Nothing of this step was saved. Free disk space, then run it again.',
			);
		case SQLITE_CORRUPT:
		case SQLITE_NOTADB:
			return failed(
				`is damaged or not an SQLite database: ${message}`,
				'Restore it from a backup, or move it away to start with no coupons.',
			);
		default:
			return failed(`failed: ${message}`, 'Nothing of this step was saved. Run it again.');
	}
}
