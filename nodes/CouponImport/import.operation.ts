import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { CouponError } from '../shared/core/errors';
import { importSheet, type ImportColumns } from '../shared/core/importList';
import { parseCouponName } from '../shared/core/names';
import { errorItem, nodeError } from '../shared/errors';
import { readSheet } from '../shared/spreadsheet/readSheet';
import type { UnpackLimits } from '../shared/spreadsheet/zipGuard';
import { openStore, warnIfNotSaved } from '../shared/storage';

export const DEFAULT_MAX_ROWS = 1_000_000;
export const DEFAULT_MAX_UNPACKED_MB = 500;
const MAX_RATIO = 100;
const MIB = 1024 * 1024;

export const description: INodeProperties[] = [
	{
		displayName: 'Input Binary Field',
		name: 'binaryPropertyName',
		type: 'string',
		default: 'data',
		required: true,
		placeholder: 'e.g. data',
		hint: 'The name of the input binary field containing the .xlsx file to import',
	},
	{
		displayName: 'Coupon Name',
		name: 'couponName',
		type: 'string',
		default: '',
		placeholder: 'e.g. SUMMER10',
		description:
			'Leave empty to import each row into the coupon named in its "coupon name" column. Enter a name to import every value of the sheet into that one coupon, as for a single-column list of codes.',
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add option',
		default: {},
		options: [
			{
				displayName: 'Max Rows',
				name: 'maxRows',
				type: 'number',
				default: DEFAULT_MAX_ROWS,
				typeOptions: { minValue: 1, numberPrecision: 0 },
				description: 'A file with more rows than this is refused before anything is imported',
			},
			{
				displayName: 'Max Unpacked Size (MB)',
				name: 'maxUnpackedMegabytes',
				type: 'number',
				default: DEFAULT_MAX_UNPACKED_MB,
				typeOptions: { minValue: 1, numberPrecision: 0 },
				description:
					'An .xlsx file is a zip archive; one that would unpack to more than this is refused without being unpacked, which protects n8n from zip bombs',
			},
			{
				displayName: 'Name Column',
				name: 'nameColumn',
				type: 'string',
				default: 'coupon name',
				description: 'Header of the column naming the coupon each row belongs to (any case)',
			},
			{
				displayName: 'Sheet Name',
				name: 'sheetName',
				type: 'string',
				default: '',
				description: 'The sheet to read. Leave empty for the first sheet.',
			},
			{
				displayName: 'Value Column',
				name: 'valueColumn',
				type: 'string',
				default: 'coupon value',
				description: 'Header of the column holding the codes (any case)',
			},
		],
	},
];

interface ImportOptions {
	sheetName?: string;
	nameColumn?: string;
	valueColumn?: string;
	maxRows?: number;
	maxUnpackedMegabytes?: number;
}

function positiveWhole(value: number, label: string): number {
	if (!Number.isInteger(value) || value < 1) throw new CouponError(`${label} must be a whole number of at least 1; got ${JSON.stringify(value)}`, `Enter a positive whole number in ${label}.`);
	return value;
}

/** "Coupon Import": each input item's spreadsheet loaded into pools; one summary item per pool. */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const items = this.getInputData();
	const { store, storage } = openStore(this);
	const output: INodeExecutionData[] = [];

	for (let i = 0; i < items.length; i++) {
		try {
			const options = this.getNodeParameter('options', i, {}) as ImportOptions;
			const rawName = this.getNodeParameter('couponName', i, '') as string;
			const columns: ImportColumns = {
				nameColumn: options.nameColumn?.trim() || 'coupon name',
				valueColumn: options.valueColumn?.trim() || 'coupon value',
				couponName: String(rawName ?? '').trim() === '' ? undefined : parseCouponName(rawName),
			};
			const maxUnpackedBytes = positiveWhole(options.maxUnpackedMegabytes ?? DEFAULT_MAX_UNPACKED_MB, 'Max Unpacked Size (MB)') * MIB;
			const limits: UnpackLimits = { maxTotalBytes: maxUnpackedBytes, maxEntryBytes: maxUnpackedBytes, maxRatio: MAX_RATIO };
			const maxRows = positiveWhole(options.maxRows ?? DEFAULT_MAX_ROWS, 'Max Rows');

			const binaryPropertyName = this.getNodeParameter('binaryPropertyName', i) as string;
			const binary = this.helpers.assertBinaryData(i, binaryPropertyName);
			const file = await this.helpers.getBinaryDataBuffer(i, binaryPropertyName);
			const table = await readSheet(file, { sheetName: options.sheetName, maxRows, limits });

			// One transaction per file: a file that fails leaves every pool as it was.
			const result = await store.transaction(async (session) => await importSheet(session, table, columns));
			const fileSummary = { fileName: binary.fileName ?? null, ...result.file };
			for (const pool of result.pools) {
				output.push({ json: { ...pool, file: fileSummary } as unknown as IDataObject, pairedItem: { item: i } });
			}
		} catch (error) {
			const failure = nodeError(this, error, i);
			if (!this.continueOnFail()) throw failure;
			output.push(errorItem({ json: {} }, failure, i));
		}
	}
	warnIfNotSaved(this, storage, 'these codes were not stored: Contact Coupon will not find them in later runs.');
	return output;
}
