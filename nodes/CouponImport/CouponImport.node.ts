import {
	NodeConnectionTypes,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';
import { storageNotices, storageProperties } from '../shared/n8n/properties';
import { couponPostgresConnectionTest } from '../shared/n8n/methods/credentialTest';
import * as importList from './actions/import.operation';

export class CouponImport implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Coupon Import',
		name: 'couponImport',
		icon: { light: 'file:couponImport.svg', dark: 'file:couponImport.dark.svg' },
		group: ['transform'],
		version: [1, 2],
		defaultVersion: 2,
		subtitle: '={{ $parameter["couponName"] ? $parameter["couponName"] : "from spreadsheet" }}',
		description:
			'Load discount-code lists from an .xlsx or CSV file into coupons that Contact Coupon assigns to contacts',
		defaults: { name: 'Coupon Import' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [
			{
				name: 'couponPostgres',
				required: true,
				testedBy: 'couponPostgresConnectionTest',
				displayOptions: { show: { storage: ['database'] } },
			},
		],
		properties: [...storageProperties, ...storageNotices, ...importList.properties],
	};

	methods = { credentialTest: { couponPostgresConnectionTest } };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await importList.execute.call(this);
	}
}
