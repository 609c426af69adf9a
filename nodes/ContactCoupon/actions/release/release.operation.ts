import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import {
	parseCodeRequest,
	parseRequiredOrderReference,
} from '../../../shared/core/checkout/checkout';
import { now } from '../../../shared/core/common/clock';
import {
	releaseCodes,
	type Release,
	type ReleaseRequest,
} from '../../../shared/core/checkout/holds';
import { codeCheckProperties, requiredOrderReference } from '../properties';
import { runItems } from '../../../shared/n8n/itemRunner';
import { asLegacyErrors } from '../versions';

export const properties: INodeProperties[] = codeCheckProperties(
	[],
	[
		requiredOrderReference(
			'The order whose hold ends, as given to Reserve Code. A hold for another order is left running.',
		),
	],
);

/** "Release Code": ends an order's hold on a code (a failed payment), as `release` on the item. */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	return await runItems<ReleaseRequest, Release>(this, {
		read: (i) => ({
			...parseCodeRequest(
				this.getNodeParameter('code', i),
				this.getNodeParameter('options', i, {}) as object,
			),
			orderReference: parseRequiredOrderReference(this.getNodeParameter('orderReference', i)),
		}),
		serve: async (session, requests) => ({
			outcomes: asLegacyErrors(
				this,
				await releaseCodes(session, requests, now()),
				'reserved',
				'Map Order Reference to the order that reserved the code, such as {{ $json.body.orderId }}.',
			),
		}),
		output: (json, release) => ({
			...json,
			release,
		}),
		notSaved: () => 'these releases were not stored.',
	});
}
