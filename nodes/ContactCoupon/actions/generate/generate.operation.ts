import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { now } from '../../../shared/core/common/clock';
import { CouponError } from '../../../shared/core/common/errors';
import {
	ACTIVE_COUPON_POLICIES,
	assignCouponsForRun,
	parseContactRequest,
	type ActiveCouponPolicy,
	type AssignmentSettings,
} from '../../../shared/core/assign/assign';
import {
	goesToNoCouponOutput,
	settleNoCoupons,
	type GenerateAnswer,
	type GenerateRequest,
} from '../../../shared/core/assign/noCoupon';
import { parseCouponName } from '../../../shared/core/common/names';
import { parseUsesPerCode } from '../../../shared/core/common/validity';
import {
	couponDetailsOption,
	usesPerCodeOption,
	couponNameProperty,
} from '../../../shared/n8n/properties';
import { parseDetails } from '../../../shared/core/common/details';
import type { Details } from '../../../shared/core/storeContract';
import {
	DEFAULT_LENGTH,
	codeFormatOptions,
	contactProperty,
	newCouponProperties,
	noCouponProperties,
	optionsCollection,
} from '../properties';
import { formatOptionChosen, readNewCouponSettings, type CodeFormatOptions } from '../parameters';
import { runItems } from '../../../shared/n8n/itemRunner';
import { outputCountOf, readNoCouponSetting } from '../outputs';

export const properties: INodeProperties[] = [
	couponNameProperty(
		'The coupon to assign. If a list of this name was imported with Coupon Import, each contact gets a random unused value from it; otherwise this becomes a generated coupon and each contact gets a new random code.',
		{ placeholder: 'e.g. WELCOME10' },
	),
	...newCouponProperties(),
	contactProperty(
		'Who receives the coupon, usually an email address or a CRM ID. Matched ignoring case and surrounding spaces.',
	),
	...noCouponProperties(),
	optionsCollection([
		{
			displayName: 'If Contact Already Has One',
			name: 'activeCoupon',
			type: 'options',
			options: [
				{
					name: 'Return the Same Coupon',
					value: 'reuse',
					description:
						'A retried run or a contact re-entering the workflow keeps the coupon it has',
				},
				{
					name: 'Replace It',
					value: 'replace',
					description: 'The old coupon stops being valid now and a new one is assigned',
				},
				{
					name: 'Assign Another',
					value: 'issueAnother',
					description: 'The contact keeps the old coupon and gets a new one too',
				},
			],
			default: 'reuse',
			description:
				'What to do when the contact already holds an active coupon of this name (unexpired, not redeemed)',
		},
		...codeFormatOptions,
		{
			displayName: 'Assign Codes Expiring Sooner',
			name: 'shortenToExpiry',
			type: 'boolean',
			default: false,
			description:
				'Whether a code of an imported list that expires before Valid (Days) would end may be assigned, valid until its own expiry. Off, such codes are skipped; a code past its expiry is never assigned.',
		},
		usesPerCodeOption,
		couponDetailsOption,
	]),
];

interface GenerateOptions extends CodeFormatOptions {
	activeCoupon?: string;
	shortenToExpiry?: boolean;
	usesPerCode?: unknown;
	couponDetails?: unknown;
}

function readSettings(context: IExecuteFunctions, itemIndex: number): AssignmentSettings {
	const options = context.getNodeParameter('options', itemIndex, {}) as GenerateOptions;
	const policy = (options.activeCoupon ?? 'reuse') as ActiveCouponPolicy;
	if (!ACTIVE_COUPON_POLICIES.includes(policy)) {
		throw new CouponError(
			'CHOICE_UNKNOWN',
			`Unknown choice "${policy}" for If Contact Already Has One`,
			'Choose one of the listed choices.',
		);
	}
	return {
		couponName: parseCouponName(context.getNodeParameter('couponName', itemIndex)),
		policy,
		...readNewCouponSettings(context, itemIndex, options),
		usesPerCode: parseUsesPerCode(options.usesPerCode ?? 1),
		...detailsSetting(parseDetails(options.couponDetails)),
		...(options.shortenToExpiry === true ? { shortenToExpiry: true } : {}),
	};
}

/** The details setting: absent when none are given, so that a coupon keeps the details it has. */
const detailsSetting = (details: Details | undefined) => (details ? { details } : {});

/** Whether the user set Length or a code option, which an imported list ignores. */
function formatChosen(context: IExecuteFunctions): boolean {
	const options = context.getNodeParameter('options', 0, {}) as CodeFormatOptions;
	return (
		context.getNodeParameter('length', 0, DEFAULT_LENGTH) !== DEFAULT_LENGTH ||
		formatOptionChosen(options)
	);
}

/** The coupons a run found: created as generated ones, or imported lists. */
interface PoolsFound {
	created: string[];
	imported: string[];
}

/**
 * "Generate for Contact": one coupon per input item, added to the item as `coupon`; an item the
 * coupon has no code for fails, goes to the No Coupon output, or gets the fallback code, as chosen.
 */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	return await runItems<GenerateRequest, GenerateAnswer, PoolsFound>(this, {
		read: (i) => ({
			settings: readSettings(this, i),
			...parseContactRequest(this.getNodeParameter('contact', i)),
			ifNoCoupon: readNoCouponSetting(this, i),
		}),
		serve: async (session, requests) => {
			const { outcomes, pools } = await assignCouponsForRun(session, requests, now());
			return {
				outcomes: settleNoCoupons(requests, outcomes),
				report: {
					created: pools.filter((found) => found.created).map(({ pool }) => pool.name),
					imported: pools
						.filter((found) => !found.created && found.pool.kind === 'imported')
						.map(({ pool }) => pool.name),
				},
			};
		},
		output: (json, answer) => ({ ...json, ...answer }),
		outputCount: outputCountOf(this, 'generate'),
		outputIndex: (answer) => (goesToNoCouponOutput(answer) ? 1 : 0),
		notSaved: () => 'these coupons were not stored and the same codes can be assigned again.',
		hints: ({ where, reports }) => [
			...[...new Set(reports.flatMap((report) => report.created))].map(
				(name) =>
					`No coupon was named "${name}" in ${where}, so a generated coupon of that name was created. To assign values from a list instead, import it under this name first (Coupon Import, same storage).`,
			),
			...(formatChosen(this)
				? [...new Set(reports.flatMap((report) => report.imported))].map(
						(name) =>
							`Coupon "${name}" is an imported list, so its own values were assigned; Length and the code options were ignored.`,
					)
				: []),
		],
	});
}
