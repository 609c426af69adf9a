import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
} from 'n8n-workflow';
import {
	createCodesForRun,
	MAX_CODES_PER_RUN,
	parseCount,
	type CreateCodesRequest,
	type CreatedCodes,
} from '../../../shared/core/createCodes';
import { CouponError } from '../../../shared/core/errors';
import { parseDetails } from '../../../shared/core/details';
import { numberParameter } from '../../../shared/core/limits';
import { parseCouponName } from '../../../shared/core/names';
import { parseUsesPerCode } from '../../../shared/core/validity';
import { couponDetailsOption, usesPerCodeOption } from '../../../shared/descriptions';
import { runItems } from '../../../shared/itemRunner';
import {
	codeFormatOptions,
	lengthProperty,
	optionsCollection,
	readCodeFormat,
	type CodeFormatOptions,
} from '../descriptions';

/** What the operation outputs: stored in workflow JSON, never rename. */
const OUTPUTS = ['summary', 'codes'] as const;
type Output = (typeof OUTPUTS)[number];

export const properties: INodeProperties[] = [
	{
		displayName: 'Coupon Name',
		name: 'couponName',
		type: 'string',
		default: '',
		required: true,
		placeholder: 'e.g. SPRING10',
		description:
			'The coupon to make codes for. A new name creates it; an imported list gets more codes. Generate for Contact then hands them out, one unused code per contact, and fails when they run out.',
	},
	{
		displayName: 'Count',
		name: 'count',
		type: 'number',
		default: 1000,
		required: true,
		typeOptions: { minValue: 1, maxValue: MAX_CODES_PER_RUN, numberPrecision: 0 },
		description: `How many new codes to make, up to ${MAX_CODES_PER_RUN.toLocaleString('en-US')} per run. Nobody holds them until Generate for Contact gives them out.`,
	},
	lengthProperty(),
	optionsCollection([
		...codeFormatOptions.slice(0, 2),
		couponDetailsOption,
		...codeFormatOptions.slice(2, 3),
		{
			displayName: 'Output',
			name: 'output',
			type: 'options',
			options: [
				{
					name: 'Summary',
					value: 'summary',
					description: 'One item: how many codes were made, and what the coupon holds now',
				},
				{
					name: 'One Item per Code',
					value: 'codes',
					description:
						"The new codes, one item each with code and couponName, ready to push to a shop's bulk API",
				},
			],
			default: 'summary',
			description: 'What the step outputs',
		},
		...codeFormatOptions.slice(3),
		usesPerCodeOption,
	]),
];

interface CreateOptions extends CodeFormatOptions {
	output?: string;
	usesPerCode?: unknown;
	couponDetails?: unknown;
}

function readOutput(options: CreateOptions): Output {
	const output = options.output ?? 'summary';
	if (!(OUTPUTS as readonly string[]).includes(output))
		throw new CouponError(
			`Unknown choice "${output}" for Output`,
			'Choose Summary or One Item per Code.',
		);
	return output as Output;
}

function readRequest(
	context: IExecuteFunctions,
	i: number,
): CreateCodesRequest & { output: Output } {
	const options = context.getNodeParameter('options', i, {}) as CreateOptions;
	const details = parseDetails(options.couponDetails);
	return {
		couponName: parseCouponName(context.getNodeParameter('couponName', i)),
		count: parseCount(numberParameter(context.getNodeParameter('count', i))),
		format: readCodeFormat(context, i, options),
		usesPerCode: parseUsesPerCode(options.usesPerCode ?? 1),
		...(details ? { details } : {}),
		output: readOutput(options),
	};
}

/** The summary item of one request's codes. */
const summary = ({ codes: _, ...created }: CreatedCodes): IDataObject => ({ ...created });

/** "Create Codes": makes new unused codes for a coupon, to be handed out (and pushed to a shop) later. */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	return await runItems<CreateCodesRequest & { output: Output }, CreatedCodes>(this, {
		read: (i) => readRequest(this, i),
		serve: async (session, requests) => await createCodesForRun(session, requests),
		output: (_json, created, request) =>
			request.output === 'codes'
				? created.codes.map((code) => ({ code, couponName: created.couponName }))
				: [summary(created)],
		notSaved: () => 'these codes were not stored.',
	});
}
