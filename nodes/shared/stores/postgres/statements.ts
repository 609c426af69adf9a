import { randomFillSync } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Turns } from '../../core/common/turns';
import { describeDatabaseError } from '../../transport/postgres';
import type { ImportCandidate } from '../../core/storeContract';
import { ASSIGNMENT_COLUMNS } from '../sqlRows';

// What the PostgreSQL session sends: its assigning statement, times, batches and COPY text.

/**
 * An import's staged codes (PostgresStaging): a temporary table, so that it is the connection's
 * own, written without the write-ahead log, and gone when the connection ends.
 */
export const STAGED_TABLE = 'pg_temp.coupon_staged';

/** Rows per assigning or inserting statement: few round trips, statements of bounded size. */
export const STATEMENT_BATCH = 5_000;

/**
 * Assigns random unused codes of pool $1 to the requests in $2 (contacts), $3 (assigned at) and
 * $4 (valid until); $5 is their number. Lowest ranks first, skipping rows other runs hold (unless
 * `skipLocked` is false: then it waits for them); the outer condition re-checks under the lock.
 * Returns each assigned row with its request's position `n`.
 */
export function assignStatement(schema: string, skipLocked = true): string {
	return `WITH requests AS (
		SELECT * FROM unnest($2::text[], $3::timestamptz[], $4::timestamptz[]) WITH ORDINALITY AS r (contact_key, assigned_at, valid_until, n)
	), picked AS (
		SELECT code_key, expires_at, row_number() OVER (ORDER BY rank) AS n FROM (
			SELECT code_key, rank, expires_at FROM ${schema}.codes
			WHERE pool_id = $1 AND contact_key IS NULL AND (expires_at IS NULL OR expires_at >= $6)
			ORDER BY rank LIMIT $5 FOR UPDATE${skipLocked ? ' SKIP LOCKED' : ''}
		) free
	)
	UPDATE ${schema}.codes AS c
	SET contact_key = r.contact_key, assigned_at = r.assigned_at,
		valid_until = CASE WHEN picked.expires_at < r.valid_until THEN picked.expires_at ELSE r.valid_until END
	FROM picked JOIN requests AS r USING (n)
	WHERE c.pool_id = $1 AND c.code_key = picked.code_key AND c.contact_key IS NULL
	RETURNING r.n, ${ASSIGNMENT_COLUMNS}`;
}

export const iso = (ms: number) => new Date(ms).toISOString();
export const isoOrNull = (ms: number | undefined) => (ms === undefined ? null : iso(ms));

export function chunks<T>(list: T[], size = STATEMENT_BATCH): T[][] {
	const out: T[][] = [];
	for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
	return out;
}

/** A uniformly shuffled copy (Fisher-Yates over one buffer of cryptographic randomness). */
export async function shuffle<T>(items: T[], turns: Turns): Promise<T[]> {
	const out = items.slice();
	const random = randomFillSync(new Uint32Array(out.length));
	for (let i = out.length - 1; i > 0; i--) {
		const j = random[i] % (i + 1);
		[out[i], out[j]] = [out[j], out[i]];
		if (turns.due()) await turns.pass();
	}
	return out;
}

/**
 * Ranks for `count` rows spread evenly over [0, 1), as COPY text: the i-th is (i + 0.5) / count
 * rounded to a step of 10^-digits, written as a whole number and an exponent, which costs far
 * less than writing out a double (a million ranks: 0.1 s instead of 1.5 s).
 */
export function evenRanks(count: number): (i: number) => string {
	const digits = String(count).length + 2;
	const scale = 10 ** digits;
	return (i) => `${Math.floor(((i + 0.5) * scale) / count)}e-${digits}`;
}

/** COPY's text format: a backslash escapes itself and the separators. */
export const copyText = (value: string) =>
	value.replace(
		/[\\\t\n\r]/g,
		(c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[c]!,
	);

/** A candidate's expiry as a COPY field: an ISO time, or COPY's NULL. */
export const copyExpiry = ({ expiresAt }: ImportCandidate) =>
	expiresAt === undefined ? '\\N' : new Date(expiresAt).toISOString();

/** A candidate's details as a COPY field: JSON text, or COPY's NULL. */
export const copyDetails = ({ details }: ImportCandidate) =>
	details === undefined ? '\\N' : copyText(JSON.stringify(details));

/** Streams rows into a COPY ... FROM STDIN in chunks of about 64 KB, with back-pressure. */
export async function copyRows<T>(
	client: PoolClient,
	sql: string,
	items: T[],
	line: (item: T, index: number) => string,
	turns: Turns,
	where: string,
): Promise<void> {
	// Made as COPY asks for them; a million rows pass the event loop's turn as they go.
	async function* text() {
		let chunk = '';
		for (let i = 0; i < items.length; i++) {
			chunk += line(items[i], i);
			if (chunk.length >= 65_536) {
				yield chunk;
				chunk = '';
				if (turns.due()) await turns.pass();
			}
		}
		if (chunk) yield chunk;
	}
	try {
		await pipeline(Readable.from(text()), client.query(copyFrom(sql)));
	} catch (error) {
		throw describeDatabaseError(error, where);
	}
}
