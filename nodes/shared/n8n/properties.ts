import type { INodeProperties } from 'n8n-workflow';
import { MAX_USES_PER_CODE } from '../core/common/validity';
import { LOCAL_FILE_NAME } from '../transport/sqlite';

/**
 * Where both nodes keep coupons. Internal names are stored in workflow JSON: never rename them.
 * n8n does not save a parameter equal to its default, so the default belongs to the node version:
 * version 1 nodes (saved before Local existed) keep Workflow Static Data, version 2 starts on Local.
 */
const storage: INodeProperties = {
	displayName: 'Storage',
	name: 'storage',
	type: 'options',
	noDataExpression: true,
	options: [
		{
			// n8n's name is written in lower case, which the title-case rule would change.
			// eslint-disable-next-line n8n-nodes-base/node-param-display-name-miscased
			name: 'Local (This n8n)',
			value: 'local',
			description: `Kept in ${LOCAL_FILE_NAME} in n8n's user folder. No set-up; shared by every workflow of this n8n, test runs included.`,
		},
		{
			name: 'Workflow Static Data',
			value: 'staticData',
			description:
				'Kept inside this workflow; saved only by production runs. For small, single-workflow use.',
		},
		{
			name: 'Database (PostgreSQL)',
			value: 'database',
			description:
				'Kept in PostgreSQL through a Coupon PostgreSQL credential. Shared by every workflow and n8n process; for queue mode.',
		},
	],
	default: 'local',
	description:
		'Where the coupon lists and who holds which code are kept. Coupon Import and Contact Coupon must use the same storage to share coupons.',
};

export const storageProperties: INodeProperties[] = [
	{ ...storage, default: 'staticData', displayOptions: { show: { '@version': [1] } } },
	{ ...storage, displayOptions: { show: { '@version': [{ _cnd: { gte: 2 } }] } } },
];

/**
 * The Coupon Trigger's storage: Local or PostgreSQL. A published workflow's poll sees static data
 * only as it was when the workflow was published, and saves it back whole when it fires (n8n
 * 2.40), which would undo what the workflow's runs changed since.
 */
export const triggerStorageProperty: INodeProperties = {
	...storage,
	options: storage.options!.filter((option) => 'value' in option && option.value !== 'staticData'),
	description:
		'Where the coupons to watch are kept: the storage the Contact Coupon and Coupon Import nodes use. Workflow Static Data cannot be watched: a trigger sees it only as it was when the workflow was published.',
};

/** The notice under each storage: where the coupons are and the limit that matters, in two lines at most. */
export const storageNotices: INodeProperties[] = [
	{
		displayName: `Coupons are kept in ${LOCAL_FILE_NAME} in n8n's user folder (~/.n8n, or $N8N_USER_FOLDER/.n8n), next to its own data. In queue mode choose PostgreSQL.`,
		name: 'localNotice',
		type: 'notice',
		default: '',
		displayOptions: { show: { storage: ['local'] } },
	},
	{
		displayName:
			'Static data is kept by this workflow only, and not saved by test runs from the editor. For campaigns choose Local or PostgreSQL.',
		name: 'staticDataNotice',
		type: 'notice',
		default: '',
		displayOptions: { show: { storage: ['staticData'] } },
	},
];

/** Uses per Code, an option of both nodes: it applies to the coupons an operation creates. */
export const usesPerCodeOption: INodeProperties = {
	displayName: 'Uses per Code',
	name: 'usesPerCode',
	type: 'number',
	typeOptions: { minValue: 1, maxValue: MAX_USES_PER_CODE, numberPrecision: 0 },
	default: 1,
	description:
		'How many times each code can be redeemed. Set when the coupon is created; a coupon that exists keeps its own.',
};

/**
 * Uses per Code as Create Codes and Coupon Import offer it: the coupons they create may be shared,
 * whose Uses per Code counts all customers together, 0 for no limit.
 */
export const sharedUsesPerCodeOption: INodeProperties = {
	...usesPerCodeOption,
	typeOptions: { ...usesPerCodeOption.typeOptions, minValue: 0 },
	description:
		'How many times each code can be redeemed; for a shared coupon (Uses per Customer), by all customers together, 0 for no limit. Set when the coupon is created; a coupon that exists keeps its own.',
};

/** Uses per Customer: the coupons Create Codes and Coupon Import create are shared. */
export const usesPerCustomerOption: INodeProperties = {
	displayName: 'Uses per Customer',
	name: 'usesPerCustomer',
	type: 'number',
	typeOptions: { minValue: 0, maxValue: MAX_USES_PER_CODE, numberPrecision: 0 },
	default: 1,
	description:
		'Makes the coupon shared: one code for everyone, such as SUMMER20 in a newsletter, that each customer may redeem this many times. Validate, Redeem and Undo Redemption then need Contact. Uses per Code caps all customers together (not added: no cap). 0 makes codes that each belong to one contact. Set when the coupon is created.',
};

/** Coupon Details, an option of both nodes. */
export const couponDetailsOption: INodeProperties = {
	displayName: 'Coupon Details',
	name: 'couponDetails',
	type: 'json',
	default: '{}',
	placeholder: '{ "discount": "15%", "minimumOrder": 50 }',
	description:
		"Facts every code of the coupon carries, such as its discount, shown in every output as details and in messages as $cst.&lt;coupon name&gt;.coupon.&lt;detail&gt;$. A flat JSON object; when set, it replaces the coupon's details. A code's own details (Keep Columns of Coupon Import) win over these.",
};

/**
 * The Coupon Name parameter (or option); `description` says what the operation does with the
 * coupon. Matched ignoring case everywhere.
 */
export function couponNameProperty(
	description: string,
	{ required = true, placeholder = 'e.g. SPRING10' } = {},
): INodeProperties {
	return {
		displayName: 'Coupon Name',
		name: 'couponName',
		type: 'string',
		default: '',
		...(required ? { required: true } : {}),
		placeholder,
		description,
	};
}
