import { codeKey } from '../../core/codes/codes';
import type { AssignmentRecord, EventPosition, EventRead } from '../../core/storeContract';

/** Where an assignment's events of the stream stand, whatever the read's range (see EventStream). */
export function eventPositions(
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
