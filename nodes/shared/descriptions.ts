import type { INodeProperties } from 'n8n-workflow';

/** Where both nodes keep coupons. Internal names are stored in workflow JSON: never rename them. */
export const storageProperty: INodeProperties = {
	displayName: 'Storage',
	name: 'storage',
	type: 'options',
	noDataExpression: true,
	options: [
		{
			name: 'Workflow Static Data',
			value: 'staticData',
			description: 'Kept inside this workflow. No set-up; for small, single-workflow use.',
		},
		{
			name: 'Database (PostgreSQL)',
			value: 'database',
			description:
				'Kept in PostgreSQL through a Coupon PostgreSQL credential. Shared by every workflow and safe with parallel runs and queue mode.',
		},
	],
	default: 'staticData',
	description:
		'Where the coupon lists and who holds which code are kept. Coupon Import and Contact Coupon must use the same storage to share coupons.',
};

export const staticDataNotice: INodeProperties = {
	displayName:
		'Workflow static data suits small, low-volume use within this one workflow. n8n saves it only for production runs (an active workflow started by its trigger), not for test runs from the editor, and runs that overlap can overwrite each other. For real campaigns choose Database (PostgreSQL).',
	name: 'staticDataNotice',
	type: 'notice',
	default: '',
	displayOptions: { show: { storage: ['staticData'] } },
};
