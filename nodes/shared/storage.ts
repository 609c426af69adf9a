import { NodeOperationError, type IExecuteFunctions } from 'n8n-workflow';
import type { CouponStore } from './core/store';
import { PostgresStore } from './store/postgres/PostgresStore';
import { StaticDataStore } from './store/StaticDataStore';
import { databaseFor, type CouponPostgresCredentials } from './transport/postgres';
import { nodeError } from './errors';

export type StorageKind = 'staticData' | 'database';

export const CREDENTIAL_NAME = 'couponPostgres';

/** The store chosen in the node's Storage parameter. */
export async function openStore(
	context: IExecuteFunctions,
): Promise<{ store: CouponStore; storage: StorageKind }> {
	const storage = context.getNodeParameter('storage', 0) as string;
	if (storage === 'staticData')
		return { store: new StaticDataStore(context.getWorkflowStaticData('global')), storage };
	if (storage === 'database') {
		const credentials = await context.getCredentials<CouponPostgresCredentials>(CREDENTIAL_NAME);
		try {
			return { store: new PostgresStore(databaseFor(credentials)), storage };
		} catch (error) {
			throw nodeError(context, error, 0);
		}
	}
	throw new NodeOperationError(context.getNode(), `Unknown storage "${storage}"`, {
		description: 'Choose a storage from the list in the node panel.',
	});
}

/** Test runs from the editor never save static data: say so, or the next run surprises the user. */
export function warnIfNotSaved(
	context: IExecuteFunctions,
	storage: StorageKind,
	whatWasLost: string,
): void {
	if (storage !== 'staticData' || context.getMode() !== 'manual') return;
	context.addExecutionHints({
		message: `Test run: n8n does not save workflow static data for runs started from the editor, so ${whatWasLost} Activate the workflow so that its trigger runs it in production; those runs are saved.`,
		location: 'outputPane',
	});
}
