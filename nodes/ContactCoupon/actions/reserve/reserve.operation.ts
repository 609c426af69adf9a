import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import {
	parseCodeRequest,
	parseRequiredOrderReference,
} from '../../../shared/core/checkout/checkout';
import { now } from '../../../shared/core/common/clock';
import {
	DEFAULT_HOLD_MINUTES,
	MAX_HOLD_MINUTES,
	parseHoldMinutes,
	reserveCodes,
	type Reservation,
	type ReserveRequest,
} from '../../../shared/core/checkout/holds';
import { codeCheckProperties, requiredOrderReference } from '../properties';
import { runItems } from '../../../shared/n8n/itemRunner';

export const properties: INodeProperties[] = codeCheckProperties(
	[],
	[
		requiredOrderReference(
			'The order the code is held for. Redeem Code with this order reference confirms the hold; Release Code with it ends the hold.',
		),
		{
			displayName: 'Hold For (Minutes)',
			name: 'holdMinutes',
			type: 'number',
			typeOptions: { minValue: 1, maxValue: MAX_HOLD_MINUTES },
			default: DEFAULT_HOLD_MINUTES,
			description:
				'How long the payment may take. The hold ends by itself after this time, freeing the code for other orders; reserving again for the same order extends it.',
		},
	],
);

/** "Reserve Code": holds the code for an order while the customer pays, as `reservation` on the item. */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	return await runItems<ReserveRequest, Reservation>(this, {
		read: (i) => ({
			...parseCodeRequest(
				this.getNodeParameter('code', i),
				this.getNodeParameter('options', i, {}) as object,
			),
			orderReference: parseRequiredOrderReference(this.getNodeParameter('orderReference', i)),
			holdMinutes: parseHoldMinutes(this.getNodeParameter('holdMinutes', i)),
		}),
		serve: async (session, requests) => ({
			outcomes: await reserveCodes(session, requests, now()),
		}),
		output: (json, reservation) => ({
			...json,
			reservation,
		}),
		notSaved: () => 'these holds were not stored.',
	});
}
