import type { QueryResultRow } from 'pg';
import type {
	AssignmentRecord,
	EventRead,
	StoredEvent,
	TriggerEvents,
	UseScope,
} from '../../core/storeContract';
import {
	eventQuery,
	postgresCursors,
	postgresEvents,
	eventUses,
	storedEvents,
	type EventDialect,
	type EventRow,
} from '../triggerSql';
import { iso } from './statements';
import { sqlRows, type AssignmentRow } from './rows';

/** What PostgresEvents uses of its session: its queries and records. */
export interface PostgresStatements {
	query<R extends QueryResultRow>(
		sql: string,
		params?: unknown[],
	): Promise<{ rows: R[]; rowCount: number }>;
	records(rows: AssignmentRow[], scope?: UseScope): Promise<AssignmentRecord[]>;
}

/** The Coupon Trigger's reads and cursors in PostgreSQL (a PostgresSession's `events`). */
export class PostgresEvents implements TriggerEvents {
	private readonly dialect: EventDialect;
	private readonly cursors: ReturnType<typeof postgresCursors>;

	constructor(
		/** The schema, quoted for SQL. */
		schema: string,
		private readonly session: PostgresStatements,
	) {
		this.dialect = postgresEvents(schema);
		this.cursors = postgresCursors(schema);
	}

	async read(read: EventRead): Promise<StoredEvent[]> {
		const { sql, params } = eventQuery(read, this.dialect);
		const { rows } = await this.session.query<EventRow<string, Date, unknown>>(sql, params);
		const records = await this.session.records(rows, eventUses(rows));
		return storedEvents(rows, records, sqlRows, (time) => time.getTime());
	}

	async openSince(): Promise<number | undefined> {
		// The package's connections to this schema (transport/postgres.ts names them so), and those of
		// versions that named them without it. Their age by the server's clock, which the time they
		// began is: n8n's may differ.
		const { rows } = await this.session.query<{ age: string | null }>(
			`SELECT extract(epoch FROM statement_timestamp() - min(xact_start)) * 1000 AS age
			FROM pg_stat_activity
			WHERE application_name IN (current_setting('application_name'), 'n8n-nodes-coupons')
				AND datname = current_database() AND pid <> pg_backend_pid() AND xact_start IS NOT NULL`,
		);
		const { age } = rows[0];
		return age === null ? undefined : Date.now() - Number(age);
	}

	async readCursor(key: string): Promise<unknown> {
		const { rows } = await this.session.query<{ cursor: unknown }>(this.cursors.read, [key]);
		return rows[0]?.cursor;
	}

	async replaceCursor(key: string, expected: unknown, cursor: unknown): Promise<boolean> {
		const [text, at] = [JSON.stringify(cursor), iso(Date.now())];
		const { rowCount } =
			expected === undefined
				? await this.session.query(this.cursors.insert, [key, text, at])
				: await this.session.query(this.cursors.replace, [key, text, at, JSON.stringify(expected)]);
		return rowCount === 1;
	}
}
