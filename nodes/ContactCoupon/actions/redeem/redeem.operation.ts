import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import {
	parseCodeRequest,
	parseOrderReference,
	redeemCodes,
	type CodeCheckOptions,
	type RedeemRequest,
	type Redemption,
} from '../../../shared/core/checkout';
import { now } from '../../../shared/core/clock';
import { codeCheckProperties } from '../descriptions';
import { runItems } from '../../../shared/itemRunner';

export const properties: INodeProperties[] = codeCheckProperties([
	{
		displayName: 'Order Reference',
		name: 'orderReference',
		type: 'string',
		default: '',
		placeholder: 'e.g. {{ $json.body.orderId }}',
		description:
			'The order the code was used for, kept with the redemption and shown on the contact card',
	},
]);

/** "Redeem Code": checks the code, then marks it used, as `redemption` on the item. Never frees a code. */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	return await runItems<RedeemRequest, Redemption>(this, {
		read: (i) => {
			const options = this.getNodeParameter('options', i, {}) as CodeCheckOptions & {
				orderReference?: unknown;
			};
			return {
				...parseCodeRequest(this.getNodeParameter('code', i), options),
				orderReference: parseOrderReference(options.orderReference),
			};
		},
		serve: async (session, requests) => await redeemCodes(session, requests, now()),
		output: (json, redemption) => ({
			...json,
			redemption: { ...redemption, coupon: redemption.coupon && { ...redemption.coupon } },
		}),
		notSaved: () => 'these redemptions were not stored and the same codes can be redeemed again.',
	});
}
