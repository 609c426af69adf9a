import type { CouponStoreSession } from './store';
import { viewCoupon, type CouponView } from './couponView';

/** Every coupon each contact was ever given, newest first (the "contact card"); none is an empty list. */
export async function contactCards(
	session: CouponStoreSession,
	contactKeys: string[],
	now: number,
): Promise<Map<string, CouponView[]>> {
	const held = await session.couponsOfContacts(contactKeys);
	const cards = new Map<string, CouponView[]>();
	for (const contactKey of contactKeys) {
		const coupons = (held.get(contactKey) ?? [])
			.sort(
				(a, b) =>
					b.assignedAt - a.assignedAt ||
					a.couponName.localeCompare(b.couponName) ||
					a.code.localeCompare(b.code),
			)
			.map((coupon) => viewCoupon(coupon.couponName, coupon, now));
		cards.set(contactKey, coupons);
	}
	return cards;
}
