import type { ErrorCode } from '../core/common/errorCodes';
import { accessSync, constants, lstatSync, mkdirSync, readlinkSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { DatabaseSync, DatabaseSyncOptions } from 'node:sqlite';
import { StoreError } from '../core/common/errors';

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
 * The node storage folder n8n would give a node type, found as n8n finds its folder
 * (`@n8n/config`'s getN8nFolder): for a trigger's poll, whose context has no `getStoragePath`.
 */
export function nodeStoragePathOf(
	nodeType: string,
	env: NodeJS.ProcessEnv = process.env,
	platform: NodeJS.Platform = process.platform,
): string {
	const home =
		env.N8N_USER_FOLDER ?? env[platform === 'win32' ? 'USERPROFILE' : 'HOME'] ?? process.cwd();
	return resolve(home, '.n8n', 'storage', nodeType);
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

/** Read connections kept open between reads; a burst of reads at once opens more, closed after. */
const IDLE_READERS = 2;

/** The Node that has what the Local storage uses of node:sqlite (busy timeout, isTransaction, isOpen). */
const NEEDED_NODE = '22.16';

const olderNode = () =>
	new StoreError(
		'STORE_NOT_SUPPORTED',
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
 * Refuses a symbolic link where the file or its WAL files are: whoever can write n8n's folder could
 * otherwise point n8n's writes at another file (n8n's own database, say).
 */
function refuseLinks(file: string): void {
	for (const path of [file, `${file}-wal`, `${file}-shm`]) {
		if (!lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink()) continue;
		throw new StoreError(
			'STORE_NOT_SUPPORTED',
			`The local coupon file ${file} cannot be opened: ${path} is a symbolic link (to ${readlinkSync(path)}), which the Local storage does not follow`,
			'Replace the link with the file itself, or set N8N_USER_FOLDER to the folder that holds the file.',
		);
	}
}

/**
 * A connection to the file, refused on a Node whose node:sqlite lacks what the store needs, or
 * where a symbolic link stands for the file.
 */
function connect(location: string | URL, options: DatabaseSyncOptions): DatabaseSync {
	refuseLinks(typeof location === 'string' ? location : fileURLToPath(location));
	const { DatabaseSync } = sqliteModule();
	const connection = new DatabaseSync(location, { timeout: BUSY_TIMEOUT_MS, ...options });
	// Before 22.16 the module exists without it: a failed run could not be rolled back.
	if (typeof connection.isTransaction !== 'boolean') {
		connection.close();
		throw olderNode();
	}
	return connection;
}

/**
 * One SQLite file, opened once per process and shared by every execution in it. Node's SQLite is
 * synchronous and one connection holds one transaction. Writes share one connection and take turns
 * on it (`exclusive`); other processes on the host are kept out by SQLite's write lock (`BEGIN
 * IMMEDIATE`). Reads each get a read-only connection of their own (`reading`): in WAL mode it reads
 * a snapshot, so it waits neither for this process's writes nor for another's.
 */
export class LocalDatabase {
	private writer?: DatabaseSync;
	private queue: Promise<void> = Promise.resolve();
	/** Every open read connection, idle or in use. */
	private readonly readers = new Set<DatabaseSync>();
	/** The read connections no read is using, at most IDLE_READERS. */
	private idleReaders: DatabaseSync[] = [];
	/** Set once this process has found the file's schema current, migrating it if it had to. */
	migrated = false;
	/** Merges the WAL into the file off the event loop, after writes; none where threads fail. */
	private checkpointer?: WalCheckpointer;

	constructor(
		readonly file: string,
		/** How long a transaction waits for another process's write lock. */
		readonly lockWaitMs = LOCK_WAIT_MS,
	) {}

	/**
	 * Runs `work` on the write connection when every earlier writer in this process has finished
	 * with it. Refused at once when the file is read-only.
	 */
	async exclusive<T>(work: (connection: DatabaseSync) => Promise<T>): Promise<T> {
		const previous = this.queue;
		let done!: () => void;
		this.queue = new Promise((resolveTurn) => (done = resolveTurn));
		await previous;
		try {
			return await work(await this.openWriter());
		} finally {
			done();
		}
	}

	/**
	 * Runs `work` at once on a read-only connection of its own, which cannot write: it waits for no
	 * writer (the caller begins a deferred transaction) and for no other read. The file must exist.
	 */
	async reading<T>(work: (connection: DatabaseSync) => Promise<T>): Promise<T> {
		const reader = this.idleReaders.pop() ?? this.openReader();
		try {
			return await work(reader);
		} finally {
			// A read keeps nothing: ending its transaction lets its snapshot go.
			this.rollBack(reader);
			if (reader.isOpen && this.readers.has(reader) && this.idleReaders.length < IDLE_READERS)
				this.idleReaders.push(reader);
			else this.closeReader(reader);
		}
	}

	/**
	 * Whether the file exists and this process may not write it (its permissions, a read-only
	 * mount). SQLite would open it all the same, read-only without a word, and fail at the first
	 * write. Asked of the kernel without opening the file: closing a descriptor of a file SQLite has
	 * open would drop SQLite's locks on it.
	 */
	isReadOnly(): boolean {
		try {
			accessSync(this.file, constants.W_OK);
			return false;
		} catch (error) {
			return ['EACCES', 'EPERM', 'EROFS'].includes((error as NodeJS.ErrnoException).code ?? '');
		}
	}

	private async openWriter(): Promise<DatabaseSync> {
		if (this.writer?.isOpen) {
			// A turn that ended inside a transaction (it should not) must not leave it to the next one.
			if (this.writer.isTransaction) this.rollBack(this.writer);
			if (this.writer?.isOpen) return this.writer;
		}
		if (this.isReadOnly()) throw readOnlyFile(this.file);
		let connection: DatabaseSync | undefined;
		try {
			mkdirSync(dirname(this.file), { recursive: true });
			connection = connect(this.file, {});
			// WAL: readers never wait for the writer. FULL: a committed assignment survives a power cut.
			// Switching a new file to WAL needs the file to itself: processes opening it at once wait.
			await execWaiting(connection, 'PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;', this);
			// A big cache: a million-code import writes its index pages far fewer times.
			connection.exec(`PRAGMA cache_size = -${WRITER_CACHE_KIB}`);
			// SQLite would merge the WAL into the file inside the COMMIT that passes 1,000 pages: after a
			// million codes, a quarter of a second of the event loop. A thread of its own does it.
			this.checkpointer ??= WalCheckpointer.start(this.file);
			if (this.checkpointer) connection.exec('PRAGMA wal_autocheckpoint = 0');
			this.writer = connection;
			return connection;
		} catch (error) {
			connection?.close();
			throw describeSqliteError(error, this.file);
		}
	}

	private openReader(): DatabaseSync {
		let reader: DatabaseSync | undefined;
		try {
			reader = connect(this.file, { readOnly: true });
			// The first read opens the WAL index (the -shm file), which SQLite may be unable to create.
			reader.prepare('SELECT count(*) FROM sqlite_schema').get();
		} catch (error) {
			reader?.close();
			// A read-only mount fails with CANTOPEN, a folder without write permission with READONLY.
			const code = ((error as SqliteError).errcode ?? -1) % 256;
			const noWalIndex = code === SQLITE_CANTOPEN || code === SQLITE_READONLY;
			if (!noWalIndex || !readOnlyFolder(this.file)) throw describeSqliteError(error, this.file);
			reader = this.openUnchanging();
		}
		this.readers.add(reader);
		return reader;
	}

	/**
	 * A read-only connection to a file in a folder this process cannot write to, such as a backup on
	 * a read-only mount: SQLite cannot create the WAL index there, so the file is opened as unchanging
	 * (`immutable`: without locks or the WAL, trusting that nobody writes it meanwhile). Refused when
	 * the WAL holds writes not yet in the file, which that would miss.
	 */
	private openUnchanging(): DatabaseSync {
		const wal = `${this.file}-wal`;
		if ((statSync(wal, { throwIfNoEntry: false })?.size ?? 0) > 0)
			throw new StoreError(
				'STORE_READ_ONLY',
				`The local coupon file ${this.file} cannot be read: its folder is read-only, and writes not yet merged into the file wait in ${wal}`,
				`Open it once where n8n can write it, which merges them, or make a copy with SQLite's own backup (sqlite3 "${this.file}" ".backup copy.sqlite") and read that.`,
			);
		const location = pathToFileURL(this.file);
		location.searchParams.set('immutable', '1');
		try {
			return connect(location, { readOnly: true });
		} catch (error) {
			throw describeSqliteError(error, this.file);
		}
	}

	/**
	 * Ends the connection's transaction keeping nothing. If even that fails, the connection is
	 * closed (SQLite then rolls back) so that no later turn or other process finds the file locked.
	 */
	rollBack(connection: DatabaseSync): void {
		try {
			if (connection.isOpen && connection.isTransaction) connection.exec('ROLLBACK');
		} catch {
			if (connection === this.writer) this.closeWriter();
			else if (this.readers.has(connection)) this.closeReader(connection);
			else connection.close();
		}
	}

	/**
	 * Syncs the WAL file to disk on a thread of libuv's pool. SQLite holds no lock on the WAL file
	 * itself (its locks are on the database and -shm files), so opening and closing it here frees
	 * none of them.
	 */
	async syncWal(): Promise<void> {
		try {
			const wal = await open(`${this.file}-wal`, 'r');
			try {
				await wal.datasync();
			} finally {
				await wal.close();
			}
		} catch (error) {
			throw new StoreError(
				'STORE_WRITE_FAILED',
				`The local coupon file ${this.file} could not be written to disk: ${(error as Error).message}`,
				'The step may or may not have been saved. Check the coupons (Get Pool Statistics) before running it again.',
			);
		}
	}

	/** After a write transaction committed: the WAL is merged into the file on the checkpoint thread. */
	committed(): void {
		this.checkpointer?.request();
	}

	private closeWriter(): void {
		this.writer?.close();
		this.writer = undefined;
		this.migrated = false;
		this.checkpointer?.stop();
		this.checkpointer = undefined;
	}

	private closeReader(reader: DatabaseSync): void {
		if (reader.isOpen) reader.close();
		this.readers.delete(reader);
	}

	/** Closes every connection, reads in progress included; the next transaction opens them again. */
	close(): void {
		this.closeWriter();
		for (const reader of this.readers) this.closeReader(reader);
		this.idleReaders = [];
	}
}

/** The write connection's page cache, in KiB (SQLite's default is 2,000). */
const WRITER_CACHE_KIB = 32 * 1024;

/**
 * Merges the WAL into the database file on a worker thread of its own (a PASSIVE checkpoint: it
 * waits for no reader or writer), when asked after a commit: one at a time, and once more when
 * asked while it ran. The thread does not keep n8n running.
 */
class WalCheckpointer {
	private running = false;
	private again = false;

	private constructor(private readonly worker: Worker) {
		worker.on('message', () => {
			this.running = false;
			if (this.again) this.request();
		});
		// A thread that failed is not replaced: the WAL then grows until the next process merges it.
		worker.on('error', () => undefined);
		// After the listeners, which hold the thread's port open: unref'd, it lets n8n (or any
		// process) end.
		worker.unref();
	}

	/** A checkpointer for the file, or undefined where worker threads cannot start. */
	static start(file: string): WalCheckpointer | undefined {
		try {
			return new WalCheckpointer(new Worker(CHECKPOINT_THREAD, { eval: true, workerData: file }));
		} catch {
			return undefined;
		}
	}

	request(): void {
		if (this.running) {
			this.again = true;
			return;
		}
		this.running = true;
		this.again = false;
		this.worker.postMessage('checkpoint');
	}

	stop(): void {
		void this.worker.terminate();
	}
}

/** The checkpoint thread: its own connection, a PASSIVE checkpoint per message, any error ignored. */
const CHECKPOINT_THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const { DatabaseSync } = require('node:sqlite');
let database;
parentPort.on('message', () => {
	try {
		database ??= new DatabaseSync(workerData, { timeout: 1000 });
		database.exec('PRAGMA wal_checkpoint(PASSIVE)');
	} catch {
		// Busy or gone: the next request tries again.
	}
	parentPort.postMessage('done');
});
`;

/** Whether this process may not create files in the file's folder (the WAL's -shm file). */
function readOnlyFolder(file: string): boolean {
	try {
		accessSync(dirname(file), constants.W_OK);
		return false;
	} catch {
		return true;
	}
}

const readOnlyFile = (file: string) =>
	new StoreError(
		'STORE_READ_ONLY',
		`The local coupon file ${file} is read-only (its permissions or its file system do not let n8n write it), and this step changes coupons`,
		'Validate Code, Get Pool Statistics, Get Contact Coupons and Export Codes work on a read-only file. To change coupons, let the user n8n runs as write the file and its folder, or mount it writable.',
	);

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

/**
 * Whether SQLite refused a write because the connection or the file is read-only: READONLY itself,
 * not its extended codes, which say that the WAL's own files could not be used.
 */
export const isReadOnlyRefusal = (error: unknown): boolean =>
	(error as SqliteError).errcode === SQLITE_READONLY;

/** Begins a write transaction, waiting for another process that holds the file's write lock. */
export async function beginImmediate(
	connection: DatabaseSync,
	database: Pick<LocalDatabase, 'file' | 'lockWaitMs'>,
): Promise<void> {
	await execWaiting(connection, 'BEGIN IMMEDIATE', database);
}

/**
 * Begins a read transaction and takes its WAL snapshot at once, with no lock that a writer holds.
 * Only in rare moments (another connection recovering the WAL after a crash) does SQLite make a
 * reader wait: waited out as a write lock is, with the event loop free.
 */
export async function beginReading(
	connection: DatabaseSync,
	database: Pick<LocalDatabase, 'file' | 'lockWaitMs'>,
): Promise<void> {
	connection.exec('BEGIN');
	await execWaiting(connection, 'SELECT count(*) FROM sqlite_schema', database);
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
		'STORE_BUSY',
		`The local coupon file ${file} stayed locked by another process for more than ${waitedMs / 1000} seconds`,
		'Nothing of this step was saved. Run it again; if it keeps happening, another program holds the file open in a transaction.',
	);

/** A StoreError that names the file and what to do, for an error of node:sqlite. */
export function describeSqliteError(error: unknown, file: string): Error {
	if (error instanceof StoreError) return error;
	const { errcode, message } = error as SqliteError;
	const failed = (errorCode: ErrorCode, problem: string, fix: string) =>
		new StoreError(errorCode, `The local coupon file ${file} ${problem}`, fix);
	switch ((errcode ?? -1) % 256) {
		case SQLITE_BUSY:
			return lockedTooLong(file, BUSY_TIMEOUT_MS);
		case SQLITE_READONLY:
		case SQLITE_CANTOPEN:
			return failed(
				'STORE_ACCESS_DENIED',
				`cannot be opened for writing: ${message}`,
				"Give the user n8n runs as the right to write that file and its folder (n8n's user folder), or set N8N_USER_FOLDER.",
			);
		case SQLITE_FULL:
			return failed(
				'STORE_WRITE_FAILED',
				'could not grow: the disk is full',
				'Nothing of this step was saved. Free disk space, then run it again.',
			);
		case SQLITE_CORRUPT:
		case SQLITE_NOTADB:
			return failed(
				'STORE_DAMAGED',
				`is damaged or not an SQLite database: ${message}`,
				'Restore it from a backup, or move it away to start with no coupons.',
			);
		default:
			return failed(
				'STORE_FAILED',
				`failed: ${message}`,
				'Nothing of this step was saved. Run it again.',
			);
	}
}
