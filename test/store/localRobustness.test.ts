import { execFileSync } from 'node:child_process';
import {
	chmodSync,
	copyFileSync,
	existsSync,
	mkdtempSync,
	readFileSync,
	readdirSync,
	rmSync,
	statSync,
	symlinkSync,
	writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { NodeApiError, type IDataObject } from 'n8n-workflow';
import { ContactCoupon } from '../../nodes/ContactCoupon/ContactCoupon.node';
import { codeKey } from '../../nodes/shared/core/codes/codes';
import { StoreError } from '../../nodes/shared/core/common/errors';
import { LocalStore } from '../../nodes/shared/stores/local/LocalStore';
import { LOCAL_SCHEMA_VERSION, MIGRATIONS } from '../../nodes/shared/stores/local/migrations';
import {
	parseCodeRequest,
	redeemCodes,
	validateCodes,
} from '../../nodes/shared/core/checkout/checkout';
import { undoRedemptions } from '../../nodes/shared/core/checkout/undo';
import {
	LOCAL_FILE_NAME,
	LocalDatabase,
	closeLocalDatabase,
	localDatabase,
} from '../../nodes/shared/transport/sqlite';
import { failureOf, jsonItems, mockExecuteFunctions } from '../helpers/executeFunctions';
import { temporaryLocalFile } from '../helpers/localFiles';
import { candidatesFrom } from '../helpers/imports';
import { assignInProcesses } from './assignProcesses';
import { HEAVY_TEST_MS } from '../helpers/timeouts';

const caught = async (run: Promise<unknown>) => await failureOf(run, StoreError);

/** A file as version 1 of the package left it: a free code, a held one and a redeemed one. */
function writeVersion1File(path: string): void {
	const old = new DatabaseSync(path);
	old.exec(`PRAGMA journal_mode = WAL; ${MIGRATIONS[0].sql}`);
	old.exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT;
		INSERT INTO schema_migrations VALUES (1, 0);
		INSERT INTO pools (id, name, name_key, kind, code_count, created_at) VALUES (1, 'Old', 'old', 'imported', 3, 0);
		INSERT INTO codes (pool_id, code_key, code, rank, contact_key, assigned_at, valid_until, redeemed_at, order_reference) VALUES
			(1, 'FREE', 'FREE', 0.5, NULL, NULL, NULL, NULL, NULL),
			(1, 'HELD', 'HELD', 0.1, 'ann', 1000, 9000, NULL, NULL),
			(1, 'USED', 'USED', 0.2, 'bob', 1000, 9000, 2000, 'A-1');`);
	old.close();
}

describe('LocalStore', () => {
	let file: string;
	let remove: () => void;
	beforeEach(() => ({ file, remove } = temporaryLocalFile('robust')));
	afterEach(() => remove());

	const createPool = async (store: LocalStore, name = 'P') =>
		await store.transaction(async (s) => await s.createPool(name, 'imported'));

	/** Another process's connection holding the file's write lock until `release` is called. */
	function holdWriteLock(): { release: () => void } {
		const other = new DatabaseSync(file);
		other.exec('BEGIN IMMEDIATE');
		other.exec(
			"INSERT INTO pools (name, name_key, kind, created_at) VALUES ('held', 'held', 'imported', 0)",
		);
		return {
			release: () => {
				other.exec('COMMIT');
				other.close();
			},
		};
	}

	it('upgrades a version 1 file on a first read, then reads it', async () => {
		writeVersion1File(file);
		const checks = await new LocalStore(localDatabase(file)).transaction(
			async (s) =>
				await validateCodes(
					s,
					['FREE', 'HELD', 'USED'].map((code) => parseCodeRequest(code, {})),
					3000,
				),
			{ readOnly: true },
		);
		expect(checks.map((c) => 'value' in c && c.value.status)).toEqual([
			'not_assigned',
			'valid',
			'redeemed',
		]);
		const check = new DatabaseSync(file, { readOnly: true });
		const versions = check.prepare('SELECT version FROM schema_migrations ORDER BY version').all();
		check.close();
		expect(versions).toHaveLength(LOCAL_SCHEMA_VERSION);
	});

	it('stages an import without the write lock, and loses it, saying so, if the connection was reopened', async () => {
		const database = localDatabase(file);
		const store = new LocalStore(database);
		await store.transaction(async (s) => await s.createPool('Staged', 'imported'));
		const error = await caught(
			store.withStaging(async (staging) => {
				const list = staging.newList();
				await staging.stage(list, candidatesFrom(2));
				// Staging keeps no write lock: another process writes meanwhile.
				const other = new DatabaseSync(file, { timeout: 0 });
				other.exec('BEGIN IMMEDIATE; ROLLBACK;');
				other.close();
				// Closing the connection drops its temporary table with the codes staged on it.
				database.close();
				await staging.stage(list, candidatesFrom(5));
				return await staging.transaction(async (s) => await s.addStaged('Staged', list));
			}),
		);
		expect(error).toMatchObject({ code: 'STORE_CONNECTION_LOST' });
		expect(error.message).toContain('The codes read so far were lost');
		expect((await store.transaction(async (s) => await s.findPool('Staged')))!.codeCount).toBe(0);
	});

	it('creates the file on a first read, as on a first write', async () => {
		const pools = await new LocalStore(localDatabase(file)).transaction(
			async (s) => await s.listPools(),
			{ readOnly: true },
		);
		expect(pools).toEqual([]);
		const check = new DatabaseSync(file, { readOnly: true });
		const versions = check.prepare('SELECT version FROM schema_migrations').all();
		check.close();
		expect(versions).toHaveLength(LOCAL_SCHEMA_VERSION);
	});

	it('fails a write inside a read-only transaction as a bug, keeping nothing, and reads holding no write lock', async () => {
		const store = new LocalStore(localDatabase(file));
		await createPool(store);
		const error = await failureOf(
			store.transaction(
				async (s) => {
					expect(await s.findPool('P')).toBeDefined();
					// Another connection can take the write lock at once: the read holds none.
					const other = new DatabaseSync(file, { timeout: 0 });
					other.exec('BEGIN IMMEDIATE; ROLLBACK;');
					other.close();
					await s.createPool('Q', 'imported');
				},
				{ readOnly: true },
			),
			Error,
		);
		expect(error.message).toBe(
			`A read-only transaction tried to write to the local coupon file ${file}: a bug in n8n-nodes-coupons, please report it`,
		);
		expect(await store.transaction(async (s) => await s.findPool('Q'))).toBeUndefined();
	});

	it('upgrades a version 1 file holding coupons in place, a redemption in it counting as one use', async () => {
		writeVersion1File(file);
		const store = new LocalStore(localDatabase(file));
		const [checks, undo, redeemed] = await store.transaction(async (s) => [
			await validateCodes(
				s,
				['FREE', 'HELD', 'USED'].map((code) => parseCodeRequest(code, {})),
				3000,
			),
			await undoRedemptions(s, [parseCodeRequest('USED', { orderReference: 'A-1' })], 3000),
			await redeemCodes(s, [parseCodeRequest('HELD', { orderReference: 'B-2' })], 3000),
		]);
		expect(checks.map((c) => 'value' in c && c.value.status)).toEqual([
			'not_assigned',
			'valid',
			'redeemed',
		]);
		expect(undo[0]).toMatchObject({
			value: { undone: true, coupon: { status: 'active', uses: 0 } },
		});
		expect(redeemed[0]).toMatchObject({
			value: { accepted: true, coupon: { status: 'redeemed' } },
		});
		const check = new DatabaseSync(file, { readOnly: true });
		const versions = check.prepare('SELECT version FROM schema_migrations ORDER BY version').all();
		const rows = check.prepare('SELECT code, uses, redeemed_at FROM codes ORDER BY code').all();
		check.close();
		expect(versions.map((row) => row.version)).toEqual(
			Array.from({ length: LOCAL_SCHEMA_VERSION }, (_, i) => i + 1),
		);
		expect(rows).toEqual([
			{ code: 'FREE', uses: null, redeemed_at: null },
			{ code: 'HELD', uses: 1, redeemed_at: 3000 },
			{ code: 'USED', uses: 0, redeemed_at: null },
		]);
	});

	it(
		'waits for another process that holds the write lock, keeping the event loop free',
		async () => {
			const store = new LocalStore(localDatabase(file));
			await createPool(store);
			const lock = holdWriteLock();
			let ticks = 0;
			const ticker = setInterval(() => ticks++, 10);
			setTimeout(() => lock.release(), 1_000);
			const started = Date.now();
			const pools = await store
				.transaction(async (s) => await s.listPools())
				.finally(() => clearInterval(ticker));
			expect(Date.now() - started).toBeGreaterThanOrEqual(900);
			// It saw what the other process committed, and timers ran while it waited.
			expect(pools.map((pool) => pool.name)).toEqual(['held', 'P']);
			expect(ticks).toBeGreaterThan(40);
		},
		HEAVY_TEST_MS,
	);

	it(
		'gives up on a lock held too long, naming the file, and changes nothing',
		async () => {
			await createPool(new LocalStore(localDatabase(file)));
			const database = new LocalDatabase(file, 600);
			const store = new LocalStore(database);
			const lock = holdWriteLock();
			try {
				const error = await caught(
					store.transaction(async (s) => await s.createPool('Q', 'imported')),
				);
				expect(error.message).toBe(
					`The local coupon file ${file} stayed locked by another process for more than 0.6 seconds`,
				);
				expect(error.description).toMatch(/^Nothing of this step was saved/);
			} finally {
				lock.release();
			}
			expect(await store.transaction(async (s) => await s.findPool('Q'))).toBeUndefined();
			database.close();
		},
		HEAVY_TEST_MS,
	);

	it('migrates a new file once, even when several processes open it at once', async () => {
		const results = await assignInProcesses(`local:${file}`, {
			processes: 4,
			rounds: 1,
			uniquePerRound: 5,
			shared: 0,
		});
		expect(results.filter((r) => r.error)).toEqual([]);
		const check = new DatabaseSync(file, { readOnly: true });
		const versions = check.prepare('SELECT version FROM schema_migrations').all();
		const journal = check.prepare('PRAGMA journal_mode').get();
		check.close();
		expect(versions.map((row) => row.version)).toEqual(
			Array.from({ length: LOCAL_SCHEMA_VERSION }, (_, i) => i + 1),
		);
		expect(journal).toEqual({ journal_mode: 'wal' });
	}, 60_000);

	it('refuses a file written by a newer version of the package', async () => {
		await createPool(new LocalStore(localDatabase(file)));
		const newer = new DatabaseSync(file);
		newer
			.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, 0)')
			.run(LOCAL_SCHEMA_VERSION + 1);
		newer.close();
		const error = await caught(
			new LocalStore(new LocalDatabase(file)).transaction(async (s) => await s.listPools()),
		);
		expect(error.message).toBe(
			`The local coupon file ${file} has schema version ${LOCAL_SCHEMA_VERSION + 1}, newer than this version of n8n-nodes-coupons knows (${LOCAL_SCHEMA_VERSION})`,
		);
		expect(error.description).toBe('Update n8n-nodes-coupons to the latest version.');
	});

	it(
		'merges the WAL into the file after a commit, off the event loop (a process that wrote still ends: the migration test)',
		async () => {
			const store = new LocalStore(localDatabase(file));
			await store.transaction(async (s) => {
				await s.createPool('BIG', 'imported');
				await s.addImported(
					'BIG',
					Array.from({ length: 20_000 }, (_, i) => ({ code: `C${i}`, key: `C${i}`, row: i + 2 })),
				);
			});
			// The codes reach the file itself only by a checkpoint, which SQLite no longer runs in COMMIT.
			for (let i = 0; i < 300 && statSync(file).size < 500_000; i++)
				await new Promise((resolve) => setTimeout(resolve, 100));
			expect(statSync(file).size).toBeGreaterThan(500_000);
		},
		HEAVY_TEST_MS,
	);

	it('refuses a symbolic link at the file or its WAL, for reads and writes, changing nothing', async () => {
		// Whoever can write n8n's folder could point the coupon file at n8n's own database.
		const target = `${file}.target`;
		writeFileSync(target, 'n8n database');
		symlinkSync(target, file);
		for (const readOnly of [false, true]) {
			const error = await caught(
				new LocalStore(new LocalDatabase(file)).transaction(async (s) => await s.listPools(), {
					readOnly,
				}),
			);
			expect(error.message).toBe(
				`The local coupon file ${file} cannot be opened: ${file} is a symbolic link (to ${target}), which the Local storage does not follow`,
			);
		}
		expect(readFileSync(target, 'utf8')).toBe('n8n database');
		rmSync(file);
		symlinkSync(target, `${file}-wal`);
		const wal = await caught(
			new LocalStore(new LocalDatabase(file)).transaction(async (s) => await s.listPools()),
		);
		expect(wal.message).toMatch(/-wal is a symbolic link/);
		expect(readFileSync(target, 'utf8')).toBe('n8n database');
	});

	it('says that a file which is not a coupon database is damaged, naming it', async () => {
		writeFileSync(file, 'this is not a database, '.repeat(100));
		const error = await caught(
			new LocalStore(localDatabase(file)).transaction(async (s) => await s.listPools()),
		);
		expect(error.message).toMatch(
			`The local coupon file ${file} is damaged or not an SQLite database`,
		);
		expect(error.description).toMatch(/Restore it from a backup/);
	});

	it('rolls back a transaction an earlier turn left open, so that neither it nor the file stays stuck', async () => {
		const database = localDatabase(file);
		const store = new LocalStore(database);
		await createPool(store);
		await database.exclusive(async (connection) => {
			connection.exec('BEGIN IMMEDIATE');
			connection.exec(
				"INSERT INTO pools (name, name_key, kind, created_at) VALUES ('left', 'left', 'imported', 0)",
			);
		});
		const pools = await store.transaction(async (s) => await s.listPools());
		expect(pools.map((pool) => pool.name)).toEqual(['P']);
		// Another process can write again at once.
		const other = new DatabaseSync(file, { timeout: 0 });
		expect(() => other.exec('BEGIN IMMEDIATE; ROLLBACK;')).not.toThrow();
		other.close();
	});

	it('refuses a second holder, a redemption that does not count its use, or a second replacement in the file itself', async () => {
		const store = new LocalStore(localDatabase(file));
		await store.transaction(async (s) => {
			await s.createPool('P', 'imported');
			await s.addImported('P', [{ code: 'A-1', key: 'A1', row: 2 }]);
			await s.assignImported('P', [{ contactKey: 'ann', assignedAt: 1, validUntil: 2 }]);
			await s.markReplaced('P', ['A-1'], 1);
		});
		const raw = new DatabaseSync(file);
		try {
			expect(() => raw.exec("UPDATE codes SET contact_key = 'bob'")).toThrow(
				'code is already assigned',
			);
			expect(() => raw.exec('UPDATE codes SET redeemed_at = 5')).toThrow(
				'a redemption must count its use',
			);
			expect(() => raw.exec('UPDATE codes SET replaced_at = 5')).toThrow(
				'code was already replaced',
			);
			expect(() => raw.exec('UPDATE codes SET uses = 1, redeemed_at = 5')).toThrow(
				'CHECK constraint failed',
			);
			expect(() => raw.exec("UPDATE codes SET code_key = 'B'")).toThrow(
				'a code cannot change or move',
			);
		} finally {
			raw.close();
		}
	});
});

/**
 * Makes `folder` and the files in it read-only for this process, as a read-only mount or another
 * user's folder would be. Tests run as root in CI containers, where permissions stop no write: root
 * gets a read-only bind mount of the folder onto itself (which needs CAP_SYS_ADMIN), other users a
 * chmod. Returns what undoes it, or undefined when this machine allows neither.
 */
function makeReadOnly(folder: string): (() => void) | undefined {
	if (process.getuid?.() !== 0) {
		const files = readdirSync(folder).map((name) => join(folder, name));
		for (const path of files) chmodSync(path, 0o444);
		chmodSync(folder, 0o555);
		return () => {
			chmodSync(folder, 0o755);
			for (const path of files) chmodSync(path, 0o644);
		};
	}
	try {
		execFileSync('mount', ['--bind', folder, folder], { stdio: 'ignore' });
	} catch {
		return undefined;
	}
	try {
		execFileSync('mount', ['-o', 'remount,bind,ro', folder], { stdio: 'ignore' });
	} catch {
		execFileSync('umount', [folder]);
		return undefined;
	}
	return () => execFileSync('umount', [folder]);
}

/** Whether this machine lets the tests make a folder read-only (see makeReadOnly). */
function readOnlyFoldersWork(): boolean {
	const folder = mkdtempSync(join(tmpdir(), 'coupons-read-only-probe-'));
	try {
		const undo = makeReadOnly(folder);
		undo?.();
		return undo !== undefined;
	} finally {
		rmSync(folder, { recursive: true, force: true });
	}
}

const withReadOnlyFolders = readOnlyFoldersWork();
if (!withReadOnlyFolders)
	console.warn(
		'\n*** The read-only file tests are SKIPPED: running as root without the right to mount (CAP_SYS_ADMIN), this machine cannot make a folder read-only. ***\n',
	);

(withReadOnlyFolders ? describe : describe.skip)('a read-only local coupon file', () => {
	let file: string;
	let folder: string;
	let remove: () => void;
	let writable: (() => void) | undefined;
	beforeEach(() => {
		({ file, remove } = temporaryLocalFile('read-only'));
		folder = dirname(file);
	});
	afterEach(() => {
		// Unmounting needs the file closed.
		closeLocalDatabase(file);
		writable?.();
		writable = undefined;
		remove();
	});

	/** Closes the file (SQLite then merges and removes its WAL) and makes its folder read-only. */
	const closeAndMakeReadOnly = () => {
		closeLocalDatabase(file);
		writable = makeReadOnly(folder);
		if (!writable) throw new Error(`could not make ${folder} read-only`);
	};

	const contactCoupon = async (parameters: IDataObject): Promise<IDataObject[]> => {
		const { context } = mockExecuteFunctions({
			items: jsonItems({}),
			n8nFolder: folder,
			parameters: { storage: 'local', options: {}, ...parameters },
		});
		const [output] = await new ContactCoupon().execute.call(context);
		return output.map((item) => item.json);
	};

	it('serves Validate, Statistics, Contact card and Export, and refuses changes saying the file is read-only', async () => {
		await new LocalStore(localDatabase(file)).transaction(async (s) => {
			await s.createPool('SPRING', 'imported');
			await s.addImported(
				'SPRING',
				['SPR-1', 'SPR-2', 'SPR-3'].map((code, i) => ({ code, key: codeKey(code), row: i + 2 })),
			);
			await s.assignImported('SPRING', [
				{ contactKey: 'ann@example.com', assignedAt: Date.now(), validUntil: Date.now() + 1e9 },
			]);
		});
		closeAndMakeReadOnly();
		const before = readFileSync(file);
		expect(() => writeFileSync(join(folder, 'probe'), '')).toThrow();

		const [card] = await contactCoupon({ operation: 'getForContact', contact: 'ann@example.com' });
		const [{ code }] = card.coupons as Array<{ code: string }>;
		const [checked] = await contactCoupon({ operation: 'validate', code });
		expect(checked.validation).toMatchObject({ code, status: 'valid' });
		const statistics = await contactCoupon({ operation: 'stats', couponName: '' });
		expect(statistics).toEqual([expect.objectContaining({ name: 'SPRING', assigned: 1 })]);
		const [exported] = await contactCoupon({
			operation: 'exportCodes',
			couponName: 'SPRING',
			status: 'all',
			options: { fileFormat: 'csv' },
		});
		expect(exported).toMatchObject({ couponName: 'SPRING', rows: 3 });

		const refusal = `The local coupon file ${file} is read-only (its permissions or its file system do not let n8n write it), and this step changes coupons`;
		const error = await failureOf(
			contactCoupon({
				operation: 'generate',
				couponName: 'SPRING',
				contact: 'bob@example.com',
				length: 8,
				validDays: 30,
			}),
			NodeApiError,
		);
		expect(error.message).toBe(refusal);
		expect(error.description).toMatch(/^Validate Code, Get Pool Statistics, Get Contact Coupons/);
		// A dry run writes before it rolls back: it needs the write lock, which a read-only file has not.
		const dryRun = await caught(
			new LocalStore(localDatabase(file)).transaction(
				async (s) => await s.createPool('DRY', 'imported'),
				{ rollBack: true },
			),
		);
		expect(dryRun.message).toBe(refusal);
		expect(readFileSync(file).equals(before)).toBe(true);
		expect(readdirSync(folder)).toEqual([LOCAL_FILE_NAME]);
	});

	it('refuses to read a file whose writes still wait in its WAL, which a read-only folder hides', async () => {
		await new LocalStore(localDatabase(file)).transaction(
			async (s) => await s.createPool('SAVED', 'imported'),
		);
		// A copy of the file while a connection that never merges its WAL is open, as a crash leaves it.
		const live = new DatabaseSync(file);
		live.exec('PRAGMA wal_autocheckpoint = 0');
		live.exec(
			"INSERT INTO pools (name, name_key, kind, created_at) VALUES ('LATE', 'late', 'imported', 0)",
		);
		closeLocalDatabase(file);
		const copy = join(mkdtempSync(join(tmpdir(), 'coupons-wal-copy-')), LOCAL_FILE_NAME);
		copyFileSync(file, copy);
		copyFileSync(`${file}-wal`, `${copy}-wal`);
		live.close();
		try {
			writable = makeReadOnly(dirname(copy));
			const error = await caught(
				new LocalStore(localDatabase(copy)).transaction(async (s) => await s.listPools(), {
					readOnly: true,
				}),
			);
			expect(error.message).toBe(
				`The local coupon file ${copy} cannot be read: its folder is read-only, and writes not yet merged into the file wait in ${copy}-wal`,
			);
		} finally {
			closeLocalDatabase(copy);
			writable?.();
			writable = undefined;
			rmSync(dirname(copy), { recursive: true, force: true });
		}
	});

	it('refuses to read a file of an older schema, which it cannot upgrade', async () => {
		writeVersion1File(file);
		closeAndMakeReadOnly();
		const error = await caught(
			new LocalStore(localDatabase(file)).transaction(async (s) => await s.listPools(), {
				readOnly: true,
			}),
		);
		expect(error.message).toBe(
			`The local coupon file ${file} is read-only, and its schema is older than this version of n8n-nodes-coupons reads (version ${LOCAL_SCHEMA_VERSION})`,
		);
		expect(existsSync(`${file}-wal`)).toBe(false);
	});
});

describe('the Local storage on a Node without what it needs of node:sqlite', () => {
	it.each([
		[
			'no node:sqlite at all (Node 20)',
			() => {
				throw new Error('No such built-in module: node:sqlite');
			},
		],
		// Node 22.13 to 22.15: the module, but no isTransaction, so a failed run could not be rolled back.
		[
			'node:sqlite without isTransaction (Node 22.13)',
			() => ({
				DatabaseSync: class {
					close() {}
				},
			}),
		],
	])('refuses with the Node version it needs and the storages that work: %s', async (_, sqlite) => {
		await jest.isolateModulesAsync(async () => {
			jest.doMock('node:sqlite', sqlite);
			const { LocalStore: Store } = await import('../../nodes/shared/stores/local/LocalStore');
			const { localDatabase: open } = await import('../../nodes/shared/transport/sqlite');
			const { StoreError: IsolatedStoreError } =
				await import('../../nodes/shared/core/common/errors');
			const { file, remove } = temporaryLocalFile('old-node');
			try {
				const error = await failureOf(
					new Store(open(file)).transaction(async (s) => await s.listPools()),
					IsolatedStoreError,
				);
				expect(error.message).toBe(
					`The Local storage needs Node.js 22.16 or later (n8n 2.x runs on Node 24); this n8n runs on Node ${process.versions.node}`,
				);
				expect(error.description).toBe(
					'Update n8n, or choose Workflow Static Data or Database (PostgreSQL) as the storage.',
				);
			} finally {
				remove();
			}
		});
	});
});
