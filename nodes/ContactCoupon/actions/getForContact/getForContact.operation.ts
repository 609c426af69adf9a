import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { now } from '../../../shared/core/common/clock';
import {
	contactCardsForRun,
	type ContactCardRequest,
} from '../../../shared/core/assign/contactCard';
import type { AssignmentView } from '../../../shared/core/assign/assignmentView';
import { parseContact } from '../../../shared/core/common/names';
import { contactProperty, optionsCollection } from '../properties';
import { runItems } from '../../../shared/n8n/itemRunner';

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
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	return await runItems<ContactCardRequest, AssignmentView[]>(this, {
		read: (i) => ({
			contactKey: parseContact(this.getNodeParameter('contact', i)).key,
			onlyActive:
				(this.getNodeParameter('options', i, {}) as { onlyActive?: boolean }).onlyActive === true,
		}),
		serve: async (session, requests) => ({
			outcomes: await contactCardsForRun(session, requests, now()),
		}),
		readOnly: true,
		output: (json, coupons) => ({ ...json, coupons: coupons.map((coupon) => ({ ...coupon })) }),
	});
}
