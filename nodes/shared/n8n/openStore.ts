import type { IExecuteFunctions } from 'n8n-workflow';
import { CouponError } from '../core/common/errors';
import type { CouponStore } from '../core/storeContract';
import { LocalStore } from '../stores/local/LocalStore';
import { PostgresStore } from '../stores/postgres/PostgresStore';
import { StaticDataStore } from '../stores/staticData/StaticDataStore';
import { databaseFor, type CouponPostgresCredentials } from '../transport/postgres';
import { isQueueMode, localCouponFile, localDatabase } from '../transport/sqlite';
import { nodeError } from './nodeErrors';

export type StorageKind = 'local' | 'staticData' | 'database';

export const CREDENTIAL_NAME = 'couponPostgres';

/** An open store, with the words that tell the user where its coupons are. */
export interface OpenStore {
	store: CouponStore;
	storage: StorageKind;
	/** Where the coupons are, for hints: "the local file /home/node/.n8n/coupons.sqlite". */
	where: string;
}

/** What opening a store needs of n8n: the node, the workflow's static data and the credential. */
export type StoreContext = Pick<
	IExecuteFunctions,
	'getNode' | 'getWorkflowStaticData' | 'getCredentials'
>;

/** The store chosen in the node's Storage parameter. */
export async function openStore(context: IExecuteFunctions): Promise<OpenStore> {
	return await openStoreOf(context, context.getNodeParameter('storage', 0) as string, () =>
		context.helpers.getStoragePath(),
	);
}

/** The store named `storage`; `nodeStoragePath` is n8n's storage folder of the node type. */
export async function openStoreOf(
	context: StoreContext,
	storage: string,
	nodeStoragePath: () => string,
): Promise<OpenStore> {
	if (storage === 'local') {
		if (isQueueMode())
			throw nodeError(
				context,
				new CouponError(
					'STORE_NOT_SUPPORTED',
					'The Local storage cannot be used in queue mode: each worker would keep its own coupons on its own disk',
					'Choose Database (PostgreSQL) as the storage, with a Coupon PostgreSQL credential that every worker can reach.',
				),
				0,
			);
		const file = localCouponFile(nodeStoragePath());
		return { store: new LocalStore(localDatabase(file)), storage, where: `the local file ${file}` };
	}
	if (storage === 'staticData')
		return {
			store: new StaticDataStore(context.getWorkflowStaticData('global')),
			storage,
			where: "this workflow's static data",
		};
	if (storage === 'database') {
		const credentials = await context.getCredentials<CouponPostgresCredentials>(CREDENTIAL_NAME);
		try {
			const database = databaseFor(credentials);
			return {
				store: new PostgresStore(database),
				storage,
				where: `PostgreSQL at ${database.where} (schema ${database.schema})`,
			};
		} catch (error) {
			throw nodeError(context, error, 0);
		}
	}
	throw nodeError(
		context,
		new CouponError(
			'CHOICE_UNKNOWN',
			`Unknown storage "${storage}"`,
			'Choose a storage from the list in the node panel.',
		),
		0,
	);
}

/** Test runs from the editor never save static data: say so, or the next run surprises the user. */
export function warnIfNotSaved(
	context: IExecuteFunctions,
	storage: StorageKind,
	whatWasLost: string,
): void {
	if (storage !== 'staticData' || context.getMode() !== 'manual') return;
	context.addExecutionHints({
		message: `Test run on workflow static data, which n8n does not save for runs started from the editor: ${whatWasLost} Publish the workflow so that its trigger runs it (those runs are saved), or choose the Local storage, which keeps coupons in test runs too.`,
		location: 'outputPane',
	});
}
