import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { now } from '../../../shared/core/clock';
import { contactCardsForRun, type ContactCardRequest } from '../../../shared/core/contactCard';
import type { AssignmentView } from '../../../shared/core/assignmentView';
import { parseContact } from '../../../shared/core/names';
import { contactProperty, optionsCollection } from '../descriptions';
import { runItems } from '../../../shared/itemRunner';

export const properties: INodeProperties[] = [
	contactProperty(
		'Whose coupons to list, usually an email address or a CRM ID. Matched ignoring case and surrounding spaces.',
	),
	optionsCollection([
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
	return await runItems<ContactCardRequest, AssignmentView[]>(this, {
		read: (i) => ({
			contactKey: parseContact(this.getNodeParameter('contact', i)).key,
			onlyActive:
				(this.getNodeParameter('options', i, {}) as { onlyActive?: boolean }).onlyActive === true,
		}),
		serve: async (session, requests) => await contactCardsForRun(session, requests, now()),
		readOnly: true,
		output: (json, coupons) => ({ ...json, coupons: coupons.map((coupon) => ({ ...coupon })) }),
	});
}
