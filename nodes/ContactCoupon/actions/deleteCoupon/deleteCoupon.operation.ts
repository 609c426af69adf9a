import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
} from 'n8n-workflow';
import { now } from '../../../shared/core/common/clock';
import {
	deleteCoupons,
	type DeleteCouponRequest,
	type DeletedCoupon,
} from '../../../shared/core/pool/deleteCoupon';
import { parseCouponName } from '../../../shared/core/common/names';
import { runItems } from '../../../shared/n8n/itemRunner';
import { optionsCollection } from '../properties';
import { couponNameProperty } from '../../../shared/n8n/properties';

export const properties: INodeProperties[] = [
	couponNameProperty('The coupon to delete with all its codes. Names match ignoring case.', {
		placeholder: 'e.g. SPRNG10',
	}),
	{
		displayName: 'Delete Assigned Codes Too',
		name: 'deleteAssigned',
		type: 'boolean',
		default: false,
		description:
			'Whether to delete a coupon whose codes contacts were given (active, expired, redeemed or replaced), with those assignments and their history. Off, such a coupon is refused and the error says what would have been deleted: the codes may still be in the hands of customers.',
	},
	optionsCollection([
		{
			displayName: 'Dry Run',
			name: 'dryRun',
			type: 'boolean',
			default: false,
			description:
				'Whether to only say what would be deleted, deleting nothing (refused as the deletion would be)',
		},
	]),
];

interface DeleteRequest extends DeleteCouponRequest {
	dryRun: boolean;
}

/** "Delete Coupon": removes a coupon with its codes; one item per input item says what went. */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	return await runItems<DeleteRequest, DeletedCoupon>(this, {
		read: (i) => {
			const options = this.getNodeParameter('options', i, {}) as { dryRun?: boolean };
			return {
				couponName: parseCouponName(this.getNodeParameter('couponName', i)),
				withAssigned: this.getNodeParameter('deleteAssigned', i, false) === true,
				dryRun: options.dryRun === true,
			};
		},
		serve: async (session, requests) => ({
			outcomes: await deleteCoupons(session, requests, now()),
		}),
		bulk: true,
		dryRun: (request) => request.dryRun,
		// The name and the outcome first, then the counts of what went.
		output: (_json, { couponName, message, ...counts }, { dryRun }): IDataObject => ({
			couponName,
			deleted: !dryRun,
			dryRun,
			message: dryRun ? message.replace(/ were deleted/, ' would be deleted') : message,
			...counts,
		}),
		notSaved: () => 'the coupons were not deleted.',
		hints: ({ requests }) =>
			requests.some((request) => request.dryRun)
				? ['Dry Run: nothing was deleted; the items say what would be.']
				: [],
	});
}
