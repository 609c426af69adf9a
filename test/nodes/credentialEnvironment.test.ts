import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ICredentialsDecrypted, ICredentialTestFunctions } from 'n8n-workflow';
import { couponPostgresConnectionTest } from '../../nodes/shared/n8n/methods/credentialTest';
import {
	closeAllDatabases,
	databaseFor,
	describeDatabaseError,
	parseSchema,
	type CouponPostgresCredentials,
} from '../../nodes/shared/transport/postgres';

const HOST_SECRET = 'the-n8n-hosts-own-password';
const PGPASS_SECRET = 'a-password-from-pgpass';

/** What one connection to the fake server sent: its startup parameters and password message. */
interface Received {
	startup: Record<string, string>;
	password?: string;
	bytes: Buffer;
}

/**
 * A fake PostgreSQL server, as a hostile credential would name: it asks for the password in clear
 * text and records everything the client sends, then refuses the login.
 */
function fakeServer(): Promise<{ server: Server; port: number; received: Received[] }> {
	const received: Received[] = [];
	const server = createServer((socket: Socket) => {
		const connection: Received = { startup: {}, bytes: Buffer.alloc(0) };
		received.push(connection);
		let startupDone = false;
		socket.on('data', (chunk) => {
			connection.bytes = Buffer.concat([connection.bytes, chunk]);
			if (connection.password !== undefined) return;
			if (!startupDone) {
				if (
					connection.bytes.length < 4 ||
					connection.bytes.length < connection.bytes.readInt32BE(0)
				)
					return;
				startupDone = true;
				const fields = connection.bytes
					.subarray(8, connection.bytes.readInt32BE(0) - 1)
					.toString('utf8')
					.split('\0');
				for (let i = 0; i + 1 < fields.length; i += 2)
					connection.startup[fields[i]] = fields[i + 1];
				const askCleartext = Buffer.alloc(9);
				askCleartext.write('R', 0);
				askCleartext.writeInt32BE(8, 1);
				askCleartext.writeInt32BE(3, 5);
				socket.write(askCleartext);
				return;
			}
			const start = connection.bytes.indexOf('p'.charCodeAt(0), connection.bytes.readInt32BE(0));
			if (start < 0 || connection.bytes.length < start + 5) return;
			const length = connection.bytes.readInt32BE(start + 1);
			if (connection.bytes.length < start + 1 + length) return;
			connection.password = connection.bytes.toString('utf8', start + 5, start + length);
			const fields = Buffer.from('SFATAL\0C28P01\0Mfake server refuses every login\0\0');
			const refusal = Buffer.alloc(5);
			refusal.write('E', 0);
			refusal.writeInt32BE(4 + fields.length, 1);
			socket.end(Buffer.concat([refusal, fields]));
		});
	});
	return new Promise((resolve) =>
		server.listen(0, '127.0.0.1', () =>
			resolve({ server, port: (server.address() as AddressInfo).port, received }),
		),
	);
}

describe('the Coupon PostgreSQL credential uses only what it says', () => {
	const saved = { ...process.env };
	let fake: Awaited<ReturnType<typeof fakeServer>>;
	let folder: string;

	beforeAll(async () => {
		fake = await fakeServer();
		folder = mkdtempSync(join(tmpdir(), 'coupons-pgpass-'));
		const pgpass = join(folder, 'pgpass');
		writeFileSync(pgpass, `*:*:*:*:${PGPASS_SECRET}\n`);
		chmodSync(pgpass, 0o600);
		// The machine running n8n, set up for its own database.
		Object.assign(process.env, {
			PGPASSWORD: HOST_SECRET,
			PGPASSFILE: pgpass,
			PGHOST: '127.0.0.1',
			PGPORT: String(fake.port),
			PGUSER: 'n8n_host_user',
			PGDATABASE: 'n8n_host_database',
			PGOPTIONS: '-c search_path=host_secret_schema',
			PGAPPNAME: 'host-app',
			PGSSLMODE: 'no-verify',
			PGSSLNEGOTIATION: 'direct',
		});
	});
	afterAll(async () => {
		process.env = saved;
		await closeAllDatabases();
		await new Promise((resolve) => fake.server.close(resolve));
		rmSync(folder, { recursive: true, force: true });
	});
	beforeEach(() => fake.received.splice(0));

	const credential = (
		overrides: Partial<Record<keyof CouponPostgresCredentials, unknown>> = {},
	): CouponPostgresCredentials =>
		({
			host: '127.0.0.1',
			port: fake.port,
			database: 'coupons_db',
			user: 'coupons_user',
			password: '',
			ssl: 'disable',
			schema: 'coupons',
			maxConnections: 2,
			...overrides,
		}) as CouponPostgresCredentials;
	const testButton = async (data: CouponPostgresCredentials) =>
		await couponPostgresConnectionTest.call(
			{} as ICredentialTestFunctions,
			{
				data,
			} as unknown as ICredentialsDecrypted,
		);
	const sentAnywhere = () => Buffer.concat(fake.received.map((r) => r.bytes)).toString('latin1');

	it('sends an empty password as empty, never the host password, pgpass entry or other settings of the environment', async () => {
		const result = await testButton(credential());
		expect(result.status).toBe('Error');
		expect(result.message).toMatch(/fake server refuses every login/);
		expect(fake.received).toHaveLength(1);
		const [connection] = fake.received;
		expect(connection.password).toBe('');
		expect(connection.startup).toEqual({
			user: 'coupons_user',
			database: 'coupons_db',
			application_name: 'n8n-nodes-coupons/coupons',
			client_encoding: 'UTF8',
			statement_timeout: expect.any(String),
			lock_timeout: expect.any(String),
		});

		// The nodes' own connections too.
		await expect(databaseFor(credential()).connect()).rejects.toThrow(/fake server/);
		expect(fake.received).toHaveLength(2);
		expect(fake.received[1].password).toBe('');
		for (const leak of [HOST_SECRET, PGPASS_SECRET, 'n8n_host', 'host_secret_schema', 'host-app'])
			expect(sentAnywhere()).not.toContain(leak);
	});

	it('sends the password the credential holds', async () => {
		await testButton(credential({ password: 'credential-password' }));
		expect(fake.received[0].password).toBe('credential-password');
	});

	it.each([
		['host', '', 'Host in the Coupon PostgreSQL credential is empty'],
		['user', '  ', 'User in the Coupon PostgreSQL credential is empty'],
		['database', undefined, 'Database in the Coupon PostgreSQL credential is empty'],
		[
			'port',
			'abc',
			'Port in the Coupon PostgreSQL credential must be a whole number from 1 to 65535; got "abc"',
		],
		[
			'port',
			70000,
			'Port in the Coupon PostgreSQL credential must be a whole number from 1 to 65535; got 70000',
		],
	])('refuses an empty or bad %s without connecting anywhere', async (field, value, message) => {
		const result = await testButton(credential({ [field]: value }));
		expect(result).toEqual({ status: 'Error', message: expect.stringContaining(message) });
		expect(() => databaseFor(credential({ [field]: value }))).toThrow(message);
		expect(fake.received).toHaveLength(0);
	});

	it("refuses PostgreSQL's own schemas", () => {
		for (const schema of ['information_schema', 'pg_catalog', 'PG_toast', 'pg_temp_1'])
			expect(() => parseSchema(schema)).toThrow(`The schema "${schema}"`);
		expect(parseSchema('pgcoupons')).toBe('pgcoupons');
	});

	it('words a server error code such as "constructor" as the server sent it, not as an inherited property', () => {
		for (const code of ['constructor', 'toString', '__proto__']) {
			const error = describeDatabaseError(
				Object.assign(new Error('fake server says no'), { code }),
				'127.0.0.1:5432',
			);
			expect(`${error.message} ${(error as { description?: string }).description}`).not.toMatch(
				/function|native code|\[object/,
			);
		}
	});
});
