import type { DatabaseSync } from 'node:sqlite';
import { StoreError } from '../../core/common/errors';
import { beginImmediate, type LocalDatabase } from '../../transport/sqlite';

/**
 * Versioned schema changes of the local coupon file, applied in order, each once, as PostgreSQL's
 * are. Never edit a released one: add another. Times are epoch milliseconds. The file itself
 * forbids a second holder for a code and a second redemption, as PostgreSQL's triggers do.
 */
export const MIGRATIONS: Array<{ version: number; sql: string }> = [
	{
		version: 1,
		sql: `
			CREATE TABLE pools (
				id INTEGER PRIMARY KEY,
				name TEXT NOT NULL,
				name_key TEXT NOT NULL UNIQUE,
				kind TEXT NOT NULL CHECK (kind IN ('imported', 'generated')),
				code_count INTEGER NOT NULL DEFAULT 0,
				created_at INTEGER NOT NULL
			) STRICT;
			CREATE TABLE codes (
				pool_id INTEGER NOT NULL,
				code_key TEXT NOT NULL,
				code TEXT NOT NULL,
				-- Assignments take the lowest rank first: a random order fixed at import.
				rank REAL NOT NULL,
				contact_key TEXT,
				assigned_at INTEGER,
				valid_until INTEGER,
				replaced_at INTEGER,
				redeemed_at INTEGER,
				order_reference TEXT,
				PRIMARY KEY (pool_id, code_key),
				CHECK ((contact_key IS NULL) = (assigned_at IS NULL) AND (assigned_at IS NULL) = (valid_until IS NULL)),
				CHECK (replaced_at IS NULL OR contact_key IS NOT NULL),
				CHECK (redeemed_at IS NULL OR contact_key IS NOT NULL),
				CHECK (order_reference IS NULL OR redeemed_at IS NOT NULL),
				CHECK (redeemed_at IS NULL OR replaced_at IS NULL)
			) STRICT, WITHOUT ROWID;
			CREATE INDEX codes_unassigned ON codes (pool_id, rank) WHERE contact_key IS NULL;
			CREATE INDEX codes_by_contact ON codes (pool_id, contact_key) WHERE contact_key IS NOT NULL;

			CREATE TRIGGER codes_assign_once BEFORE UPDATE OF contact_key, assigned_at, valid_until ON codes
			WHEN OLD.contact_key IS NOT NULL BEGIN
				SELECT RAISE(ABORT, 'code is already assigned');
			END;
			CREATE TRIGGER codes_end_once BEFORE UPDATE OF replaced_at, redeemed_at, order_reference ON codes
			WHEN OLD.replaced_at IS NOT NULL OR OLD.redeemed_at IS NOT NULL BEGIN
				SELECT RAISE(ABORT, 'code was already redeemed or replaced');
			END;
			CREATE TRIGGER codes_stay BEFORE UPDATE OF pool_id, code_key, code ON codes BEGIN
				SELECT RAISE(ABORT, 'a code cannot change or move');
			END;
		`,
	},
	{
		version: 2,
		// Checkout, as PostgreSQL's migration 3: new columns only (no rewrite, nothing back-filled: a
		// NULL use count means 1 use when redeemed_at is set and 0 otherwise), a table of uses, and
		// triggers that let a use be given back. An older version of the package refuses the file
		// (refuseNewer), so unlike PostgreSQL no older writer meets the new columns.
		sql: `
			ALTER TABLE pools ADD COLUMN uses_per_code INTEGER NOT NULL DEFAULT 1 CHECK (uses_per_code >= 1);
			ALTER TABLE pools ADD COLUMN details TEXT;
			ALTER TABLE codes ADD COLUMN uses INTEGER CHECK (uses >= 0);
			ALTER TABLE codes ADD COLUMN held_for TEXT;
			ALTER TABLE codes ADD COLUMN held_until INTEGER CHECK ((held_for IS NULL) = (held_until IS NULL));
			ALTER TABLE codes ADD COLUMN details TEXT;
			CREATE TABLE redemptions (
				pool_id INTEGER NOT NULL,
				code_key TEXT NOT NULL,
				n INTEGER NOT NULL CHECK (n >= 1),
				redeemed_at INTEGER NOT NULL,
				order_reference TEXT,
				undone_at INTEGER,
				undo_reason TEXT,
				PRIMARY KEY (pool_id, code_key, n)
			) STRICT, WITHOUT ROWID;

			DROP TRIGGER codes_end_once;
			CREATE TRIGGER codes_replaced_once BEFORE UPDATE OF replaced_at ON codes
			WHEN OLD.replaced_at IS NOT NULL BEGIN
				SELECT RAISE(ABORT, 'code was already replaced');
			END;
			CREATE TRIGGER codes_use_counted BEFORE UPDATE OF redeemed_at ON codes
			WHEN NEW.redeemed_at IS NOT OLD.redeemed_at AND NEW.uses IS OLD.uses BEGIN
				SELECT RAISE(ABORT, 'a redemption must count its use');
			END;
			CREATE TRIGGER codes_held_when_assigned BEFORE UPDATE OF held_for ON codes
			WHEN NEW.held_for IS NOT NULL AND OLD.contact_key IS NULL BEGIN
				SELECT RAISE(ABORT, 'only an assigned code can be held');
			END;
		`,
	},
	{
		version: 3,
		// The code format a coupon keeps and a code's own expiry, as PostgreSQL's migration 4.
		sql: `
			ALTER TABLE pools ADD COLUMN code_format TEXT;
			ALTER TABLE codes ADD COLUMN expires_at INTEGER;
		`,
	},
	{
		version: 4,
		// The Coupon Trigger's event indexes (triggerSql.ts) and cursors, as PostgreSQL's migration 5.
		sql: `
			CREATE TABLE trigger_cursors (
				trigger_key TEXT PRIMARY KEY,
				cursor TEXT NOT NULL,
				updated_at INTEGER NOT NULL
			) STRICT;
			CREATE INDEX redemptions_by_time ON redemptions (redeemed_at);
			CREATE INDEX redemptions_by_undo ON redemptions (undone_at) WHERE undone_at IS NOT NULL;
			CREATE INDEX codes_by_hold_end ON codes (held_until) WHERE held_for IS NOT NULL;
			CREATE INDEX codes_by_end ON codes (valid_until)
				WHERE valid_until IS NOT NULL AND replaced_at IS NULL AND redeemed_at IS NULL;
			CREATE INDEX codes_by_assignment ON codes (assigned_at)
				WHERE assigned_at IS NOT NULL AND replaced_at IS NULL AND redeemed_at IS NULL;
		`,
	},
	{
		version: 5,
		// Shared codes (Uses per Customer), as PostgreSQL's migration 6: a use's customer, and the
		// indexes a checkout reads a shared code's uses of one customer or order by (only shared
		// codes' uses have a customer).
		sql: `
			ALTER TABLE pools ADD COLUMN uses_per_customer INTEGER CHECK (uses_per_customer >= 1);
			ALTER TABLE redemptions ADD COLUMN contact_key TEXT;
			CREATE INDEX redemptions_by_customer ON redemptions (pool_id, code_key, contact_key)
				WHERE contact_key IS NOT NULL;
			CREATE INDEX redemptions_by_order ON redemptions (pool_id, code_key, order_reference)
				WHERE contact_key IS NOT NULL;
		`,
	},
];

export const LOCAL_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

/** The versions applied to the file; none when it has no coupon tables yet. */
function appliedVersions(connection: DatabaseSync): number[] {
	const hasTable = connection
		.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'")
		.get();
	if (!hasTable) return [];
	return connection
		.prepare('SELECT version FROM schema_migrations')
		.all()
		.map((row) => Number(row.version));
}

/**
 * Brings the file's schema up to date. Safe when several processes open a new file at once: the
 * first takes the write lock, the others wait for it and then find the versions applied.
 */
export async function migrate(connection: DatabaseSync, database: LocalDatabase): Promise<void> {
	const { file } = database;
	if (!appliedVersions(connection).includes(LOCAL_SCHEMA_VERSION)) {
		await beginImmediate(connection, database);
		try {
			connection.exec(
				'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT',
			);
			const applied = new Set(appliedVersions(connection));
			for (const migration of MIGRATIONS) {
				if (applied.has(migration.version)) continue;
				connection.exec(migration.sql);
				connection
					.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)')
					.run(migration.version, Date.now());
			}
			connection.exec('COMMIT');
		} catch (error) {
			database.rollBack(connection);
			throw error;
		}
	}
	refuseNewer(connection, file);
}

/** A file written by a newer version of the package may hold what this one does not know. */
function refuseNewer(connection: DatabaseSync, file: string): void {
	const newest = Math.max(...appliedVersions(connection));
	if (newest > LOCAL_SCHEMA_VERSION)
		throw new StoreError(
			'STORE_NEWER',
			`The local coupon file ${file} has schema version ${newest}, newer than this version of n8n-nodes-coupons knows (${LOCAL_SCHEMA_VERSION})`,
			'Update n8n-nodes-coupons to the latest version.',
		);
}
