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
} from '../../../shared/core/codes/createCodes';
import { CouponError } from '../../../shared/core/common/errors';
import { parseDetails } from '../../../shared/core/common/details';
import { numberParameter } from '../../../shared/core/common/limits';
import { parseCouponName } from '../../../shared/core/common/names';
import { parseCouponUses } from '../../../shared/core/common/validity';
import { now } from '../../../shared/core/common/clock';
import {
	couponDetailsOption,
	sharedUsesPerCodeOption,
	usesPerCustomerOption,
	couponNameProperty,
} from '../../../shared/n8n/properties';
import { runItems } from '../../../shared/n8n/itemRunner';
import { MAX_XLSX_ROWS, sheetWriter } from '../../../shared/spreadsheet/writeSheet';
import { codeFormatOptions, fileOptions, lengthProperty, optionsCollection } from '../properties';
import {
	binaryFile,
	readCodeFormat,
	readFileOptions,
	type CodeFormatOptions,
	type FileOptions,
	type OutputFile,
} from '../parameters';

/** What the operation outputs: stored in workflow JSON, never rename. */
const OUTPUTS = ['summary', 'codes', 'file'] as const;
type Output = (typeof OUTPUTS)[number];

const outputOption: INodeProperties = {
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
		{
			name: 'Summary With File',
			value: 'file',
			description:
				'The summary item with the new codes as a spreadsheet (code, coupon name), to upload to a shop',
		},
	],
	default: 'summary',
	description: 'What the step outputs',
};

export const properties: INodeProperties[] = [
	couponNameProperty(
		'The coupon to make codes for. A new name creates it; an imported list gets more codes. Generate for Contact then assigns them, one unused code per contact, and fails when they run out.',
	),
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
	optionsCollection(
		[
			...codeFormatOptions,
			couponDetailsOption,
			sharedUsesPerCodeOption,
			usesPerCustomerOption,
			outputOption,
			...fileOptions,
		].sort((a, b) => a.displayName.localeCompare(b.displayName)),
	),
];

interface CreateOptions extends CodeFormatOptions, FileOptions {
	output?: string;
	usesPerCode?: unknown;
	usesPerCustomer?: unknown;
	couponDetails?: unknown;
}

function readOutput(options: CreateOptions): Output {
	const output = options.output ?? 'summary';
	if (!(OUTPUTS as readonly string[]).includes(output))
		throw new CouponError(
			'CHOICE_UNKNOWN',
			`Unknown choice "${output}" for Output`,
			'Choose Summary, One Item per Code or Summary With File.',
		);
	return output as Output;
}

interface CreateRequest extends CreateCodesRequest {
	output: Output;
	file: OutputFile;
}

function readRequest(context: IExecuteFunctions, i: number): CreateRequest {
	const options = context.getNodeParameter('options', i, {}) as CreateOptions;
	const details = parseDetails(options.couponDetails);
	const couponName = parseCouponName(context.getNodeParameter('couponName', i));
	return {
		couponName,
		count: parseCount(numberParameter(context.getNodeParameter('count', i))),
		format: readCodeFormat(context, i, options),
		...parseCouponUses(options.usesPerCode, options.usesPerCustomer),
		...(details ? { details } : {}),
		output: readOutput(options),
		file: readFileOptions(options, (format) => `${couponName}-new-codes.${format}`),
	};
}

/** The header of the file of new codes. */
const NEW_CODES_HEADER = ['code', 'coupon name'];

/** The new codes as a spreadsheet, written in batches. */
async function newCodesFile(
	{ codes, couponName }: CreatedCodes,
	file: OutputFile,
): Promise<Buffer> {
	if (file.format === 'xlsx' && codes.length > MAX_XLSX_ROWS)
		throw new CouponError(
			'LIMIT_EXCEEDED',
			`${codes.length.toLocaleString('en-US')} codes are more than an .xlsx sheet holds (${MAX_XLSX_ROWS.toLocaleString('en-US')} rows)`,
			'Choose CSV as File Format.',
		);
	const writer = sheetWriter(file.format);
	await writer.addRows([NEW_CODES_HEADER]);
	for (let at = 0; at < codes.length; at += FILE_BATCH)
		await writer.addRows(codes.slice(at, at + FILE_BATCH).map((code) => [code, couponName]));
	return await writer.finish();
}

const FILE_BATCH = 5_000;

/** The summary item of one request's codes. */
const summary = ({ codes: _, ...created }: CreatedCodes): IDataObject => ({ ...created });

/** "Create Codes": makes new unused codes for a coupon, to be assigned (and pushed to a shop) later. */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	return await runItems<CreateRequest, CreatedCodes>(this, {
		read: (i) => readRequest(this, i),
		serve: async (session, requests) => ({
			outcomes: await createCodesForRun(session, requests, now()),
		}),
		bulk: true,
		output: (_json, created, request) =>
			request.output === 'codes'
				? created.codes.map((code) => ({ code, couponName: created.couponName }))
				: summary(created),
		binary: async (created, request) =>
			request.output === 'file'
				? await binaryFile(this, request.file, await newCodesFile(created, request.file))
				: undefined,
		notSaved: () => 'these codes were not stored.',
	});
}
