import { NodeOperationError, type IExecuteFunctions, type INodeExecutionData } from 'n8n-workflow';
import * as generate from './generate/generate.operation';

export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const operation = this.getNodeParameter('operation', 0) as string;
	switch (operation) {
		case 'generate':
			return [await generate.execute.call(this)];
		default:
			throw new NodeOperationError(this.getNode(), `The operation "${operation}" is not supported`, {
				description: 'Choose an operation from the list in the node panel.',
			});
	}
}
