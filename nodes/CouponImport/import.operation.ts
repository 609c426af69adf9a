import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
} from 'n8n-workflow';
import type { CouponStoreSession } from '../shared/core/store';
import { CouponError } from '../shared/core/errors';
import { HEADER_SEARCH_ROWS, importSheet, type ImportSettings } from '../shared/core/importList';
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
	if (!Number.isInteger(value) || value < 1)
		throw new CouponError(
			`${label} must be a whole number of at least 1; got ${JSON.stringify(value)}`,
			`Enter a positive whole number in ${label}.`,
		);
	return value;
}

/** Reads item `itemIndex`'s spreadsheet and imports it within `session`; returns its summary items. */
async function importItem(
	context: IExecuteFunctions,
	session: CouponStoreSession,
	itemIndex: number,
): Promise<INodeExecutionData[]> {
	const options = context.getNodeParameter('options', itemIndex, {}) as ImportOptions;
	const rawName = String(context.getNodeParameter('couponName', itemIndex, '') ?? '');
	const maxRows = positiveWhole(options.maxRows ?? DEFAULT_MAX_ROWS, 'Max Rows');
	const settings: ImportSettings = {
		nameColumn: options.nameColumn?.trim() || 'coupon name',
		valueColumn: options.valueColumn?.trim() || 'coupon value',
		couponName: rawName.trim() === '' ? undefined : parseCouponName(rawName),
		maxRows,
	};
	const maxUnpackedBytes =
		positiveWhole(
			options.maxUnpackedMegabytes ?? DEFAULT_MAX_UNPACKED_MB,
			'Max Unpacked Size (MB)',
		) * MIB;
	const limits: UnpackLimits = {
		maxTotalBytes: maxUnpackedBytes,
		maxEntryBytes: maxUnpackedBytes,
		maxRatio: MAX_RATIO,
	};

	const binaryPropertyName = context.getNodeParameter('binaryPropertyName', itemIndex) as string;
	const binary = context.helpers.assertBinaryData(itemIndex, binaryPropertyName);
	const file = await context.helpers.getBinaryDataBuffer(itemIndex, binaryPropertyName);
	// Past the header search and Max Rows the parser stops reading: one row more shows the cap was passed.
	const table = await readSheet(file, {
		sheetName: options.sheetName,
		rowLimit: HEADER_SEARCH_ROWS + maxRows + 1,
		limits,
	});

	const result = await importSheet(session, table, settings);
	for (const note of result.notes)
		context.addExecutionHints({ message: note, location: 'outputPane' });
	const fileSummary = { fileName: binary.fileName ?? null, ...result.file };
	return result.pools.map((pool) => ({
		json: { ...pool, file: fileSummary } as unknown as IDataObject,
		pairedItem: { item: itemIndex },
	}));
}

/**
 * "Coupon Import": each input item's spreadsheet loaded into pools; one summary item per pool.
 * With Continue on Fail each file is imported whole or not at all; without it, the whole run is.
 */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const items = this.getInputData();
	const { store, storage } = await openStore(this);
	const output: INodeExecutionData[] = [];

	if (this.continueOnFail()) {
		for (let i = 0; i < items.length; i++) {
			try {
				output.push(
					...(await store.transaction(async (session) => await importItem(this, session, i))),
				);
			} catch (error) {
				output.push(errorItem({ json: {} }, nodeError(this, error, i), i));
			}
		}
	} else {
		let current = 0;
		await store
			.transaction(async (session) => {
				for (current = 0; current < items.length; current++)
					output.push(...(await importItem(this, session, current)));
			})
			.catch((error: unknown) => {
				throw nodeError(this, error, Math.min(current, items.length - 1));
			});
	}
	warnIfNotSaved(
		this,
		storage,
		'these codes were not stored: Contact Coupon will not find them in later runs.',
	);
	return output;
}
