import {
	NodeConnectionTypes,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';
import { storageNotices, storageProperties } from '../shared/n8n/properties';
import { couponPostgresConnectionTest } from '../shared/n8n/methods/credentialTest';
import { operationProperties, operationProperty, operationSubtitle } from './actions/operations';
import { outputsExpression } from './actions/outputs';
import { router } from './actions/router';
import { CONTACT_COUPON_VERSIONS } from './actions/versions';

export class ContactCoupon implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Contact Coupon',
		name: 'contactCoupon',
		icon: { light: 'file:coupon.svg', dark: 'file:coupon.dark.svg' },
		group: ['transform'],
		version: CONTACT_COUPON_VERSIONS,
		defaultVersion: CONTACT_COUPON_VERSIONS.at(-1),
		subtitle: operationSubtitle,
		description:
			'Give each contact a unique discount coupon valid for a number of days, then look it up, put it in messages and redeem it at checkout',
		defaults: { name: 'Contact Coupon' },
		inputs: [NodeConnectionTypes.Main],
		outputs: outputsExpression,
		// n8n adds "Contact Coupon Tool" for AI agents: one output, the agent's.
		usableAsTool: true,
		credentials: [
			{
				name: 'couponPostgres',
				required: true,
				testedBy: 'couponPostgresConnectionTest',
				displayOptions: { show: { storage: ['database'] } },
			},
		],
		properties: [
			operationProperty,
			...storageProperties,
			...storageNotices,
			...operationProperties,
		],
	};

	methods = { credentialTest: { couponPostgresConnectionTest } };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await router.call(this);
	}
}
