import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
} from 'n8n-workflow';
import { now } from '../../../shared/core/clock';
import { CouponError } from '../../../shared/core/errors';
import { parseContactRequest } from '../../../shared/core/assign';
import { parseLimit } from '../../../shared/core/limits';
import { parseDateStyle, type DateStyle } from '../../../shared/core/dates';
import {
	DEFAULT_MAX_NEW_COUPONS_PER_RUN,
	MISSING_COUPON_ACTIONS,
	renderMessages,
	type MissingCouponAction,
	type RenderedMessage,
	type RenderRequest,
	type RenderSettings,
} from '../../../shared/core/render';
import {
	codeFormatOptions,
	contactProperty,
	newCouponProperties,
	optionsCollection,
	readNewCouponSettings,
	type CodeFormatOptions,
} from '../descriptions';
import { runItems } from '../../../shared/itemRunner';

const showAssign = { show: { whenMissing: ['assign'] } };

export const properties: INodeProperties[] = [
	{
		displayName: 'Text',
		name: 'text',
		type: 'string',
		typeOptions: { rows: 6 },
		default: '',
		required: true,
		placeholder: 'e.g. <p>Your code: $cst.SPRING10.coupon$</p>',
		description:
			"The message text or HTML, usually mapped from the field holding the template. Each placeholder $cst.&lt;coupon name&gt;.coupon$ is replaced with the contact's active coupon of that name; $cst.&lt;coupon name&gt;.coupon.&lt;detail&gt;$ with a detail of it, such as discount, and $cst.&lt;coupon name&gt;.coupon.validUntil$ with the end of its validity.",
	},
	contactProperty(
		'Whose coupons to put in the text, usually an email address or a CRM ID. Matched ignoring case and surrounding spaces.',
	),
	{
		displayName: 'If Contact Has No Active Coupon',
		name: 'whenMissing',
		type: 'options',
		noDataExpression: true,
		options: [
			{
				name: 'Assign One Now',
				value: 'assign',
				description:
					'Assign a coupon of that name as Generate for Contact would, with the settings below',
			},
			{
				name: 'Leave the Placeholder',
				value: 'leave',
				description: 'Keep the placeholder in the text and list it under rendered.unresolved',
			},
			{
				name: 'Fail the Item',
				value: 'fail',
				description: 'Stop with an error, so that no message goes out without its coupon',
			},
		],
		default: 'assign',
		description:
			'What to do with a placeholder for a coupon the contact does not hold, or holds only expired, redeemed or replaced',
	},
	...newCouponProperties(showAssign),
	optionsCollection(
		[
			...codeFormatOptions.slice(0, 3),
			{
				displayName: 'Max New Coupons',
				name: 'maxNewCoupons',
				type: 'number',
				default: DEFAULT_MAX_NEW_COUPONS_PER_RUN,
				typeOptions: { minValue: 1, numberPrecision: 0 },
				description:
					'How many coupons one run may create for placeholders naming no coupon yet; an item whose text would create more fails',
			},
			...codeFormatOptions.slice(3),
		],
		showAssign,
	),
	{
		displayName: 'Date Options',
		name: 'dateOptions',
		type: 'collection',
		placeholder: 'Add option',
		default: {},
		description: 'How $cst.&lt;coupon name&gt;.coupon.validUntil$ writes the end of validity',
		options: [
			{
				displayName: 'Date Format',
				name: 'dateFormat',
				type: 'options',
				options: [
					{ name: 'ISO Date', value: 'isoDate', description: 'For example 2026-05-31' },
					{
						name: 'ISO Date and Time',
						value: 'isoDateTime',
						description: 'For example 2026-05-31 23:59',
					},
					{
						name: 'Written Out',
						value: 'long',
						description: 'For example May 31, 2026, in the language of Locale',
					},
				],
				default: 'isoDate',
			},
			{
				displayName: 'Locale',
				name: 'locale',
				type: 'string',
				default: 'en-US',
				placeholder: 'e.g. de-DE',
				description: 'The language of the Written Out format',
			},
			{
				displayName: 'Time Zone',
				name: 'timeZone',
				type: 'string',
				default: '',
				placeholder: 'e.g. Europe/Berlin',
				description:
					"The time zone dates are written in. Leave empty for the workflow's time zone.",
			},
		],
	},
];

interface DateOptions {
	dateFormat?: unknown;
	locale?: unknown;
	timeZone?: unknown;
}

function readDateStyle(context: IExecuteFunctions, itemIndex: number): DateStyle {
	const options = context.getNodeParameter('dateOptions', itemIndex, {}) as DateOptions;
	const timeZone =
		typeof options.timeZone === 'string' && options.timeZone.trim() !== ''
			? options.timeZone
			: context.getTimezone();
	return parseDateStyle(options.dateFormat ?? 'isoDate', timeZone, options.locale);
}

function readSettings(context: IExecuteFunctions, itemIndex: number): RenderSettings {
	const whenMissing = context.getNodeParameter(
		'whenMissing',
		itemIndex,
		'assign',
	) as MissingCouponAction;
	if (!MISSING_COUPON_ACTIONS.includes(whenMissing)) {
		throw new CouponError(
			`Unknown choice "${whenMissing}" for If Contact Has No Active Coupon`,
			'Choose one of the listed choices.',
		);
	}
	const dates = readDateStyle(context, itemIndex);
	if (whenMissing !== 'assign')
		return {
			whenMissing,
			validDays: 0,
			format: { characters: '', length: 0, prefix: '' },
			maxNewCoupons: 0,
			dates,
		};
	const options = context.getNodeParameter('options', itemIndex, {}) as CodeFormatOptions & {
		maxNewCoupons?: number;
	};
	return {
		whenMissing,
		...readNewCouponSettings(context, itemIndex, options),
		maxNewCoupons: parseLimit(
			options.maxNewCoupons ?? DEFAULT_MAX_NEW_COUPONS_PER_RUN,
			'Max New Coupons',
		),
		dates,
	};
}

function readTemplate(raw: unknown): string {
	if (typeof raw === 'string') return raw;
	if (typeof raw === 'number') return String(raw);
	throw new CouponError(
		`Text must be text or HTML; got ${raw === null ? 'null' : typeof raw}`,
		'Map Text to the field that holds the message, such as {{ $json.html }}.',
	);
}

/** "Render Placeholders": the text with the contact's coupons in it, as `rendered` on the item. */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const created = new Set<string>();
	let assigned = false;
	return await runItems<RenderRequest, RenderedMessage>(this, {
		read: (i) => ({
			template: readTemplate(this.getNodeParameter('text', i)),
			...parseContactRequest(this.getNodeParameter('contact', i)),
			settings: readSettings(this, i),
		}),
		serve: async (session, requests) => {
			const rendered = await renderMessages(session, requests, now());
			rendered.createdCoupons.forEach((name) => created.add(name));
			assigned = rendered.outcomes.some(
				(o) => 'value' in o && o.value.coupons.some((coupon) => !coupon.reused),
			);
			return rendered.outcomes;
		},
		output: (json, rendered) => ({
			...json,
			rendered: JSON.parse(JSON.stringify(rendered)) as IDataObject,
		}),
		// Only coupons assigned now were lost; rendering what contacts already hold writes nothing.
		notSaved: () =>
			assigned
				? 'coupons assigned while rendering were not stored and the same codes can be assigned again.'
				: undefined,
		hints: (where) =>
			[...created].map(
				(name) =>
					`No coupon was named "${name}" in ${where}, so a generated coupon of that name was created for its placeholder. If that name is a typo, correct the template.`,
			),
	});
}
