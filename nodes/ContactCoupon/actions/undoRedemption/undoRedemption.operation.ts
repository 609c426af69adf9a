import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { parseCodeRequest, type CodeCheckOptions } from '../../../shared/core/checkout/checkout';
import { now } from '../../../shared/core/common/clock';
import {
	MAX_UNDO_REASON_LENGTH,
	parseUndoReason,
	undoRedemptions,
	type Undo,
	type UndoRequest,
} from '../../../shared/core/checkout/undo';
import { codeCheckProperties, orderReferenceOption } from '../properties';
import { runItems } from '../../../shared/n8n/itemRunner';
import { asLegacyErrors } from '../versions';

export const properties: INodeProperties[] = codeCheckProperties([
	orderReferenceOption(
		'Undo only the redemption made for this order, such as the refunded one. Without it, the newest redemption of the code is undone.',
	),
	{
		displayName: 'Reason',
		name: 'reason',
		type: 'string',
		default: '',
		placeholder: 'e.g. order refunded',
		description: `Why the redemption is undone, kept in the code's history and shown on the contact card (up to ${MAX_UNDO_REASON_LENGTH} characters)`,
	},
]);

/** "Undo Redemption": gives back the use a redemption took, as `undo` on the item. */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	return await runItems<UndoRequest, Undo>(this, {
		read: (i) => {
			const options = this.getNodeParameter('options', i, {}) as CodeCheckOptions & {
				reason?: unknown;
			};
			const request: UndoRequest = parseCodeRequest(this.getNodeParameter('code', i), options);
			const reason = parseUndoReason(options.reason);
			if (reason !== undefined) request.reason = reason;
			return request;
		},
		serve: async (session, requests) => ({
			outcomes: asLegacyErrors(
				this,
				await undoRedemptions(session, requests, now()),
				'other_order',
				'Map Order Reference to the order the code was redeemed for, or remove the option to undo the newest use.',
			),
		}),
		output: (json, undo) => ({
			...json,
			undo,
		}),
		notSaved: () => 'these undone redemptions were not stored.',
	});
}
