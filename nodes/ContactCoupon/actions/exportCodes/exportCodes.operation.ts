import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { now } from '../../../shared/core/common/clock';
import { outcomesOf } from '../../../shared/core/common/errors';
import {
	exportCodes,
	parseExportStatus,
	type ExportRequest,
	type ExportSummary,
} from '../../../shared/core/codes/exportCodes';
import { parseCouponName } from '../../../shared/core/common/names';
import { MAX_XLSX_ROWS, sheetWriter } from '../../../shared/spreadsheet/writeSheet';
import { runItems } from '../../../shared/n8n/itemRunner';
import { fileOptions, optionsCollection } from '../properties';
import { binaryFile, readFileOptions, type FileOptions, type OutputFile } from '../parameters';
import { couponNameProperty } from '../../../shared/n8n/properties';

export const properties: INodeProperties[] = [
	couponNameProperty('The coupon whose codes to list in the file'),
	{
		displayName: 'Status',
		name: 'status',
		type: 'options',
		options: [
			{ name: 'Active', value: 'active', description: 'Given, and usable now' },
			{ name: 'All', value: 'all', description: 'Every code of the coupon' },
			{
				name: 'Available',
				value: 'available',
				description: 'Codes nobody was given yet: what a shop still has to learn',
			},
			{ name: 'Expired', value: 'expired', description: 'Given, and past their validity' },
			{
				name: 'Lapsed',
				value: 'lapsed',
				description: 'Never given, and past the expiry its list gave it',
			},
			{ name: 'Redeemed', value: 'redeemed', description: 'Used at checkout' },
			{ name: 'Replaced', value: 'replaced', description: 'Ended by a newer coupon' },
		],
		default: 'all',
		description: 'Which codes the file lists',
	},
	optionsCollection(fileOptions),
];

interface ExportFileRequest extends ExportRequest, OutputFile {}

function readRequest(context: IExecuteFunctions, i: number): ExportFileRequest {
	const options = context.getNodeParameter('options', i, {}) as FileOptions;
	const couponName = parseCouponName(context.getNodeParameter('couponName', i));
	const status = parseExportStatus(context.getNodeParameter('status', i, 'all'));
	return {
		couponName,
		status,
		// Excel's dates have no time zone: they are written in the workflow's, in which Coupon
		// Import reads them back.
		timeZone: context.getTimezone(),
		...readFileOptions(options, (format) => `${couponName}-${status}-codes.${format}`),
	};
}

type ExportedFile = ExportSummary & { file: Buffer };

/** "Export Codes": a spreadsheet of a coupon's codes of one status, as the item's binary data. */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	return await runItems<ExportFileRequest, ExportedFile>(this, {
		read: (i) => readRequest(this, i),
		serve: async (session, requests) => ({
			outcomes: await outcomesOf(requests, async (request) => {
				const writer = sheetWriter(request.format);
				const summary = await exportCodes(session, request, now(), {
					maxRows: request.format === 'xlsx' ? MAX_XLSX_ROWS : Number.POSITIVE_INFINITY,
					tooManyRows: `an .xlsx sheet holds (${MAX_XLSX_ROWS.toLocaleString('en-US')} rows)`,
					write: async (rows) => await writer.addRows(rows),
				});
				return { ...summary, file: await writer.finish() };
			}),
		}),
		readOnly: true,
		output: (_json, { couponName, status, rows }, { fileName, format }) => ({
			couponName,
			status,
			rows,
			fileName,
			fileFormat: format,
		}),
		binary: async ({ file }, request) => await binaryFile(this, request, file),
	});
}
