import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import * as createCodes from './createCodes/createCodes.operation';
import * as deleteCoupon from './deleteCoupon/deleteCoupon.operation';
import * as exportCodes from './exportCodes/exportCodes.operation';
import * as generate from './generate/generate.operation';
import * as getForContact from './getForContact/getForContact.operation';
import * as redeem from './redeem/redeem.operation';
import * as release from './release/release.operation';
import * as render from './render/render.operation';
import * as reserve from './reserve/reserve.operation';
import * as stats from './stats/stats.operation';
import * as undoRedemption from './undoRedemption/undoRedemption.operation';
import * as validate from './validate/validate.operation';

/** One entry of the Operation list; everything about it outside its own folder is derived from here. */
export interface ContactCouponOperation {
	/** Stored in workflow JSON as the Operation parameter: never change it. */
	value: string;
	/** The label in the Operation list. */
	name: string;
	description: string;
	/** The operation as the node's action in n8n's nodes panel. */
	action: string;
	/** The canvas subtitle as an expression over `$parameter`; the operation's name when missing. */
	subtitle?: string;
	/** The operation's parameters; each is shown only while this operation is chosen. */
	properties: INodeProperties[];
	/** The node's outputs, each a list of items. */
	execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]>;
}

/** The Contact Coupon operations, in the order their parameters are listed. */
export const operations: ContactCouponOperation[] = [
	{
		value: 'generate',
		name: 'Generate for Contact',
		description: 'Give the contact a coupon from an imported list, or a newly generated code',
		action: 'Generate a coupon for a contact',
		subtitle: '"Generate: " + $parameter["couponName"]',
		properties: generate.properties,
		execute: generate.execute,
	},
	{
		value: 'createCodes',
		name: 'Create Codes',
		description:
			"Make new unused codes for a coupon in advance, to assign later and to load into a shop's checkout",
		action: 'Create coupon codes in bulk',
		subtitle: '"Create Codes: " + $parameter["couponName"]',
		properties: createCodes.properties,
		execute: createCodes.execute,
	},
	{
		value: 'getForContact',
		name: 'Get Contact Coupons',
		description: 'List every coupon the contact was given, newest first, with its status',
		action: 'Get the coupons of a contact',
		properties: getForContact.properties,
		execute: getForContact.execute,
	},
	{
		value: 'render',
		name: 'Render Placeholders',
		description:
			"Replace $cst.&lt;coupon name&gt;.coupon$ in a text or HTML message with the contact's coupons",
		action: 'Render coupon placeholders in a message',
		properties: render.properties,
		execute: render.execute,
	},
	{
		value: 'validate',
		name: 'Validate Code',
		description: 'Check whether a code can be used now, and why not; changes nothing',
		action: 'Validate a coupon code',
		properties: validate.properties,
		execute: validate.execute,
	},
	{
		value: 'redeem',
		name: 'Redeem Code',
		description: 'Check a code at checkout and take one of its uses; confirms a hold for the order',
		action: 'Redeem a coupon code',
		properties: redeem.properties,
		execute: redeem.execute,
	},
	{
		value: 'undoRedemption',
		name: 'Undo Redemption',
		description: 'Give back the use a redemption took, for a refunded or cancelled order',
		action: 'Undo a coupon code redemption',
		properties: undoRedemption.properties,
		execute: undoRedemption.execute,
	},
	{
		value: 'reserve',
		name: 'Reserve Code',
		description: 'Hold a code for an order while the customer pays, so no other order can use it',
		action: 'Reserve a coupon code for an order',
		properties: reserve.properties,
		execute: reserve.execute,
	},
	{
		value: 'release',
		name: 'Release Code',
		description: "End an order's hold on a code, for a failed or abandoned payment",
		action: 'Release a reserved coupon code',
		properties: release.properties,
		execute: release.execute,
	},
	{
		value: 'exportCodes',
		name: 'Export Codes',
		description:
			"Write a coupon's codes of one status to an XLSX or CSV file, to download or to upload to a shop",
		action: 'Export coupon codes to a spreadsheet',
		subtitle: '"Export Codes: " + $parameter["couponName"]',
		properties: exportCodes.properties,
		execute: exportCodes.execute,
	},
	{
		value: 'deleteCoupon',
		name: 'Delete Coupon',
		description:
			'Delete a coupon with all its codes; codes contacts were given only when you say so',
		action: 'Delete a coupon and its codes',
		subtitle: '"Delete: " + $parameter["couponName"]',
		properties: deleteCoupon.properties,
		execute: deleteCoupon.execute,
	},
	{
		value: 'stats',
		name: 'Get Pool Statistics',
		description: 'Count available, active, expired, redeemed and replaced codes per coupon',
		action: 'Get coupon pool statistics',
		subtitle: '"Pool Statistics"',
		properties: stats.properties,
		execute: stats.execute,
	},
];

/** The Operation parameter: the list above, sorted by name as n8n's panels are. */
export const operationProperty: INodeProperties = {
	displayName: 'Operation',
	name: 'operation',
	type: 'options',
	noDataExpression: true,
	options: operations
		.map(({ name, value, description, action }) => ({ name, value, description, action }))
		.sort((a, b) => a.name.localeCompare(b.name)),
	default: 'generate',
};

/** Every operation's parameters, each shown only for its operation (and its own conditions). */
export const operationProperties: INodeProperties[] = operations.flatMap(({ value, properties }) =>
	properties.map((property) => ({
		...property,
		displayOptions: {
			...property.displayOptions,
			show: { ...property.displayOptions?.show, operation: [value] },
		},
	})),
);

/** The canvas subtitle: the chosen operation, as each entry words it. */
export const operationSubtitle = `={{ { ${operations
	.map(({ value, name, subtitle }) => `${value}: ${subtitle ?? JSON.stringify(name)}`)
	.join(', ')} }[$parameter["operation"]] }}`;
