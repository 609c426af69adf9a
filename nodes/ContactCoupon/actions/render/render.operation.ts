import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
} from 'n8n-workflow';
import { now } from '../../../shared/core/common/clock';
import { CouponError } from '../../../shared/core/common/errors';
import { parseChoice } from '../../../shared/core/common/names';
import { parseContactRequest } from '../../../shared/core/assign/assign';
import { parseLimit } from '../../../shared/core/common/limits';
import { parseDateStyle, type DateStyle } from '../../../shared/core/common/dates';
import {
	DEFAULT_MAX_NEW_COUPONS_PER_RUN,
	MISSING_COUPON_ACTIONS,
	UNFILLED_ACTIONS,
	renderMessages,
	type MissingCouponAction,
	type RenderedMessage,
	type RenderRequest,
	type RenderResult,
	type RenderSettings,
	type UnfilledAction,
} from '../../../shared/core/render/render';
import type { UnresolvedPlaceholder } from '../../../shared/core/render/placeholders';
import {
	codeFormatOptions,
	contactProperty,
	newCouponProperties,
	noCouponProperties,
	optionsCollection,
} from '../properties';
import { readNewCouponSettings, type CodeFormatOptions } from '../parameters';
import { beforeVersion3, byVersion } from '../versions';
import { runItems } from '../../../shared/n8n/itemRunner';
import { outputCountOf, readNoCouponSetting } from '../outputs';

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
	...byVersion(
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
		{
			options: [
				{
					name: 'Assign One Now',
					value: 'assign',
					description:
						'Assign a coupon of that name as Generate for Contact would, with the settings below',
				},
				{
					name: 'Do Not Assign',
					value: 'leave',
					description:
						'The placeholder cannot be filled: If a Placeholder Cannot Be Filled says what happens',
				},
			],
		},
	),
	...byVersion(
		{
			displayName: 'Create Unknown Coupons',
			name: 'createCoupons',
			type: 'boolean',
			default: true,
			description:
				'Whether a placeholder naming no coupon creates a generated coupon of that name, whose codes are made here and unknown to your shop. Off, such a placeholder cannot be filled, and the message names the coupons closest to it, so that a typo in a template never becomes a coupon.',
			displayOptions: showAssign,
		},
		{ default: false },
	),
	...byVersion(
		{
			displayName: 'If a Placeholder Cannot Be Filled',
			name: 'whenUnfilled',
			type: 'options',
			noDataExpression: true,
			options: [
				{
					name: 'Fail the Item',
					value: 'fail',
					description:
						'Stop with an error naming the placeholder, so that no message goes out with it',
				},
				{
					name: 'Leave It in the Text',
					value: 'leave',
					description:
						'Keep the placeholder as written; rendered.unresolved and a hint in the output pane list it',
				},
				{
					name: 'Remove It',
					value: 'remove',
					description:
						'Take the placeholder out of the text; rendered.unresolved and a hint in the output pane list it',
				},
			],
			default: 'leave',
			description:
				'What to do with a coupon placeholder that cannot be filled: a coupon or detail that does not exist, a coupon the contact does not hold and gets none, or a name that cannot be a coupon. Other $cst. placeholders, such as $cst.firstname$, are left for another step.',
		},
		{ default: 'fail' },
	),
	...newCouponProperties(showAssign),
	...noCouponProperties(showAssign),
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

/** A choice of an options parameter, checked against its values. */
function readChoice<T extends string>(
	context: IExecuteFunctions,
	itemIndex: number,
	name: string,
	label: string,
	values: readonly T[],
	fallback: T,
): T {
	return parseChoice(context.getNodeParameter(name, itemIndex, fallback), values, label, fallback);
}

function readSettings(context: IExecuteFunctions, itemIndex: number): RenderSettings {
	const legacy = beforeVersion3(context);
	const whenMissing = readChoice<MissingCouponAction>(
		context,
		itemIndex,
		'whenMissing',
		'If Contact Has No Active Coupon',
		MISSING_COUPON_ACTIONS,
		'assign',
	);
	const whenUnfilled = readChoice<UnfilledAction>(
		context,
		itemIndex,
		'whenUnfilled',
		'If a Placeholder Cannot Be Filled',
		UNFILLED_ACTIONS,
		legacy ? 'leave' : 'fail',
	);
	const dates = readDateStyle(context, itemIndex);
	if (whenMissing !== 'assign')
		return {
			whenMissing,
			whenUnfilled,
			createCoupons: false,
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
		whenUnfilled,
		createCoupons: context.getNodeParameter('createCoupons', itemIndex, legacy) === true,
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
		'TEXT_INVALID',
		`Text must be text or HTML; got ${raw === null ? 'null' : typeof raw}`,
		'Map Text to the field that holds the message, such as {{ $json.html }}.',
	);
}

/** Unfilled placeholders a hint names, at most; the output lists them all per item. */
const UNFILLED_IN_HINT = 5;

/** The hint naming the placeholders that were left in messages or removed from them. */
function unfilledHint(unfilled: Map<string, UnresolvedPlaceholder>, removed: boolean): string {
	const named = [...unfilled.values()]
		.slice(0, UNFILLED_IN_HINT)
		.map(({ message }) => message)
		.join('; ');
	const more = unfilled.size - UNFILLED_IN_HINT;
	return `${unfilled.size.toLocaleString('en-US')} coupon placeholder${unfilled.size === 1 ? '' : 's'} could not be filled and ${unfilled.size === 1 ? 'was' : 'were'} ${removed ? 'removed from' : 'left in'} the text: ${named}${more > 0 ? `; and ${more.toLocaleString('en-US')} more (see rendered.unresolved)` : ''}.`;
}

/** What a run of Render Placeholders noticed, for its hints. */
interface RenderReport {
	/** Coupons created for placeholders that named none. */
	created: string[];
	/** Whether a contact was given a coupon while rendering. */
	assigned: boolean;
	/** Unfilled coupon placeholders by their text, and whether any were removed from the text. */
	unfilled: Map<string, UnresolvedPlaceholder>;
	removed: boolean;
}

/** Whether a message goes to the No Coupon output: a coupon of it had no code, and that was chosen. */
const sentToNoCoupon = (rendered: RenderedMessage, request: RenderRequest) =>
	rendered.noCoupon !== undefined && request.ifNoCoupon?.action === 'noCouponOutput';

function renderReport(requests: RenderRequest[], rendered: RenderResult): RenderReport {
	const report: RenderReport = {
		created: rendered.createdCoupons,
		assigned: false,
		unfilled: new Map(),
		removed: false,
	};
	rendered.outcomes.forEach((outcome, j) => {
		if (!('value' in outcome)) return;
		// A fallback code is not stored: nothing was assigned for it.
		if (outcome.value.coupons.some((coupon) => !coupon.reused && coupon.source !== 'fallback'))
			report.assigned = true;
		for (const placeholder of outcome.value.unresolved)
			if (placeholder.problem !== 'not_a_coupon' && !report.unfilled.has(placeholder.placeholder)) {
				report.unfilled.set(placeholder.placeholder, placeholder);
				if (requests[j].settings.whenUnfilled === 'remove') report.removed = true;
			}
	});
	return report;
}

/** "Render Placeholders": the text with the contact's coupons in it, as `rendered` on the item. */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	return await runItems<RenderRequest, RenderedMessage, RenderReport>(this, {
		read: (i) => {
			const settings = readSettings(this, i);
			return {
				template: readTemplate(this.getNodeParameter('text', i)),
				...parseContactRequest(this.getNodeParameter('contact', i)),
				settings,
				// Item 0's choice for every item, as it sets the node's outputs (outputCountOf).
				...(settings.whenMissing === 'assign' &&
				this.getNodeParameter('whenMissing', 0, 'assign') === 'assign'
					? { ifNoCoupon: readNoCouponSetting(this, i) }
					: {}),
			};
		},
		serve: async (session, requests) => {
			const rendered = await renderMessages(session, requests, now());
			return { outcomes: rendered.outcomes, report: renderReport(requests, rendered) };
		},
		// On No Coupon with what the message did get: coupons of its other placeholders stay assigned.
		output: (json, rendered, request) => ({
			...json,
			...(sentToNoCoupon(rendered, request) ? { noCoupon: { ...rendered.noCoupon } } : {}),
			rendered: JSON.parse(JSON.stringify(rendered)) as IDataObject,
		}),
		outputCount: outputCountOf(this, 'render'),
		outputIndex: (rendered, request) => (sentToNoCoupon(rendered, request) ? 1 : 0),
		// Only coupons assigned now were lost; rendering what contacts already hold writes nothing.
		notSaved: ({ reports }) =>
			reports.some((report) => report.assigned)
				? 'coupons assigned while rendering were not stored and the same codes can be assigned again.'
				: undefined,
		hints: ({ where, reports }) => {
			const unfilled = new Map(reports.flatMap((report) => [...report.unfilled]));
			return [
				...[...new Set(reports.flatMap((report) => report.created))].map(
					(name) =>
						`No coupon was named "${name}" in ${where}, so a generated coupon of that name was created for its placeholder. If that name is a typo, correct the template.`,
				),
				...(unfilled.size > 0
					? [
							unfilledHint(
								unfilled,
								reports.some((report) => report.removed),
							),
						]
					: []),
			];
		},
	});
}
