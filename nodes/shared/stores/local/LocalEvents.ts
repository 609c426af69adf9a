import type { SQLInputValue } from 'node:sqlite';
import type {
	AssignmentRecord,
	EventRead,
	StoredEvent,
	TriggerEvents,
	UseScope,
} from '../../core/storeContract';
import type { AssignmentRow } from '../sqlRows';
import {
	eventQuery,
	eventUses,
	SQLITE_CURSORS,
	SQLITE_EVENTS,
	storedEvents,
	type EventRow,
} from '../triggerSql';
import { sqlRows } from './rows';

/** What LocalEvents uses of its session: its statements and records. */
export interface LocalStatements {
	all<R>(sql: string, ...params: SQLInputValue[]): R[];
	run(sql: string, ...params: SQLInputValue[]): number;
	records(rows: Array<AssignmentRow<number, number, string>>, scope?: UseScope): AssignmentRecord[];
}

/** The Coupon Trigger's reads and cursors in the local coupon file (a LocalSession's `events`). */
export class LocalEvents implements TriggerEvents {
	constructor(private readonly session: LocalStatements) {}

	async read(read: EventRead): Promise<StoredEvent[]> {
		const { sql, params } = eventQuery(read, SQLITE_EVENTS);
		const rows = this.session.all<EventRow<number, number, string>>(
			sql,
			...(params as SQLInputValue[]),
		);
		return storedEvents(rows, this.session.records(rows, eventUses(rows)), sqlRows, (ms) => ms);
	}

	async openSince(): Promise<undefined> {
		// A writer holds the file's write lock from before it reads the clock until it commits, and
		// writes that outlast the settling time are runs of a million contacts.
		return undefined;
	}

	async readCursor(key: string): Promise<unknown> {
		const [row] = this.session.all<{ cursor: string }>(SQLITE_CURSORS.read, key);
		return row ? JSON.parse(row.cursor) : undefined;
	}

	async replaceCursor(key: string, expected: unknown, cursor: unknown): Promise<boolean> {
		const [text, at] = [JSON.stringify(cursor), Date.now()];
		const changed =
			expected === undefined
				? this.session.run(SQLITE_CURSORS.insert, key, text, at)
				: this.session.run(SQLITE_CURSORS.replace, key, text, at, JSON.stringify(expected));
		return changed === 1;
	}
}
