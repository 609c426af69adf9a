import { writeFileSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { StoreError } from '../../nodes/shared/core/errors';
import { LocalStore } from '../../nodes/shared/store/local/LocalStore';
import { LOCAL_SCHEMA_VERSION, MIGRATIONS } from '../../nodes/shared/store/local/migrations';
import { parseCodeRequest, redeemCodes, validateCodes } from '../../nodes/shared/core/checkout';
import { undoRedemptions } from '../../nodes/shared/core/undo';
import { LocalDatabase, localDatabase } from '../../nodes/shared/transport/sqlite';
import { failureOf } from '../helpers/executeFunctions';
import { temporaryLocalFile } from '../helpers/localFiles';
import { assignInProcesses } from './assignProcesses';
import { HEAVY_TEST_MS } from '../helpers/timeouts';

const caught = async (run: Promise<unknown>) => await failureOf(run, StoreError);

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

	it('upgrades a version 1 file holding coupons in place, a redemption in it counting as one use', async () => {
		const old = new DatabaseSync(file);
		old.exec(`PRAGMA journal_mode = WAL; ${MIGRATIONS[0].sql}`);
		old.exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT;
			INSERT INTO schema_migrations VALUES (1, 0);
			INSERT INTO pools (id, name, name_key, kind, code_count, created_at) VALUES (1, 'Old', 'old', 'imported', 3, 0);
			INSERT INTO codes (pool_id, code_key, code, rank, contact_key, assigned_at, valid_until, redeemed_at, order_reference) VALUES
				(1, 'FREE', 'FREE', 0.5, NULL, NULL, NULL, NULL, NULL),
				(1, 'HELD', 'HELD', 0.1, 'ann', 1000, 9000, NULL, NULL),
				(1, 'USED', 'USED', 0.2, 'bob', 1000, 9000, 2000, 'A-1');`);
		old.close();
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
			const store = new LocalStore(new LocalDatabase(file, 600));
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
			const { LocalStore: Store } = await import('../../nodes/shared/store/local/LocalStore');
			const { localDatabase: open } = await import('../../nodes/shared/transport/sqlite');
			const { StoreError: IsolatedStoreError } = await import('../../nodes/shared/core/errors');
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
