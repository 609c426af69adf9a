import type { PoolClient } from 'pg';

/** Advisory-lock class for schema migrations (the two-key form, apart from the coupon locks). */
const MIGRATION_LOCK_CLASS = 0x636f7570; // "coup"

/**
 * Versioned schema changes, applied in order, each once. Never edit a released one: add another.
 * The database itself forbids a second holder for a code: assignment columns are written once.
 */
export const MIGRATIONS: Array<{ version: number; sql: (schema: string) => string }> = [
	{
		version: 1,
		sql: (s) => `
			CREATE TABLE ${s}.pools (
				id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
				name text NOT NULL,
				name_key text NOT NULL UNIQUE,
				kind text NOT NULL CHECK (kind IN ('imported', 'generated')),
				code_count bigint NOT NULL DEFAULT 0,
				created_at timestamptz NOT NULL DEFAULT now()
			);
			CREATE TABLE ${s}.codes (
				-- No foreign key to pools: checked row by row it would double the time of a bulk import,
				-- and pools are never deleted.
				pool_id bigint NOT NULL,
				code_key text NOT NULL,
				code text NOT NULL,
				-- Claims take the lowest rank first: a random order fixed at import, without ORDER BY random().
				rank double precision NOT NULL DEFAULT random(),
				contact_key text,
				assigned_at timestamptz,
				valid_until timestamptz,
				replaced_at timestamptz,
				PRIMARY KEY (pool_id, code_key),
				CONSTRAINT codes_assignment_whole CHECK (
					(contact_key IS NULL) = (assigned_at IS NULL) AND (assigned_at IS NULL) = (valid_until IS NULL)
				),
				CONSTRAINT codes_replaced_when_assigned CHECK (replaced_at IS NULL OR contact_key IS NOT NULL)
			);
			-- Without it the planner walks the claimed rows and claims slow to a crawl as a pool drains.
			CREATE INDEX codes_unassigned ON ${s}.codes (pool_id, rank) WHERE contact_key IS NULL;
			CREATE INDEX codes_by_contact ON ${s}.codes (pool_id, contact_key) WHERE contact_key IS NOT NULL;

			-- One row per contact of a pool, locked while a run decides whether the contact holds a
			-- coupon. Row locks, unlike advisory locks, do not fill PostgreSQL's shared lock table.
			CREATE TABLE ${s}.contacts (
				pool_id bigint NOT NULL,
				contact_key text NOT NULL,
				PRIMARY KEY (pool_id, contact_key)
			);

			CREATE FUNCTION ${s}.codes_assign_once() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN
				IF OLD.contact_key IS NOT NULL AND (
					NEW.contact_key IS DISTINCT FROM OLD.contact_key
					OR NEW.assigned_at IS DISTINCT FROM OLD.assigned_at
					OR NEW.valid_until IS DISTINCT FROM OLD.valid_until
				) THEN
					RAISE EXCEPTION 'code % of pool % is already assigned', OLD.code, OLD.pool_id USING ERRCODE = 'integrity_constraint_violation';
				END IF;
				IF OLD.replaced_at IS NOT NULL AND NEW.replaced_at IS DISTINCT FROM OLD.replaced_at THEN
					RAISE EXCEPTION 'code % of pool % was already replaced', OLD.code, OLD.pool_id USING ERRCODE = 'integrity_constraint_violation';
				END IF;
				IF NEW.code_key IS DISTINCT FROM OLD.code_key OR NEW.pool_id IS DISTINCT FROM OLD.pool_id THEN
					RAISE EXCEPTION 'a code cannot change or move' USING ERRCODE = 'integrity_constraint_violation';
				END IF;
				RETURN NEW;
			END $$;
			CREATE TRIGGER codes_assign_once BEFORE UPDATE ON ${s}.codes FOR EACH ROW EXECUTE FUNCTION ${s}.codes_assign_once();
		`,
	},
	{
		version: 2,
		// Redemption at checkout. New nullable columns without defaults: no table rewrite. The checks
		// are NOT VALID because every existing row passes them (the columns are new), so a table of
		// millions of codes is not scanned under an exclusive lock; new and updated rows are checked.
		sql: (s) => `
			ALTER TABLE ${s}.codes
				ADD COLUMN redeemed_at timestamptz,
				ADD COLUMN order_reference text,
				ADD CONSTRAINT codes_redeemed_when_assigned CHECK (redeemed_at IS NULL OR contact_key IS NOT NULL) NOT VALID,
				ADD CONSTRAINT codes_order_with_redemption CHECK (order_reference IS NULL OR redeemed_at IS NOT NULL) NOT VALID;

			-- A redemption is written once; a replaced code cannot be redeemed, nor a redeemed one replaced.
			CREATE FUNCTION ${s}.codes_redeem_once() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN
				IF OLD.redeemed_at IS NOT NULL AND (
					NEW.redeemed_at IS DISTINCT FROM OLD.redeemed_at OR NEW.order_reference IS DISTINCT FROM OLD.order_reference
				) THEN
					RAISE EXCEPTION 'code % of pool % was already redeemed', OLD.code, OLD.pool_id USING ERRCODE = 'integrity_constraint_violation';
				END IF;
				IF NEW.redeemed_at IS NOT NULL AND NEW.replaced_at IS NOT NULL THEN
					RAISE EXCEPTION 'code % of pool % cannot be both redeemed and replaced', OLD.code, OLD.pool_id USING ERRCODE = 'integrity_constraint_violation';
				END IF;
				RETURN NEW;
			END $$;
			-- Only for updates naming these columns: claims, the hot path, do not run it.
			CREATE TRIGGER codes_redeem_once BEFORE UPDATE OF redeemed_at, order_reference, replaced_at ON ${s}.codes
				FOR EACH ROW EXECUTE FUNCTION ${s}.codes_redeem_once();
		`,
	},
	{
		version: 3,
		// Checkout: uses per code, holds, the history of uses, details. Every change is a new nullable
		// column or a column with a constant default (no table rewrite) and checks that existing rows
		// pass (NOT VALID: no scan under the exclusive lock), so it runs online on a table of millions.
		// Nothing is back-filled: a NULL use count means what the rows said before, 1 use when
		// redeemed_at is set and 0 otherwise, and such a code's history is its one redemption.
		sql: (s) => `
			ALTER TABLE ${s}.pools
				ADD COLUMN uses_per_code integer NOT NULL DEFAULT 1 CHECK (uses_per_code >= 1),
				ADD COLUMN details jsonb;
			ALTER TABLE ${s}.codes
				ADD COLUMN uses integer,
				ADD COLUMN held_for text,
				ADD COLUMN held_until timestamptz,
				ADD COLUMN details jsonb,
				ADD CONSTRAINT codes_uses_counted CHECK (uses >= 0) NOT VALID,
				ADD CONSTRAINT codes_hold_whole CHECK ((held_for IS NULL) = (held_until IS NULL)) NOT VALID,
				ADD CONSTRAINT codes_held_when_assigned CHECK (held_for IS NULL OR contact_key IS NOT NULL) NOT VALID;

			-- One row per use of a code, kept when the use is undone. n numbers a code's uses from 1.
			CREATE TABLE ${s}.redemptions (
				pool_id bigint NOT NULL,
				code_key text NOT NULL,
				n integer NOT NULL CHECK (n >= 1),
				redeemed_at timestamptz NOT NULL,
				order_reference text,
				undone_at timestamptz,
				undo_reason text,
				PRIMARY KEY (pool_id, code_key, n)
			);

			-- A use can now be given back, so redeemed_at may be cleared. Still refused: a code both
			-- redeemed and replaced, and a redemption that does not count its use, which is how a worker
			-- of an older version redeems: it would skip holds and uses, so it is stopped and told why.
			CREATE OR REPLACE FUNCTION ${s}.codes_redeem_once() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN
				IF NEW.redeemed_at IS NOT NULL AND NEW.replaced_at IS NOT NULL THEN
					RAISE EXCEPTION 'code % of pool % cannot be both redeemed and replaced', OLD.code, OLD.pool_id USING ERRCODE = 'integrity_constraint_violation';
				END IF;
				IF NEW.redeemed_at IS DISTINCT FROM OLD.redeemed_at AND NEW.uses IS NOT DISTINCT FROM OLD.uses THEN
					RAISE EXCEPTION 'Code % was not redeemed: n8n-nodes-coupons on this n8n process is older than the coupon database (schema 3); update it on every n8n main and worker process', OLD.code
						USING ERRCODE = 'integrity_constraint_violation';
				END IF;
				RETURN NEW;
			END $$;
		`,
	},
	{
		version: 4,
		// The code format a coupon keeps (pattern, check character...) and a code's own expiry from
		// its list. Nullable columns: no rewrite. Unused codes are still taken by rank alone: an
		// expiry is checked on the rows the rank index leads to.
		sql: (s) => `
			ALTER TABLE ${s}.pools ADD COLUMN code_format jsonb;
			ALTER TABLE ${s}.codes ADD COLUMN expires_at timestamptz;
		`,
	},
	{
		version: 5,
		// The Coupon Trigger's event indexes (triggerSql.ts), as the Local file's migration 4: each
		// poll reads a range of one of them. Partial: a code nobody holds is in none. And where each
		// trigger read up to.
		sql: (s) => `
			CREATE TABLE ${s}.trigger_cursors (
				trigger_key text PRIMARY KEY,
				cursor jsonb NOT NULL,
				updated_at timestamptz NOT NULL
			);
			CREATE INDEX IF NOT EXISTS redemptions_by_time ON ${s}.redemptions (redeemed_at);
			CREATE INDEX IF NOT EXISTS redemptions_by_undo ON ${s}.redemptions (undone_at) WHERE undone_at IS NOT NULL;
			CREATE INDEX IF NOT EXISTS codes_by_hold_end ON ${s}.codes (held_until) WHERE held_for IS NOT NULL;
			CREATE INDEX IF NOT EXISTS codes_by_end ON ${s}.codes (valid_until)
				WHERE valid_until IS NOT NULL AND replaced_at IS NULL AND redeemed_at IS NULL;
			CREATE INDEX IF NOT EXISTS codes_by_assignment ON ${s}.codes (assigned_at)
				WHERE assigned_at IS NOT NULL AND replaced_at IS NULL AND redeemed_at IS NULL;
		`,
	},
	{
		version: 6,
		// Shared codes (Uses per Customer): a coupon's uses per customer, and the customer of each use
		// of a shared code (held by the empty contact key). Nullable columns: no rewrite. The indexes
		// a checkout reads a shared code's uses of one customer or order by (scopedUsesStatement):
		// only shared codes' uses have a customer, so they start empty, but building them reads the
		// table (IF NOT EXISTS: an administrator may build them concurrently beforehand).
		sql: (s) => `
			ALTER TABLE ${s}.pools ADD COLUMN uses_per_customer integer CHECK (uses_per_customer >= 1);
			ALTER TABLE ${s}.redemptions ADD COLUMN contact_key text;
			CREATE INDEX IF NOT EXISTS redemptions_by_customer ON ${s}.redemptions (pool_id, code_key, contact_key)
				WHERE contact_key IS NOT NULL;
			CREATE INDEX IF NOT EXISTS redemptions_by_order ON ${s}.redemptions (pool_id, code_key, order_reference)
				WHERE contact_key IS NOT NULL;

			-- An older version of the package still running (a queue-mode worker not yet updated) would
			-- take a shared code for one held by a contact '' and let anyone use it without counting
			-- the customer's uses: the database refuses such a use.
			CREATE FUNCTION ${s}.redemptions_name_their_customer() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN
				IF NEW.contact_key IS NULL AND EXISTS (
					SELECT 1 FROM ${s}.codes c WHERE c.pool_id = NEW.pool_id AND c.code_key = NEW.code_key AND c.contact_key = ''
				) THEN
					RAISE EXCEPTION 'Shared code % was not redeemed: n8n-nodes-coupons on this n8n process is older than the coupon database (schema 6); update it on every n8n main and worker process', NEW.code_key
						USING ERRCODE = 'integrity_constraint_violation';
				END IF;
				RETURN NEW;
			END $$;
			CREATE TRIGGER redemptions_name_their_customer BEFORE INSERT ON ${s}.redemptions
				FOR EACH ROW EXECUTE FUNCTION ${s}.redemptions_name_their_customer();
		`,
	},
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

/**
 * Brings the schema up to date. Safe when several processes start at once: they queue on an
 * advisory lock, and each migration runs in the same transaction as its version row.
 */
export async function migrate(client: PoolClient, schema: string): Promise<void> {
	const s = `"${schema}"`;
	// Up to date already: touch no DDL, so a user with only read and write rights on the tables works.
	if ((await appliedVersions(client, schema)).has(SCHEMA_VERSION)) return;
	await client.query('BEGIN');
	try {
		await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [
			MIGRATION_LOCK_CLASS,
			schema,
		]);
		await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
		await client.query(
			`CREATE TABLE IF NOT EXISTS ${s}.schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
		);
		const { rows } = await client.query<{ version: number }>(
			`SELECT version FROM ${s}.schema_migrations`,
		);
		const applied = new Set(rows.map((row) => row.version));
		for (const migration of MIGRATIONS) {
			if (applied.has(migration.version)) continue;
			await client.query(migration.sql(s));
			await client.query(`INSERT INTO ${s}.schema_migrations (version) VALUES ($1)`, [
				migration.version,
			]);
		}
		await client.query('COMMIT');
	} catch (error) {
		await client.query('ROLLBACK').catch(() => undefined);
		throw error;
	}
}

/** The versions applied to the schema; none when it has no coupon tables yet. */
export async function appliedVersions(
	client: Pick<PoolClient, 'query'>,
	schema: string,
): Promise<Set<number>> {
	const { rows } = await client.query<{ table: string | null }>('SELECT to_regclass($1) AS table', [
		`"${schema}".schema_migrations`,
	]);
	if (!rows[0].table) return new Set();
	const versions = await client.query<{ version: number }>(
		`SELECT version FROM "${schema}".schema_migrations`,
	);
	return new Set(versions.rows.map((row) => row.version));
}
