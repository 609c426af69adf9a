import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import {
	parseCodeRequest,
	redeemCodes,
	type CodeCheckOptions,
	type CodeRequest,
	type Redemption,
} from '../../../shared/core/checkout/checkout';
import { now } from '../../../shared/core/common/clock';
import { codeCheckProperties, orderReferenceOption } from '../properties';
import { runItems } from '../../../shared/n8n/itemRunner';

export const properties: INodeProperties[] = codeCheckProperties([
	orderReferenceOption(
		'The order the code is used for, kept with the redemption and shown on the contact card. Confirms a hold Reserve Code made for this order; an order takes one use of a code.',
	),
]);

/** "Redeem Code": checks the code, then takes one use of it, as `redemption` on the item. Never frees a code. */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	return await runItems<CodeRequest, Redemption>(this, {
		read: (i) =>
			parseCodeRequest(
				this.getNodeParameter('code', i),
				this.getNodeParameter('options', i, {}) as CodeCheckOptions,
			),
		serve: async (session, requests) => ({ outcomes: await redeemCodes(session, requests, now()) }),
		output: (json, redemption) => ({
			...json,
			redemption,
		}),
		notSaved: () => 'these redemptions were not stored and the same codes can be redeemed again.',
	});
}
