import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { validateCodes, type CodeCheck } from '../../../shared/core/checkout';
import { now } from '../../../shared/core/clock';
import { codeCheckProperties, readCodeRequest, type CodeCheckOptions } from '../descriptions';
import { runItems } from '../../../shared/itemRunner';

export const properties: INodeProperties[] = codeCheckProperties([]);

/** "Validate Code": whether the code can be used now and why not, as `validation` on the item. Changes nothing. */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	return await runItems<ReturnType<typeof readCodeRequest>, CodeCheck>(this, {
		read: (i) =>
			readCodeRequest(this, i, this.getNodeParameter('options', i, {}) as CodeCheckOptions),
		serve: async (session, requests) => await validateCodes(session, requests, now()),
		output: (json, validation) => ({
			...json,
			validation: { ...validation, coupon: validation.coupon && { ...validation.coupon } },
		}),
	});
}
