import { randomFillSync } from 'node:crypto';
import { Readable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { StringDecoder } from 'node:string_decoder';
import { DatabaseError, type PoolClient } from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import type { Turns } from '../../core/common/turns';
import { describeDatabaseError } from '../../transport/postgres';
import type { CountedCodes } from '../sqlRows';
import type { ImportCandidate, UseScope } from '../../core/storeContract';
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

/** What a backslash followed by a letter stands for in COPY's text output; any other character stands for itself. */
const COPY_ESCAPES = new Map([
	['b', '\b'],
	['f', '\f'],
	['n', '\n'],
	['r', '\r'],
	['t', '\t'],
	['v', '\v'],
]);

/**
 * A line COPY ... TO STDOUT wrote in its text format, read field by field where it lies: a million
 * lines split into fields would make a string of every field, NULLs included.
 */
export class CopiedLine {
	private line = '';
	/** Where each field starts; one more, past the line's end, closes the last. */
	private readonly starts: number[] = [];

	read(line: string): this {
		this.line = line;
		this.starts.length = 0;
		this.starts.push(0);
		for (let tab = line.indexOf('\t'); tab !== -1; tab = line.indexOf('\t', tab + 1))
			this.starts.push(tab + 1);
		this.starts.push(line.length + 1);
		return this;
	}

	/** The field's text, or null for COPY's NULL (\N); a backslash escapes the next character. */
	text(field: number): string | null {
		if (this.isNull(field)) return null;
		const value = this.line.slice(this.starts[field], this.starts[field + 1] - 1);
		return value.includes('\\')
			? value.replace(/\\(.)/gs, (_, c: string) => COPY_ESCAPES.get(c) ?? c)
			: value;
	}

	/** The field as a number (never escaped), or null for COPY's NULL. */
	number(field: number): number | null {
		return this.isNull(field)
			? null
			: Number(this.line.slice(this.starts[field], this.starts[field + 1] - 1));
	}

	private isNull(field: number): boolean {
		if (field + 1 >= this.starts.length)
			throw new Error(`A COPY line from the database has no field ${field + 1}`);
		const start = this.starts[field];
		return (
			this.starts[field + 1] - start === 3 &&
			this.line.charCodeAt(start) === BACKSLASH &&
			this.line.charCodeAt(start + 1) === CAPITAL_N
		);
	}
}

const BACKSLASH = 0x5c;
const CAPITAL_N = 0x4e;

/**
 * The rows a COPY ... TO STDOUT writes in its text format, as `rowOf` makes them of each line,
 * in pages of `pageSize`: read as the reader asks for them, a table is never held whole. A reader
 * that stops early has the rest of the copy read and dropped, so that the connection can go on.
 */
export async function* copiedPages<T>(
	client: PoolClient,
	sql: string,
	rowOf: (line: CopiedLine) => T,
	pageSize: number,
	where: string,
): AsyncGenerator<T[]> {
	const stream = client.query(copyTo(sql)) as ReturnType<typeof copyTo> & {
		/** How pg fails the copy (not in its types). */
		handleError(error: Error): void;
	};
	// pg reports a copy's errors as events too: one nobody awaits any more must not end n8n.
	stream.on('error', () => undefined);
	// An error that is not the server's (pg's query timer, a broken socket) leaves pg-copy-streams
	// listening to a connection it no longer parses for: the server's next bytes would throw where
	// nothing catches them, and n8n would stop. The connection cannot be used again: it is closed.
	const failCopy = stream.handleError.bind(stream);
	stream.handleError = (error: Error) => {
		if (!(error instanceof DatabaseError)) connectionSocket(client)?.destroy();
		failCopy(error);
	};
	const decoder = new StringDecoder('utf8');
	const copied = new CopiedLine();
	let carried = '';
	let page: T[] = [];
	let read = false;
	try {
		for await (const chunk of stream.iterator({
			destroyOnReturn: false,
		}) as AsyncIterable<Buffer>) {
			// A line ends at the first newline: COPY writes one inside a value as \n.
			const lines = (carried + decoder.write(chunk)).split('\n');
			carried = lines.pop()!;
			for (const line of lines) {
				page.push(rowOf(copied.read(line)));
				if (page.length === pageSize) {
					yield page;
					page = [];
				}
			}
		}
		read = true;
	} catch (error) {
		throw describeDatabaseError(error, where);
	} finally {
		if (!read && !stream.destroyed) {
			stream.resume();
			await finished(stream).catch(() => undefined);
		}
		// pg's query timeout ends with a query's callback, which a copy to the client never calls:
		// otherwise the timer would fail the connection's query minutes after this copy.
		(stream as { callback?: () => void }).callback?.();
	}
	if (carried + decoder.end() !== '')
		throw new Error('A COPY from the database ended inside a row');
	if (page.length > 0) yield page;
}

/** The socket under a pg client: not part of its typed interface. */
const connectionSocket = (client: PoolClient) =>
	(client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream;

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

/**
 * How many of the codes a checkout wrote are assigned. The write does not say "assigned" in its
 * WHERE clause: after an import, statistics say no code is assigned, and the planner, expecting one
 * such row, would compare every assigned code of the coupon with every code written (90 s for
 * 10,000 codes of a coupon with 20,000 assigned). The codes were locked and judged assigned when
 * found; a write that finds otherwise throws, and the transaction rolls back.
 */
export const COUNT_WRITTEN = 'SELECT count(contact_key) AS assigned FROM written';

export interface WrittenCodes {
	assigned: string;
}

export function assertAllAssigned(
	{ assigned }: WrittenCodes,
	expected: number,
	name: string,
	what: string,
): void {
	if (Number(assigned) !== expected)
		throw new Error(
			`Only ${assigned} of ${expected} codes of pool "${name}" ${what}: the others are not assigned`,
		);
}

/** Writes checkout uses: a use undone updates its entry, a use taken adds one; then the counts. */
export const writeUsesStatement = (schema: string) =>
	`WITH entries AS (
			INSERT INTO ${schema}.redemptions (pool_id, code_key, n, redeemed_at, order_reference, undone_at, undo_reason, contact_key)
			SELECT $1, * FROM unnest($2::text[], $3::integer[], $4::timestamptz[], $5::text[], $6::timestamptz[], $7::text[], $8::text[])
			ON CONFLICT (pool_id, code_key, n) DO UPDATE SET undone_at = excluded.undone_at, undo_reason = excluded.undo_reason
		), written AS (
			UPDATE ${schema}.codes AS c SET uses = u.uses, redeemed_at = u.redeemed_at, order_reference = u.order_reference
			FROM unnest($9::text[], $10::integer[], $11::timestamptz[], $12::text[]) AS u (code_key, uses, redeemed_at, order_reference)
			WHERE c.pool_id = $1 AND c.code_key = u.code_key RETURNING c.contact_key
		) ${COUNT_WRITTEN}`;

/** Every use of codes ($1 their pools, $2 their keys), in order. */
export const wholeUsesStatement = (schema: string) =>
	`SELECT r.* FROM ${schema}.redemptions r
	JOIN unnest($1::bigint[], $2::text[]) AS k (pool_id, code_key) USING (pool_id, code_key) ORDER BY r.n`;

/**
 * The uses of shared codes ($1 their pools, $2 their keys) that a UseScope asks for: those of
 * customers $3 and of the customers of orders $4, those numbered $5, and each code's newest. Each is a look-up in an index,
 * however many customers used the code.
 */
export const scopedUsesStatement = (schema: string) => {
	const ofCode = `FROM ${schema}.redemptions r WHERE r.pool_id = k.pool_id AND r.code_key = k.code_key`;
	return `SELECT r.* FROM unnest($1::bigint[], $2::text[]) AS k (pool_id, code_key)
		CROSS JOIN LATERAL (
			SELECT r.* ${ofCode} AND r.contact_key = ANY($3::text[])
			UNION SELECT r.* ${ofCode} AND r.contact_key IN (
				SELECT o.contact_key FROM ${schema}.redemptions o
				WHERE o.pool_id = k.pool_id AND o.code_key = k.code_key AND o.contact_key IS NOT NULL
					AND o.order_reference = ANY($4::text[]))
			UNION SELECT r.* ${ofCode} AND r.n = ANY($5::integer[])
			UNION (SELECT r.* ${ofCode} ORDER BY r.n DESC LIMIT 1)
		) r ORDER BY r.pool_id, r.code_key, r.n`;
};

/** The parameters of scopedUsesStatement: the shared codes, and what of their uses `scope` asks. */
export const scopedUsesParams = (
	{ poolIds, codeKeys }: CountedCodes<string>,
	{ contactKeys = [], orderReferences = [], numbers = [] }: UseScope,
) => [poolIds, codeKeys, contactKeys, orderReferences, numbers];

/** Writes a batch of holds taken or released. */
export const writeHoldsStatement = (schema: string) =>
	`WITH written AS (
			UPDATE ${schema}.codes AS c SET held_for = h.held_for, held_until = h.held_until
			FROM unnest($2::text[], $3::text[], $4::timestamptz[]) AS h (code_key, held_for, held_until)
			WHERE c.pool_id = $1 AND c.code_key = h.code_key RETURNING c.contact_key
		) ${COUNT_WRITTEN}`;

/** A pool's counts ($1 the pool, $2 now, $3 since): the classes of assignmentStatus
 * (core/common/validity.ts): replaced, else redeemed, else active or expired. */
export const countPoolStatement = (schema: string) =>
	`SELECT count(*) FILTER (WHERE contact_key IS NULL AND (expires_at IS NULL OR expires_at > $2)) AS available,
				count(*) FILTER (WHERE contact_key IS NULL AND expires_at <= $2) AS lapsed,
				count(contact_key) AS assigned,
				count(*) FILTER (WHERE contact_key IS NOT NULL AND replaced_at IS NULL AND redeemed_at IS NULL AND $2 < valid_until) AS active,
				count(*) FILTER (WHERE contact_key IS NOT NULL AND replaced_at IS NULL AND redeemed_at IS NULL AND $2 >= valid_until) AS expired,
				count(redeemed_at) FILTER (WHERE replaced_at IS NULL) AS redeemed,
				count(replaced_at) AS replaced,
				count(*) FILTER (WHERE assigned_at >= $3) AS "assignedSince",
				coalesce(sum(coalesce(uses, (redeemed_at IS NOT NULL)::integer)), 0) AS uses,
				count(*) FILTER (WHERE held_until > $2) AS held
			FROM ${schema}.codes WHERE pool_id = $1`;
