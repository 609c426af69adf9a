import type { CouponStoreSession } from '../storeContract';
import { viewAssignment, type AssignmentView } from './assignmentView';
import type { Outcome } from '../common/errors';

export interface ContactCardRequest {
	contactKey: string;
	/** Only the coupons usable now, leaving out expired, redeemed and replaced ones. */
	onlyActive: boolean;
}

/** Every coupon each contact was ever given, newest first (the "contact card"); none is an empty list. */
export async function contactCards(
	session: CouponStoreSession,
	contactKeys: string[],
	now: number,
): Promise<Map<string, AssignmentView[]>> {
	const held = await session.assignmentsOfContacts(contactKeys);
	const cards = new Map<string, AssignmentView[]>();
	for (const contactKey of contactKeys) {
		const coupons = (held.get(contactKey) ?? [])
			.sort(
				(a, b) =>
					b.assignedAt - a.assignedAt ||
					a.couponName.localeCompare(b.couponName) ||
					a.code.localeCompare(b.code),
			)
			.map((coupon) => viewAssignment(coupon, coupon, now));
		cards.set(contactKey, coupons);
	}
	return cards;
}

/** The contact card of each request's contact, as `contactCards`, filtered as it asks. */
export async function contactCardsForRun(
	session: CouponStoreSession,
	requests: ContactCardRequest[],
	now: number,
): Promise<Array<Outcome<AssignmentView[]>>> {
	const cards = await contactCards(
		session,
		requests.map((r) => r.contactKey),
		now,
	);
	return requests.map(({ contactKey, onlyActive }) => {
		const card = cards.get(contactKey)!;
		return { value: onlyActive ? card.filter((coupon) => coupon.status === 'active') : card };
	});
}
