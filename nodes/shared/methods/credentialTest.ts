import type { ICredentialsDecrypted, ICredentialTestFunctions, INodeCredentialTestResult } from 'n8n-workflow';
import { Client } from 'pg';
import { describeDatabaseError, parseSchema, poolConfig, type CouponPostgresCredentials } from '../transport/postgres';

/**
 * Connects with the credential and checks that its user can create the coupon tables, by creating
 * a table in the schema inside a transaction that is rolled back: nothing is left behind.
 */
export async function couponPostgresConnectionTest(this: ICredentialTestFunctions, credential: ICredentialsDecrypted): Promise<INodeCredentialTestResult> {
	const credentials = credential.data as unknown as CouponPostgresCredentials;
	const where = `${credentials.host}:${credentials.port}`;
	let client: Client | undefined;
	try {
		const schema = parseSchema(credentials.schema);
		client = new Client(poolConfig(credentials));
		await client.connect();
		await client.query('BEGIN');
		await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
		await client.query(`CREATE TABLE "${schema}".n8n_nodes_coupons_check (id integer)`);
		await client.query('ROLLBACK');
		return { status: 'OK', message: `Connected to ${where}; user "${credentials.user}" can create the coupon tables in schema "${schema}"` };
	} catch (error) {
		const failure = describeDatabaseError(error, where) as Error & { description?: string };
		return { status: 'Error', message: failure.description ? `${failure.message}. ${failure.description}` : failure.message };
	} finally {
		await client?.end().catch(() => undefined);
	}
}
