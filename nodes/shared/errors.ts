import { NodeOperationError, type IExecuteFunctions, type INodeExecutionData } from 'n8n-workflow';
import { CouponError, StoreError } from './core/errors';

/** Any failure as the NodeOperationError n8n shows, naming the item it concerns. */
export function nodeError(
	context: IExecuteFunctions,
	error: unknown,
	itemIndex: number,
): NodeOperationError {
	if (error instanceof NodeOperationError) return error;
	if (error instanceof CouponError || error instanceof StoreError) {
		return new NodeOperationError(context.getNode(), error.message, {
			itemIndex,
			description: error.description,
		});
	}
	return new NodeOperationError(context.getNode(), error as Error, { itemIndex });
}

/** The output item for a failed input item under "Continue on Fail": its data plus the error. */
export function errorItem(
	item: INodeExecutionData,
	error: NodeOperationError,
	itemIndex: number,
): INodeExecutionData {
	return {
		json: {
			...item.json,
			error: error.message,
			...(error.description ? { errorDescription: error.description } : {}),
		},
		pairedItem: { item: itemIndex },
	};
}
