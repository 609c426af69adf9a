import { NodeOperationError, type IExecuteFunctions, type INodeExecutionData } from 'n8n-workflow';
import * as generate from './generate/generate.operation';
import * as getForContact from './getForContact/getForContact.operation';
import * as redeem from './redeem/redeem.operation';
import * as render from './render/render.operation';
import * as stats from './stats/stats.operation';
import * as validate from './validate/validate.operation';

const operations: Record<
	string,
	{ execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> }
> = { generate, getForContact, render, validate, redeem, stats };

export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const operation = this.getNodeParameter('operation', 0) as string;
	if (!Object.hasOwn(operations, operation)) {
		throw new NodeOperationError(this.getNode(), `The operation "${operation}" is not supported`, {
			description: 'Choose an operation from the list in the node panel.',
		});
	}
	return [await operations[operation].execute.call(this)];
}
