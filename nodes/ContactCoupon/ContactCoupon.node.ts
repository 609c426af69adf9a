import { type IExecuteFunctions, type INodeExecutionData, type INodeType, type INodeTypeDescription } from 'n8n-workflow';
import { staticDataNotice, storageProperty } from '../shared/descriptions';
import { couponPostgresConnectionTest } from '../shared/methods/credentialTest';
import * as generate from './actions/generate/generate.operation';
import { router } from './actions/router';

export class ContactCoupon implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Contact Coupon',
		name: 'contactCoupon',
		icon: { light: 'file:coupon.svg', dark: 'file:coupon.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{ $parameter["couponName"] ? $parameter["couponName"] : "" }}',
		description: 'Give each contact a unique discount coupon that is valid for a number of days',
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
						description: 'Give the contact a coupon from an imported list, or a newly generated code',
						action: 'Generate a coupon for a contact',
					},
				],
				default: 'generate',
			},
			storageProperty,
			staticDataNotice,
			...generate.description,
		],
	};

	methods = { credentialTest: { couponPostgresConnectionTest } };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await router.call(this);
	}
}
