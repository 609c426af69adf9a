import { NodeOperationError, type IExecuteFunctions, type INodeExecutionData } from 'n8n-workflow';
import { operations, type ContactCouponOperation } from './operations';

const byValue = new Map<string, ContactCouponOperation>(operations.map((op) => [op.value, op]));

export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const value = this.getNodeParameter('operation', 0) as string;
	const operation = byValue.get(value);
	if (!operation) {
		throw new NodeOperationError(this.getNode(), `The operation "${value}" is not supported`, {
			description: 'Choose an operation from the list in the node panel.',
		});
	}
	return [await operation.execute.call(this)];
}
