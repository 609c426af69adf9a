import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { CouponError } from '../../shared/core/common/errors';
import { nodeError } from '../../shared/n8n/nodeErrors';
import { operations, type ContactCouponOperation } from './operations';

const byValue = new Map<string, ContactCouponOperation>(operations.map((op) => [op.value, op]));

export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const value = this.getNodeParameter('operation', 0) as string;
	const operation = byValue.get(value);
	if (!operation) {
		throw nodeError(
			this,
			new CouponError(
				'CHOICE_UNKNOWN',
				`The operation "${value}" is not supported`,
				'Choose an operation from the list in the node panel.',
			),
			0,
		);
	}
	return await operation.execute.call(this);
}
