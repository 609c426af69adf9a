import {
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';
import { staticDataNotice, storageProperty } from '../shared/descriptions';
import { couponPostgresConnectionTest } from '../shared/methods/credentialTest';
import * as generate from './actions/generate/generate.operation';
import * as getForContact from './actions/getForContact/getForContact.operation';
import * as redeem from './actions/redeem/redeem.operation';
import * as render from './actions/render/render.operation';
import { router } from './actions/router';
import * as stats from './actions/stats/stats.operation';
import * as validate from './actions/validate/validate.operation';

export class ContactCoupon implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Contact Coupon',
		name: 'contactCoupon',
		icon: { light: 'file:coupon.svg', dark: 'file:coupon.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle:
			'={{ { generate: "Generate: " + $parameter["couponName"], getForContact: "Get Contact Coupons", render: "Render Placeholders", validate: "Validate Code", redeem: "Redeem Code", stats: "Pool Statistics" }[$parameter["operation"]] }}',
		description:
			'Give each contact a unique discount coupon valid for a number of days, then look it up, put it in messages and redeem it at checkout',
		defaults: { name: 'Contact Coupon' },
		inputs: ['main'],
		outputs: ['main'],
		credentials: [
			{
				name: 'couponPostgres',
				required: true,
				testedBy: 'couponPostgresConnectionTest',
				displayOptions: { show: { storage: ['database'] } },
			},
		],
		properties: [
			{
				displayName: 'Operation',
				name: 'operation',
				type: 'options',
				noDataExpression: true,
				options: [
					{
						name: 'Generate for Contact',
						value: 'generate',
						description:
							'Give the contact a coupon from an imported list, or a newly generated code',
						action: 'Generate a coupon for a contact',
					},
					{
						name: 'Get Contact Coupons',
						value: 'getForContact',
						description: 'List every coupon the contact was given, newest first, with its status',
						action: 'Get the coupons of a contact',
					},
					{
						name: 'Get Pool Statistics',
						value: 'stats',
						description: 'Count available, active, expired, redeemed and replaced codes per coupon',
						action: 'Get coupon pool statistics',
					},
					{
						name: 'Redeem Code',
						value: 'redeem',
						description: 'Check a code at checkout and mark it used, once only',
						action: 'Redeem a coupon code',
					},
					{
						name: 'Render Placeholders',
						value: 'render',
						description:
							"Replace $cst.&lt;coupon name&gt;.coupon$ in a text or HTML message with the contact's coupons",
						action: 'Render coupon placeholders in a message',
					},
					{
						name: 'Validate Code',
						value: 'validate',
						description: 'Check whether a code can be used now, and why not; changes nothing',
						action: 'Validate a coupon code',
					},
				],
				default: 'generate',
			},
			storageProperty,
			staticDataNotice,
			...generate.description,
			...getForContact.description,
			...render.description,
			...validate.description,
			...redeem.description,
			...stats.description,
		],
	};

	methods = { credentialTest: { couponPostgresConnectionTest } };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await router.call(this);
	}
}
