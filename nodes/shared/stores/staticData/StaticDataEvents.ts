import { codeKey } from '../../core/codes/codes';
import { comparePositions } from '../../core/events/positions';
import type { Turns } from '../../core/common/turns';
import type {
	AssignmentRecord,
	EventPosition,
	EventRead,
	StoredEvent,
	TriggerEvents,
} from '../../core/storeContract';
import { copyRecord } from './codec';
import type { WorkingPool } from './WorkingPool';

/** The Coupon Trigger's reads and cursors in workflow static data (a session's `events`). */
export class StaticDataEvents implements TriggerEvents {
	/** The cursors kept by key, and whether this transaction changed them. */
	readonly cursors: { kept: Map<string, unknown>; changed: boolean };

	constructor(
		kept: Map<string, unknown>,
		private readonly turns: Turns,
		/** The session's pools by name key, those wanted only (all when missing), unpacked. */
		private readonly pools: (
			wanted?: Set<string>,
		) => Promise<Array<{ key: string; pool: WorkingPool }>>,
	) {
		this.cursors = { kept, changed: false };
	}

	async read(read: EventRead): Promise<StoredEvent[]> {
		const wanted = read.couponKeys ? new Set(read.couponKeys) : undefined;
		const found: StoredEvent[] = [];
		for (const { key, pool } of await this.pools(wanted)) {
			for (const assignment of pool.assignments) {
				for (const position of eventPositions(read, assignment, key))
					if (comparePositions(position, read.after) > 0 && position.at <= read.upTo)
						found.push({
							couponName: pool.info.name,
							terms: pool.terms,
							position,
							assignment: copyRecord(assignment, { numbers: [position.n] }),
						});
				if (this.turns.due()) await this.turns.pass();
			}
		}
		return found.sort((a, b) => comparePositions(a.position, b.position)).slice(0, read.limit);
	}

	async openSince(): Promise<undefined> {
		// One execution at a time owns the static data.
		return undefined;
	}

	async readCursor(key: string): Promise<unknown> {
		return structuredClone(this.cursors.kept.get(key));
	}

	async replaceCursor(key: string, expected: unknown, cursor: unknown): Promise<boolean> {
		const { kept } = this.cursors;
		if (JSON.stringify(kept.get(key)) !== JSON.stringify(expected)) return false;
		kept.set(key, structuredClone(cursor));
		this.cursors.changed = true;
		return true;
	}
}

/** Where an assignment's events of the stream stand, whatever the read's range (see EventStream). */
function eventPositions(
	read: EventRead,
	assignment: AssignmentRecord,
	couponKey: string,
): EventPosition[] {
	const at = (time: number, n = 0) => ({
		at: time,
		couponKey,
		codeKey: codeKey(assignment.code),
		n,
	});
	const active = () =>
		assignment.replacedAt === undefined &&
		assignment.redeemedAt === undefined &&
		assignment.validUntil > read.activeAt!;
	switch (read.stream) {
		case 'redeemed':
			return (assignment.redemptions ?? []).map((entry) => at(entry.at, entry.n));
		case 'undone':
			return (assignment.redemptions ?? []).flatMap((entry) =>
				entry.undoneAt === undefined ? [] : [at(entry.undoneAt, entry.n)],
			);
		case 'holdLapsed':
			return assignment.hold ? [at(assignment.hold.until)] : [];
		case 'expiring':
			return active() && assignment.assignedAt <= read.assignedAtMost!
				? [at(assignment.validUntil)]
				: [];
		case 'assignedExpiring':
			return active() && assignment.validUntil <= read.validUntilAtMost!
				? [at(assignment.assignedAt)]
				: [];
	}
}
