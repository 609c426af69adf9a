import {
	NodeApiError,
	NodeOperationError,
	type IExecuteFunctions,
	type INodeExecutionData,
	type JsonObject,
} from 'n8n-workflow';
import { CouponError, StoreError } from '../core/common/errors';
import type { ErrorCode } from '../core/common/errorCodes';

/** A failure as n8n shows it. */
export type NodeFailure = NodeOperationError | NodeApiError;

/**
 * Any failure as the error n8n shows, naming the item it concerns: a NodeApiError when the
 * storage (PostgreSQL) failed, a NodeOperationError for bad input and broken coupon rules. The
 * refusal's stable code goes in the error's context as `errorCode`.
 */
export function nodeError(
	context: Pick<IExecuteFunctions, 'getNode'>,
	error: unknown,
	itemIndex: number,
): NodeFailure {
	if (error instanceof NodeOperationError || error instanceof NodeApiError) return error;
	if (error instanceof StoreError) {
		const { message, description } = error;
		return withCode(
			new NodeApiError(context.getNode(), error as unknown as JsonObject, {
				message,
				description,
				itemIndex,
			}),
			error.code,
		);
	}
	if (error instanceof CouponError) {
		return withCode(
			new NodeOperationError(context.getNode(), error.message, {
				itemIndex,
				description: error.description,
			}),
			error.code,
		);
	}
	return new NodeOperationError(context.getNode(), error as Error, { itemIndex });
}

function withCode(failure: NodeFailure, code: ErrorCode): NodeFailure {
	failure.context.errorCode = code;
	return failure;
}

/** The stable code of a failure this package made; none for an unexpected error. */
const errorCodeOf = (failure: NodeFailure): ErrorCode | undefined =>
	failure.context.errorCode as ErrorCode | undefined;

/**
 * The output item for a failed input item under "Continue on Fail": its data plus the error, what
 * to do (`errorDescription`) and the refusal's stable code (`errorCode`). Under On Error "Continue
 * (using error output)" n8n sends to the error output only an item whose data holds nothing but
 * `error`, `message` and `details`, and adds the input item's data itself: the code and what to do
 * go in `details` then.
 */
export function errorItem(
	context: IExecuteFunctions,
	item: INodeExecutionData,
	error: NodeFailure,
	itemIndex: number,
): INodeExecutionData {
	const pairedItem = { item: itemIndex };
	const errorCode = errorCodeOf(error);
	if (context.getNode().onError === 'continueErrorOutput') {
		const details = {
			...(errorCode ? { errorCode } : {}),
			...(error.description ? { fix: error.description } : {}),
		};
		return {
			json: { error: error.message, ...(Object.keys(details).length > 0 ? { details } : {}) },
			pairedItem,
		};
	}
	return {
		json: {
			...item.json,
			error: error.message,
			...(errorCode ? { errorCode } : {}),
			...(error.description ? { errorDescription: error.description } : {}),
		},
		pairedItem,
	};
}
