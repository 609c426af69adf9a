import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import {
	parseCodeRequest,
	validateCodes,
	type CodeCheck,
	type CodeCheckOptions,
	type CodeRequest,
} from '../../../shared/core/checkout/checkout';
import { now } from '../../../shared/core/common/clock';
import { codeCheckProperties, orderReferenceOption } from '../properties';
import { runItems } from '../../../shared/n8n/itemRunner';

export const properties: INodeProperties[] = codeCheckProperties([
	orderReferenceOption(
		'The order checking the code: a code Reserve Code holds for this order counts as valid, a code this order already redeemed as redeemed',
	),
]);

/** "Validate Code": whether the code can be used now and why not, as `validation` on the item. Changes nothing. */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	return await runItems<CodeRequest, CodeCheck>(this, {
		read: (i) =>
			parseCodeRequest(
				this.getNodeParameter('code', i),
				this.getNodeParameter('options', i, {}) as CodeCheckOptions,
			),
		serve: async (session, requests) => ({
			outcomes: await validateCodes(session, requests, now()),
		}),
		readOnly: true,
		output: (json, validation) => ({
			...json,
			validation,
		}),
	});
}
