import {
	NodeApiError,
	NodeOperationError,
	type IExecuteFunctions,
	type INodeExecutionData,
	type JsonObject,
} from 'n8n-workflow';
import { CouponError, StoreError } from '../core/common/errors';

/** A failure as n8n shows it. */
export type NodeFailure = NodeOperationError | NodeApiError;

/**
 * Any failure as the error n8n shows, naming the item it concerns: a NodeApiError when the
 * storage (PostgreSQL) failed, a NodeOperationError for bad input and broken coupon rules.
 */
export function nodeError(
	context: IExecuteFunctions,
	error: unknown,
	itemIndex: number,
): NodeFailure {
	if (error instanceof NodeOperationError || error instanceof NodeApiError) return error;
	if (error instanceof StoreError) {
		const { message, description } = error;
		return new NodeApiError(context.getNode(), error as unknown as JsonObject, {
			message,
			description,
			itemIndex,
		});
	}
	if (error instanceof CouponError) {
		return new NodeOperationError(context.getNode(), error.message, {
			itemIndex,
			description: error.description,
		});
	}
	return new NodeOperationError(context.getNode(), error as Error, { itemIndex });
}

/**
 * The output item for a failed input item under "Continue on Fail": its data plus the error, and
 * what to do (`errorDescription`). Under On Error "Continue (using error output)" n8n sends to the
 * error output an item whose data holds only `error`, `message` and `details`, and adds the input
 * item's data itself: the error's description goes in `details` then.
 */
export function errorItem(
	context: IExecuteFunctions,
	item: INodeExecutionData,
	error: NodeFailure,
	itemIndex: number,
): INodeExecutionData {
	const pairedItem = { item: itemIndex };
	if (context.getNode().onError === 'continueErrorOutput')
		return {
			json: { error: error.message, ...(error.description ? { details: error.description } : {}) },
			pairedItem,
		};
	return {
		json: {
			...item.json,
			error: error.message,
			...(error.description ? { errorDescription: error.description } : {}),
		},
		pairedItem,
	};
}
