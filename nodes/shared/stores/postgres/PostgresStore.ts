import type { PoolClient } from 'pg';
import { StoreError } from '../../core/common/errors';
import { describeDatabaseError, type CouponDatabase } from '../../transport/postgres';
import {
	type CouponStore,
	type CouponStoreSession,
	type ImportStaging,
	type TransactionOptions,
} from '../../core/storeContract';
import { migrate } from './migrations';
import { PostgresSession } from './PostgresSession';
import { PostgresStaging } from './PostgresStaging';

/**
 * Coupon storage in PostgreSQL: atomic under concurrent executions and n8n queue-mode workers.
 * Every transaction runs on one connection from the credential's shared pool.
 */
export class PostgresStore implements CouponStore {
	constructor(private readonly database: CouponDatabase) {}

	async transaction<T>(
		work: (session: CouponStoreSession) => Promise<T>,
		options: TransactionOptions = {},
	): Promise<T> {
		return await this.onConnection(
			async (client, broken) => await this.transactionOn(client, false, work, options, broken),
		);
	}

	async withStaging<T>(use: (staging: ImportStaging) => Promise<T>): Promise<T> {
		return await this.onConnection(async (client, broken) => {
			const staging = new PostgresStaging(
				client,
				this.database.where,
				async (work, options = {}) => await this.transactionOn(client, true, work, options, broken),
			);
			try {
				return await use(staging);
			} finally {
				// Closed, not given back: its temporary tables and their buffers go with it.
				broken.connection = true;
			}
		});
	}

	/** Runs `use` on a connection of the pool, migrated; one that broke is closed, not reused. */
	private async onConnection<T>(
		use: (client: PoolClient, broken: { connection: boolean }) => Promise<T>,
	): Promise<T> {
		const { database } = this;
		const client = await database.connect();
		const broken = { connection: false };
		try {
			await this.statement(client, async () => await this.migrated(client));
			return await use(client, broken);
		} catch (error) {
			// After a database failure the connection may be unusable: drop it.
			if (error instanceof StoreError) broken.connection = true;
			throw error;
		} finally {
			database.release(client, broken.connection);
		}
	}

	private async transactionOn<T>(
		client: PoolClient,
		staging: boolean,
		work: (session: CouponStoreSession) => Promise<T>,
		{ rollBack = false, readOnly = false }: TransactionOptions,
		broken: { connection: boolean },
	): Promise<T> {
		const { database } = this;
		await this.statement(client, async () => {
			// Explicitly: a database or role default of REPEATABLE READ would fail concurrent assignments.
			// A read sees one snapshot (an export's pages agree), and PostgreSQL refuses a write in it.
			await client.query(
				readOnly
					? 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY'
					: 'BEGIN ISOLATION LEVEL READ COMMITTED',
			);
		});
		const session = new PostgresSession(client, `"${database.schema}"`, database.where, staging);
		let result: T;
		try {
			result = await work(session);
			await session.finish();
		} catch (error) {
			// The work's own errors (a coupon rule, a node error) pass through as they are.
			await client.query('ROLLBACK').catch(() => (broken.connection = true));
			throw error;
		}
		try {
			await client.query(rollBack || readOnly ? 'ROLLBACK' : 'COMMIT');
		} catch (error) {
			const lost = describeDatabaseError(error, database.where);
			throw new StoreError(
				'STORE_CONNECTION_LOST',
				`${lost.message} (while saving this step)`,
				'The step may or may not have been saved. Check the coupons (for example with the Coupon Import summary or the database) before running it again.',
			);
		}
		// Outside the transaction, a moment's work on a small table. Never analyzed, the coupons
		// count as hundreds of rows, and the planner looks for a code typed at checkout in every
		// code of every coupon; autovacuum only analyzes them after 50 changes. The step is saved:
		// a failure here is only a missed refresh.
		if (session.createdPool && !rollBack && !readOnly)
			await client.query(`ANALYZE "${database.schema}".pools`).catch(() => undefined);
		return result;
	}

	private async statement(client: PoolClient, run: () => Promise<unknown>): Promise<void> {
		try {
			await run();
		} catch (error) {
			await client.query('ROLLBACK').catch(() => undefined);
			throw describeDatabaseError(error, this.database.where);
		}
	}

	private async migrated(client: PoolClient): Promise<void> {
		this.database.migrated ??= migrate(client, this.database.schema).catch((error: unknown) => {
			this.database.migrated = undefined;
			throw error;
		});
		await this.database.migrated;
	}
}
