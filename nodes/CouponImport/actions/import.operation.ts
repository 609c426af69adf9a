import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
} from 'n8n-workflow';
import {
	DEFAULT_MAX_NEW_COUPONS_PER_FILE,
	HEADER_SEARCH_ROWS,
	type ImportRequest,
	type ImportResult,
	type ImportSettings,
} from '../../shared/core/import/importTypes';
import { parseKeepColumns } from '../../shared/core/import/sheetLayout';
import { publishSheets, stageSheets, type StagedSheet } from '../../shared/core/import/importList';
import { parseLimit } from '../../shared/core/common/limits';
import { now } from '../../shared/core/common/clock';
import { echo, parseOptionalCouponName, textParameter } from '../../shared/core/common/names';
import { CouponError } from '../../shared/core/common/errors';
import { parseCouponUses } from '../../shared/core/common/validity';
import {
	couponDetailsOption,
	sharedUsesPerCodeOption,
	usesPerCustomerOption,
	couponNameProperty,
} from '../../shared/n8n/properties';
import { MAX_DETAILS, parseDetails } from '../../shared/core/common/details';
import { runItems } from '../../shared/n8n/itemRunner';
import { CELLS_PER_ROW } from '../../shared/spreadsheet/readOptions';
import { openTable } from '../../shared/spreadsheet/readTable';
import type { UnpackLimits } from '../../shared/spreadsheet/zipGuard';

export const DEFAULT_MAX_ROWS = 1_000_000;
export const DEFAULT_MAX_UNPACKED_MB = 500;
const MAX_RATIO = 100;
const MIB = 1024 * 1024;

export const properties: INodeProperties[] = [
	{
		displayName: 'Input Binary Field',
		name: 'binaryPropertyName',
		type: 'string',
		default: 'data',
		required: true,
		placeholder: 'e.g. data',
		hint: 'The name of the input binary field containing the .xlsx or CSV file to import',
	},
	couponNameProperty(
		'Leave empty to import each row into the coupon named in its "coupon name" column. Enter a name to import every value of the sheet into that one coupon, as for a single-column list of codes.',
		{ required: false, placeholder: 'e.g. SUMMER10' },
	),
	{
		displayName: 'Mode',
		name: 'mode',
		type: 'options',
		options: [
			{
				name: 'Add',
				value: 'add',
				description: "Add the file's new codes; the coupon keeps every code it has",
			},
			{
				name: 'Replace',
				value: 'replace',
				description:
					'Make the file the list: unused codes it does not list are withdrawn; codes contacts hold stay',
			},
			{
				name: 'Dry Run',
				value: 'dryRun',
				description:
					'Change nothing: the summary says what Add would add and what Replace would withdraw',
			},
		],
		default: 'add',
		description: 'What the import does with the codes each coupon the file names already has',
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add option',
		default: {},
		options: [
			couponDetailsOption,
			{
				displayName: 'Expiry Column',
				name: 'expiryColumn',
				type: 'string',
				default: '',
				placeholder: 'e.g. valid until',
				description:
					"The header of a column giving each code its own expiry: a date (valid through that day) or a date and time, in the workflow's time zone unless it names an offset. A code is never assigned past it; a row already expired is rejected. Empty: codes do not expire before they are assigned.",
			},
			{
				displayName: 'Keep Columns',
				name: 'keepColumns',
				type: 'string',
				default: '',
				placeholder: 'e.g. token, discount, minimum order',
				description:
					'Other columns each code keeps as its details, by header, separated by commas; "all" keeps every other column. Empty keeps none.',
			},
			{
				displayName: 'Max New Coupons',
				name: 'maxNewCoupons',
				type: 'number',
				default: DEFAULT_MAX_NEW_COUPONS_PER_FILE,
				typeOptions: { minValue: 1, numberPrecision: 0 },
				description:
					'A file that would create more coupons than this is refused before anything is imported; it guards against a name column that holds codes or emails',
			},
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
			sharedUsesPerCodeOption,
			usesPerCustomerOption,
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
	maxNewCoupons?: number;
	maxUnpackedMegabytes?: number;
	usesPerCode?: unknown;
	usesPerCustomer?: unknown;
	keepColumns?: unknown;
	couponDetails?: unknown;
	expiryColumn?: unknown;
}

/**
 * What an import does with the codes a coupon already has: Add keeps them; Replace withdraws the
 * unused ones the file does not list; Dry Run changes nothing and says what Add would add and
 * Replace would withdraw. Stored in workflow JSON as the Mode parameter: never rename.
 */
const IMPORT_MODES = ['add', 'replace', 'dryRun'] as const;
type ImportMode = (typeof IMPORT_MODES)[number];

function parseImportMode(raw: unknown): ImportMode {
	const mode = IMPORT_MODES.find((known) => known === raw);
	if (mode === undefined)
		throw new CouponError(
			'CHOICE_UNKNOWN',
			`Unknown choice ${echo(raw)} for Mode`,
			'Choose Add, Replace or Dry Run.',
		);
	return mode;
}

interface FileImport extends ImportRequest {
	fileName: string | null;
	mode: ImportMode;
	/** The file once read into the staging area. */
	staged?: StagedSheet;
}

/** The Expiry Column setting, read in the workflow's time zone. */
function expirySetting(context: IExecuteFunctions, raw: unknown): Pick<ImportSettings, 'expiry'> {
	const column = textParameter(
		raw,
		'Expiry Column',
		"Enter the header of the column with each code's expiry, such as valid until, or leave it empty.",
	);
	return column === '' ? {} : { expiry: { column, timeZone: context.getTimezone() } };
}

/** How many columns Keep Columns may add to each row read. */
const keptColumnCount = (keep: ImportSettings['keepColumns']) =>
	keep === undefined ? 0 : keep === 'all' ? MAX_DETAILS : keep.length;

/** Item `itemIndex`'s settings and file; the file is read only when its turn comes. */
async function readFileImport(context: IExecuteFunctions, itemIndex: number): Promise<FileImport> {
	const options = context.getNodeParameter('options', itemIndex, {}) as ImportOptions;
	const rawName = context.getNodeParameter('couponName', itemIndex, '');
	const maxRows = parseLimit(options.maxRows ?? DEFAULT_MAX_ROWS, 'Max Rows');
	const mode = parseImportMode(context.getNodeParameter('mode', itemIndex, 'add'));
	const settings: ImportSettings = {
		withdraw: mode !== 'add',
		nameColumn: options.nameColumn?.trim() || 'coupon name',
		valueColumn: options.valueColumn?.trim() || 'coupon value',
		couponName: parseOptionalCouponName(rawName),
		maxRows,
		maxNewCoupons: parseLimit(
			options.maxNewCoupons ?? DEFAULT_MAX_NEW_COUPONS_PER_FILE,
			'Max New Coupons',
		),
		...parseCouponUses(options.usesPerCode, options.usesPerCustomer),
		keepColumns: parseKeepColumns(options.keepColumns),
		details: parseDetails(options.couponDetails),
		...expirySetting(context, options.expiryColumn),
		now: now(),
	};
	const maxUnpackedBytes =
		parseLimit(options.maxUnpackedMegabytes ?? DEFAULT_MAX_UNPACKED_MB, 'Max Unpacked Size (MB)') *
		MIB;
	const limits: UnpackLimits = {
		maxTotalBytes: maxUnpackedBytes,
		maxEntryBytes: maxUnpackedBytes,
		maxRatio: MAX_RATIO,
	};

	const binaryPropertyName = context.getNodeParameter('binaryPropertyName', itemIndex) as string;
	const binary = context.helpers.assertBinaryData(itemIndex, binaryPropertyName);
	return {
		fileName: binary.fileName ?? null,
		mode,
		settings,
		// Read when its turn comes, so a run holds one file at a time. Past the header search and
		// Max Rows, plus one row that shows the cap was passed, the reader only looks for values.
		// A file n8n keeps on disk (or elsewhere outside the item, `id`) is streamed: a CSV is read
		// as its rows need, never held whole.
		readTable: async () =>
			await openTable(
				binary.id
					? await context.helpers.getBinaryStream(binary.id)
					: await context.helpers.getBinaryDataBuffer(itemIndex, binaryPropertyName),
				{
					sheetName: options.sheetName,
					leadingRows: HEADER_SEARCH_ROWS,
					rowsAfter: maxRows + 1,
					limits,
					cellsPerRow: CELLS_PER_ROW + keptColumnCount(settings.keepColumns),
				},
			),
	};
}

/**
 * "Coupon Import": each input item's spreadsheet loaded into coupons; one summary item per coupon
 * the file names. A file that fails changes nothing; without Continue on Fail, the run keeps nothing.
 */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	return await runItems<FileImport, ImportResult, string[]>(this, {
		read: async (i) => await readFileImport(this, i),
		stage: async (staging, requests) => {
			const outcomes = await stageSheets(staging, requests, {
				stopAtFailure: !this.continueOnFail(),
			});
			return outcomes.map((outcome, i) =>
				'value' in outcome ? { value: { ...requests[i], staged: outcome.value } } : outcome,
			);
		},
		serve: async (session, requests) => {
			const outcomes = await publishSheets(
				session,
				requests.map((request) => request.staged!),
				{ stopAtFailure: !this.continueOnFail() },
			);
			// The notes of each file (such as Keep Columns naming a column the sheet lacks).
			const notes = outcomes.flatMap((outcome) => ('value' in outcome ? outcome.value.notes : []));
			return { outcomes, report: notes };
		},
		dryRun: ({ mode }) => mode === 'dryRun',
		bulk: true,
		output: (_json, { pools, file }, { fileName, mode }) =>
			pools.map(
				(pool) => ({ ...pool, mode, file: { fileName, ...file } }) as unknown as IDataObject,
			),
		notSaved: () => 'these codes were not stored: Contact Coupon will not find them in later runs.',
		hints: ({ requests, reports }) => [
			...reports.flat(),
			...(requests.some((request) => request.mode === 'dryRun')
				? [
						'Dry Run: nothing was changed. "added" is what Add (or Replace) would add, "withdrawn" what Replace would withdraw.',
					]
				: []),
		],
	});
}
