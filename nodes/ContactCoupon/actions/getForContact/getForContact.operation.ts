import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { now } from '../../../shared/core/clock';
import { contactCards } from '../../../shared/core/contactCard';
import type { CouponView } from '../../../shared/core/couponView';
import { parseContact } from '../../../shared/core/names';
import { contactProperty, optionsCollection } from '../descriptions';
import { serveItems } from '../serveItems';

const show = { show: { operation: ['getForContact'] } };

export const description: INodeProperties[] = [
	contactProperty(
		show,
		'Whose coupons to list, usually an email address or a CRM ID. Matched ignoring case and surrounding spaces.',
	),
	optionsCollection(show, [
		{
			displayName: 'Only Active Coupons',
			name: 'onlyActive',
			type: 'boolean',
			default: false,
			description:
				'Whether to list only coupons usable now, leaving out expired, redeemed and replaced ones',
		},
	]),
];

/** "Get Contact Coupons": the contact card, every coupon the contact was given, as `coupons` on the item. */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	return await serveItems<{ contactKey: string; onlyActive: boolean }, CouponView[]>(this, {
		read: (i) => ({
			contactKey: parseContact(this.getNodeParameter('contact', i)).key,
			onlyActive:
				(this.getNodeParameter('options', i, {}) as { onlyActive?: boolean }).onlyActive === true,
		}),
		serve: async (session, requests) => {
			const all = await contactCards(
				session,
				requests.map((r) => r.contactKey),
				now(),
			);
			return requests.map(({ contactKey, onlyActive }) => {
				const card = all.get(contactKey)!;
				return { value: onlyActive ? card.filter((coupon) => coupon.status === 'active') : card };
			});
		},
		output: (json, coupons) => ({ ...json, coupons: coupons.map((coupon) => ({ ...coupon })) }),
	});
}
