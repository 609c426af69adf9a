import type { ErrorCode } from '../core/common/errorCodes';
import { createHash } from 'node:crypto';
import { Client, Pool, type ClientConfig, type PoolClient, type PoolConfig } from 'pg';
import { CouponError, StoreError } from '../core/common/errors';

/** The fields of the "Coupon PostgreSQL" credential. */
export interface CouponPostgresCredentials {
	host: string;
	port: number;
	database: string;
	user: string;
	password: string;
	ssl: 'disable' | 'allow' | 'require' | 'verify';
	schema: string;
	maxConnections: number;
}

export const CONNECT_TIMEOUT_MS = 10_000;
export const STATEMENT_TIMEOUT_MS = 5 * 60_000;
export const LOCK_TIMEOUT_MS = 60_000;
/** A pool nobody used for this long is closed, as n8n's own PostgreSQL node does. */
export const POOL_IDLE_MS = 5 * 60_000;

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
// PostgreSQL's own schemas: coupon tables there would mix with the system catalogs.
const SYSTEM_SCHEMA = /^(?:pg_|information_schema$)/i;
const guarded = new WeakSet<PoolClient>();

/** A connection pool to one database and schema, shared by every execution in this process. */
export class CouponDatabase {
	readonly schema: string;
	readonly where: string;
	private readonly pool: Pool;
	private closeTimer?: NodeJS.Timeout;
	private checkedOut = 0;
	readonly maxConnections: number;
	/** Set once the schema has been migrated by this process. */
	migrated?: Promise<void>;

	constructor(
		credentials: CouponPostgresCredentials,
		private readonly onClose: () => void,
		private readonly idleMs = POOL_IDLE_MS,
	) {
		const config = poolConfig(credentials);
		this.schema = parseSchema(credentials.schema);
		this.where = `${config.host}:${config.port}`;
		this.maxConnections = config.max!;
		this.pool = new Pool(config);
		// An idle connection the server dropped must not crash n8n; the next checkout reconnects.
		this.pool.on('error', () => undefined);
		this.startIdleTimer();
	}

	/** A connection from the pool; give it back with `release`. Errors name the server. */
	async connect(): Promise<PoolClient> {
		clearTimeout(this.closeTimer);
		this.checkedOut++;
		let client: PoolClient;
		try {
			client = await this.pool.connect();
		} catch (error) {
			this.released();
			throw describeDatabaseError(error, this.where, this.maxConnections);
		}
		// A connection lost while checked out fails its pending query; the emitted event must not crash n8n.
		if (!guarded.has(client)) {
			guarded.add(client);
			client.on('error', () => undefined);
		}
		return client;
	}

	/** Gives a connection back; a broken one is closed instead of being reused. */
	release(client: PoolClient, broken: boolean): void {
		client.release(broken);
		this.released();
	}

	async close(): Promise<void> {
		clearTimeout(this.closeTimer);
		this.onClose();
		await this.pool.end();
	}

	private released(): void {
		this.checkedOut--;
		if (this.checkedOut === 0) this.startIdleTimer();
	}

	/** Closes the pool once nobody has used it for `idleMs`; never while a connection is out. */
	private startIdleTimer(): void {
		clearTimeout(this.closeTimer);
		this.closeTimer = setTimeout(() => void this.close(), this.idleMs);
		this.closeTimer.unref();
	}
}

export function parseSchema(raw: string | undefined): string {
	const schema = (raw ?? '').trim() || 'coupons';
	const fix =
		'Use letters, digits and underscores only, starting with a letter, such as "coupons".';
	if (!SCHEMA_NAME.test(schema))
		throw new CouponError(
			'CREDENTIAL_INVALID',
			`The schema name "${schema}" in the Coupon PostgreSQL credential is not allowed`,
			fix,
		);
	if (SYSTEM_SCHEMA.test(schema))
		throw new CouponError(
			'CREDENTIAL_INVALID',
			`The schema "${schema}" in the Coupon PostgreSQL credential is one of PostgreSQL's own schemas`,
			`Choose a schema of your own for the coupon tables. ${fix}`,
		);
	return schema;
}

/** As libpq: "allow" and "require" encrypt without checking the certificate; "verify" checks it. */
function sslOption(ssl: CouponPostgresCredentials['ssl'] | undefined): PoolConfig['ssl'] {
	if (ssl === 'verify') return { rejectUnauthorized: true };
	if (ssl === 'allow' || ssl === 'require') return { rejectUnauthorized: false };
	return false;
}

/**
 * pg's Client without libpq's fallbacks to the environment of the machine running n8n (PGOPTIONS,
 * PGCLIENT_ENCODING, PGREPLICATION, PGSSLNEGOTIATION, PGBINARY): pg reads those whenever a setting
 * is empty, and the credential has no field for them.
 */
export class CredentialClient extends Client {
	constructor(config?: ClientConfig) {
		super(config);
		const parameters = (this as unknown as { connectionParameters: Record<string, unknown> })
			.connectionParameters;
		for (const setting of ['options', 'client_encoding', 'replication'])
			parameters[setting] = undefined;
		parameters.sslnegotiation = 'postgres';
		parameters.binary = false;
		Object.assign(this, { binary: false, replication: undefined });
	}
}

function credentialText(raw: unknown, field: string, example: string): string {
	const text = typeof raw === 'string' ? raw.trim() : '';
	if (text === '')
		throw new CouponError(
			'CREDENTIAL_INVALID',
			`${field} in the Coupon PostgreSQL credential is empty`,
			`Enter ${field}, such as ${example}; nothing is taken from the environment of the machine running n8n.`,
		);
	return text;
}

function credentialPort(raw: unknown): number {
	const port = typeof raw === 'string' && /^\d{1,5}$/.test(raw.trim()) ? Number(raw) : raw;
	if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535)
		throw new CouponError(
			'CREDENTIAL_INVALID',
			`Port in the Coupon PostgreSQL credential must be a whole number from 1 to 65535; got ${JSON.stringify(raw)}`,
			'Enter the port PostgreSQL listens on, usually 5432.',
		);
	return port;
}

/**
 * The connection settings, from the credential and nothing else. pg fills an empty host, port, user,
 * database or password from PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSWORD and the ~/.pgpass file of
 * the machine running n8n, and would send the host's own password to whatever server the credential
 * names: empty fields are refused, and the password goes through a function, which pg never
 * replaces (an empty password stays empty).
 */
/** The package's name, with the schema of the coupon tables when it is one the nodes accept. */
export function applicationName(schema: string | undefined): string {
	const name = (schema ?? '').trim() || 'coupons';
	// PostgreSQL keeps 63 bytes of it; a schema name is ASCII.
	return SCHEMA_NAME.test(name) ? `n8n-nodes-coupons/${name}`.slice(0, 63) : 'n8n-nodes-coupons';
}

export function poolConfig(credentials: CouponPostgresCredentials): PoolConfig {
	const password = typeof credentials.password === 'string' ? credentials.password : '';
	return {
		Client: CredentialClient,
		host: credentialText(credentials.host, 'Host', 'localhost'),
		port: credentialPort(credentials.port),
		database: credentialText(credentials.database, 'Database', 'postgres'),
		user: credentialText(credentials.user, 'User', 'postgres'),
		password: () => password,
		ssl: sslOption(credentials.ssl),
		// Set here, not after: pg checks it against ssl while constructing the client.
		...({ sslnegotiation: 'postgres' } as PoolConfig),
		max: Math.max(1, Math.floor(Number(credentials.maxConnections)) || 10),
		connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
		idleTimeoutMillis: 30_000,
		statement_timeout: STATEMENT_TIMEOUT_MS,
		query_timeout: STATEMENT_TIMEOUT_MS + 5_000,
		lock_timeout: LOCK_TIMEOUT_MS,
		// Its schema too: the Coupon Trigger waits only for open runs on its own coupons.
		application_name: applicationName(credentials.schema),
		// Notices a half-open connection long before the statement timeout would.
		keepAlive: true,
	};
}

const databases = new Map<string, CouponDatabase>();

/** The process-wide pool for these credentials: one per credential, reused across executions. */
export function databaseFor(credentials: CouponPostgresCredentials): CouponDatabase {
	const { host, port, database, user, password, ssl, schema, maxConnections } = credentials;
	const key = createHash('sha256')
		.update(JSON.stringify([host, port, database, user, password, ssl, schema, maxConnections]))
		.digest('hex');
	let found = databases.get(key);
	if (!found) {
		found = new CouponDatabase(credentials, () => databases.delete(key));
		databases.set(key, found);
	}
	return found;
}

/** Closes every pool; for tests and benchmarks that must let the process exit. */
export async function closeAllDatabases(): Promise<void> {
	await Promise.all([...databases.values()].map(async (database) => await database.close()));
}

interface PgError extends Error {
	code?: string;
}

/**
 * Network failures in words (a Map: the code may come from whatever server the credential names).
 * n8n replaces any error message that contains a code such as
 * ECONNREFUSED with a generic sentence, which would lose the host and port.
 */
const CONNECTION_FAILURES = new Map([
	['ECONNREFUSED', 'the connection was refused; nothing accepts connections on that port'],
	['ENOTFOUND', 'the host name was not found'],
	['EAI_AGAIN', 'the host name could not be looked up'],
	['ETIMEDOUT', 'the host did not answer'],
	['EHOSTUNREACH', 'the host cannot be reached'],
	['ENETUNREACH', 'the network cannot be reached'],
	['ECONNRESET', 'the server closed the connection'],
]);

/**
 * A database failure as a StoreError that names the server and what to do. Never includes the
 * password: messages come from the server or the network layer, which do not know it.
 */
export function describeDatabaseError(
	error: unknown,
	where: string,
	maxConnections?: number,
): Error {
	if (error instanceof CouponError || error instanceof StoreError) return error;
	const { code, message } = error as PgError;
	const failed = (errorCode: ErrorCode, problem: string, fix: string) =>
		new StoreError(errorCode, problem, fix);
	const runAgain = 'Nothing of this step was saved. Run it again.';
	if (/timeout exceeded when trying to connect/i.test(message)) {
		return failed(
			'STORE_UNREACHABLE',
			`Could not get a connection to PostgreSQL at ${where} within ${CONNECT_TIMEOUT_MS / 1000} seconds: ${maxConnections ? `all ${maxConnections} connections of this n8n process were busy, or ` : ''}the server did not answer`,
			'Raise Max Connections in the Coupon PostgreSQL credential if many runs overlap, and check that PostgreSQL is reachable.',
		);
	}
	const connectionFailure = code && CONNECTION_FAILURES.get(code);
	const timedOut = /timeout expired|connection timeout/i.test(message);
	if (connectionFailure || timedOut) {
		const reason = connectionFailure || `no answer within ${CONNECT_TIMEOUT_MS / 1000} seconds`;
		return failed(
			'STORE_UNREACHABLE',
			`Could not connect to PostgreSQL at ${where}: ${reason}`,
			'Check that PostgreSQL is running and reachable from n8n, and the host and port in the Coupon PostgreSQL credential.',
		);
	}
	switch (code) {
		case '28P01':
		case '28000':
			return failed(
				'STORE_ACCESS_DENIED',
				`PostgreSQL at ${where} refused the login: ${message}`,
				'Check the user and password in the Coupon PostgreSQL credential.',
			);
		case '3D000':
			return failed(
				'STORE_ACCESS_DENIED',
				`PostgreSQL at ${where}: ${message}`,
				'Check the database name in the Coupon PostgreSQL credential, or create that database.',
			);
		case '42501':
			return failed(
				'STORE_ACCESS_DENIED',
				`PostgreSQL at ${where}: ${message}`,
				"Grant the credential's user the right to create tables in its schema (or run the nodes once with a user who can).",
			);
		case '57014':
			return failed(
				'STORE_BUSY',
				`PostgreSQL at ${where} stopped a statement that took too long: ${message}`,
				`${runAgain} For very large imports, split the file.`,
			);
		case '40001':
			return failed(
				'STORE_CONFLICT',
				`PostgreSQL at ${where} could not serialise this step with another run: ${message}`,
				runAgain,
			);
		case '55P03':
			return failed(
				'STORE_BUSY',
				`PostgreSQL at ${where}: waited too long for another run working on the same coupons: ${message}`,
				runAgain,
			);
		case '40P01':
			return failed(
				'STORE_CONFLICT',
				`PostgreSQL at ${where} stopped this step to break a deadlock with another run: ${message}`,
				runAgain,
			);
	}
	if (
		code?.startsWith('57P') ||
		code?.startsWith('08') ||
		/Connection terminated|terminating connection|not queryable/i.test(message)
	) {
		return failed(
			'STORE_CONNECTION_LOST',
			`The connection to PostgreSQL at ${where} was lost: ${message}`,
			`${runAgain} If it keeps happening, check the database server.`,
		);
	}
	return failed(
		'STORE_FAILED',
		`PostgreSQL at ${where} failed: ${message}`,
		'Nothing of this step was saved.',
	);
}
