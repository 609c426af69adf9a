import type {
	ICredentialsDecrypted,
	ICredentialTestFunctions,
	INodeCredentialTestResult,
} from 'n8n-workflow';
import { appliedVersions, SCHEMA_VERSION } from '../../stores/postgres/migrations';
import {
	CredentialClient,
	describeDatabaseError,
	parseSchema,
	poolConfig,
	type CouponPostgresCredentials,
} from '../../transport/postgres';

/**
 * Connects with the credential and checks what its user needs: to read and write the coupon tables
 * when the schema is set up, or else to create them (a table created in a rolled-back transaction).
 */
export async function couponPostgresConnectionTest(
	this: ICredentialTestFunctions,
	credential: ICredentialsDecrypted,
): Promise<INodeCredentialTestResult> {
	const credentials = credential.data as unknown as CouponPostgresCredentials;
	const where = `${credentials.host}:${credentials.port}`;
	let client: CredentialClient | undefined;
	try {
		const schema = parseSchema(credentials.schema);
		client = new CredentialClient(poolConfig(credentials));
		await client.connect();
		if ((await appliedVersions(client, schema)).has(SCHEMA_VERSION)) {
			// Set up already: reading and writing the tables is all the nodes need.
			const { rows } = await client.query<{ missing: string | null }>(
				`SELECT string_agg(t, ', ') AS missing FROM unnest(ARRAY['pools', 'codes', 'contacts']) AS t
				WHERE NOT has_table_privilege(format('%I.%I', $1::text, t), 'SELECT, INSERT, UPDATE')`,
				[schema],
			);
			if (rows[0].missing) {
				return {
					status: 'Error',
					message: `User "${credentials.user}" may not read and write the coupon tables ${rows[0].missing} in schema "${schema}". Grant it SELECT, INSERT and UPDATE on them.`,
				};
			}
			return {
				status: 'OK',
				message: `Connected to ${where}; user "${credentials.user}" can use the coupon tables in schema "${schema}"`,
			};
		}
		await client.query('BEGIN');
		await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
		await client.query(`CREATE TABLE "${schema}".n8n_nodes_coupons_check (id integer)`);
		await client.query('ROLLBACK');
		return {
			status: 'OK',
			message: `Connected to ${where}; user "${credentials.user}" can create the coupon tables in schema "${schema}"`,
		};
	} catch (error) {
		const failure = describeDatabaseError(error, where) as Error & { description?: string };
		return {
			status: 'Error',
			message: failure.description ? `${failure.message}. ${failure.description}` : failure.message,
		};
	} finally {
		await client?.end().catch(() => undefined);
	}
}
