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
	/**
	 * What an AI agent reads to choose this operation when the node is its tool: when to call it,
	 * what it answers, and whether calling it twice is safe. The tool's Description defaults to it.
	 */
	toolDescription: string;
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
		toolDescription:
			'Give the customer a discount coupon and get its code (coupon.code) and last day (coupon.validUntil); coupon.source "fallback" marks a stand-in code. Calling it again returns the same coupon while the customer holds an active one, unless this tool is set to assign another. When no code is left, the answer says so (noCoupon.reason) or the call fails with the reason.',
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
		toolDescription:
			'Create new unused codes for a coupon in advance, without giving them to anyone. Each call makes new codes: call it once per request.',
		properties: createCodes.properties,
		execute: createCodes.execute,
	},
	{
		value: 'getForContact',
		name: 'Get Contact Coupons',
		description: 'List every coupon the contact was given, newest first, with its status',
		action: 'Get the coupons of a contact',
		toolDescription:
			'List the coupons the customer was given, newest first, each with its code, status (active, expired, redeemed, replaced) and last day. Changes nothing.',
		properties: getForContact.properties,
		execute: getForContact.execute,
	},
	{
		value: 'render',
		name: 'Render Placeholders',
		description:
			"Replace $cst.&lt;coupon name&gt;.coupon$ in a text or HTML message with the contact's coupons",
		action: 'Render coupon placeholders in a message',
		toolDescription:
			"Fill the coupon placeholders ($cst.<coupon name>.coupon$ and its details) of this tool's message with the customer's coupons and answer the text; where set to, it first gives the customer a coupon the message needs. Calling it again for the same customer fills in the same coupons.",
		properties: render.properties,
		execute: render.execute,
	},
	{
		value: 'validate',
		name: 'Validate Code',
		description: 'Check whether a code can be used now, and why not; changes nothing',
		action: 'Validate a coupon code',
		toolDescription:
			'Check whether a coupon code can be used now, and why not: status is valid, or unknown, typo, not_assigned, other_contact, expired, redeemed, replaced, reserved (held by an order) or ambiguous, with a message in words. Changes nothing: use it before promising a discount.',
		properties: validate.properties,
		execute: validate.execute,
	},
	{
		value: 'redeem',
		name: 'Redeem Code',
		description: 'Check a code at checkout and take one of its uses; confirms a hold for the order',
		action: 'Redeem a coupon code',
		toolDescription:
			'Use a coupon code for an order: checks it, then takes one of its uses, answering accepted or why not (the statuses of a check). Given the order reference, a second call for the same order takes no second use; without one, each call takes a use.',
		properties: redeem.properties,
		execute: redeem.execute,
	},
	{
		value: 'undoRedemption',
		name: 'Undo Redemption',
		description: 'Give back the use a redemption took, for a refunded or cancelled order',
		action: 'Undo a coupon code redemption',
		toolDescription:
			'Give back the use a redemption of a coupon code took, for a refunded or cancelled order, so the code can be used again. Given the order reference, a second call answers already_undone; without one, each call gives back the newest use still taken.',
		properties: undoRedemption.properties,
		execute: undoRedemption.execute,
	},
	{
		value: 'reserve',
		name: 'Reserve Code',
		description: 'Hold a code for an order while the customer pays, so no other order can use it',
		action: 'Reserve a coupon code for an order',
		toolDescription:
			'Hold a coupon code for an order while the customer pays, so no other order can use it; the answer says until when. Needs the order reference; a second call for the same order extends the hold.',
		properties: reserve.properties,
		execute: reserve.execute,
	},
	{
		value: 'release',
		name: 'Release Code',
		description: "End an order's hold on a code, for a failed or abandoned payment",
		action: 'Release a reserved coupon code',
		toolDescription:
			"End an order's hold on a coupon code after a failed or abandoned payment, so the code can be used again. Needs the order reference; a second call answers not_held.",
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
		toolDescription:
			"Write a coupon's codes of one status to an XLSX or CSV file. The answer is a file, which an agent cannot read: use another operation in a chat.",
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
		toolDescription:
			'Delete a coupon and all its codes. Cannot be undone: do not offer it in a chat with customers.',
		properties: deleteCoupon.properties,
		execute: deleteCoupon.execute,
	},
	{
		value: 'stats',
		name: 'Get Pool Statistics',
		description: 'Count available, active, expired, redeemed and replaced codes per coupon',
		action: 'Get coupon pool statistics',
		subtitle: '"Pool Statistics"',
		toolDescription:
			"Count each coupon's codes: available, active, expired, redeemed and replaced, to tell how many codes are left. Changes nothing.",
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

/**
 * As an AI agent's tool (n8n's "Contact Coupon Tool"), the values a conversation gives default to
 * what the model supplies (`$fromAI`); elsewhere they keep their defaults.
 */
const TOOL_DEFAULTS = new Map<string, string>([
	['contact', `={{ $fromAI('contact', "The customer's e-mail address", 'string') }}`],
	['code', `={{ $fromAI('code', 'The coupon code the customer gave', 'string') }}`],
]);

/** `property` shown only where the node is (`true`) or is not (`false`) an agent's tool. */
const whereTool = (property: INodeProperties, isTool: boolean): INodeProperties => ({
	...property,
	displayOptions: {
		...property.displayOptions,
		show: { ...property.displayOptions?.show, '@tool': [isTool] },
	},
});

/** A parameter as declared, or its two variants when a tool's model supplies its value. */
const withToolDefault = (property: INodeProperties): INodeProperties[] => {
	const toolDefault = TOOL_DEFAULTS.get(property.name);
	if (toolDefault === undefined) return [property];
	return [whereTool(property, false), whereTool({ ...property, default: toolDefault }, true)];
};

/**
 * The tool's Description (the parameter n8n would otherwise add to every tool), one per operation:
 * its default is what the model reads to choose the tool, and the user may write their own.
 */
const toolDescriptionProperty = (toolDescription: string): INodeProperties =>
	whereTool(
		{
			displayName: 'Description',
			name: 'toolDescription',
			type: 'string',
			default: toolDescription,
			required: true,
			typeOptions: { rows: 3 },
			description:
				'What the AI agent reads to decide when to call this tool and what it answers; name your coupon or your shop here if that helps it choose',
		},
		true,
	);

/** Every operation's parameters, each shown only for its operation (and its own conditions). */
export const operationProperties: INodeProperties[] = operations.flatMap(
	({ value, properties, toolDescription }) =>
		[toolDescriptionProperty(toolDescription), ...properties.flatMap(withToolDefault)].map(
			(property) => ({
				...property,
				displayOptions: {
					...property.displayOptions,
					show: { ...property.displayOptions?.show, operation: [value] },
				},
			}),
		),
);

/** The canvas subtitle: the chosen operation, as each entry words it. */
export const operationSubtitle = `={{ { ${operations
	.map(({ value, name, subtitle }) => `${value}: ${subtitle ?? JSON.stringify(name)}`)
	.join(', ')} }[$parameter["operation"]] }}`;
