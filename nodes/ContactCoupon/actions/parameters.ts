import type { IBinaryKeyData, IExecuteFunctions } from 'n8n-workflow';
import { CouponError } from '../../shared/core/common/errors';
import { echo, textParameter } from '../../shared/core/common/names';
import { MIME_TYPES, type SheetFormat } from '../../shared/spreadsheet/writeSheet';
import { checkFileName, fileNameFrom } from '../../shared/spreadsheet/fileName';
import {
	parseLength,
	parsePattern,
	parsePrefix,
	parseSuffix,
	resolveCharacters,
} from '../../shared/core/codes/codeFormat';
import type { CodeFormat } from '../../shared/core/storeContract';
import { DEFAULT_LENGTH } from './properties';
import { parseValidDays } from '../../shared/core/common/validity';

// Reading the parameters that properties.ts declares for several operations, and the output file
// they describe.

export interface CodeFormatOptions {
	characters?: string;
	checkCharacter?: boolean;
	customCharacters?: string;
	pattern?: string;
	prefix?: string;
	suffix?: string;
}

/** Whether the options set a code format other than the default, which an imported list ignores. */
export const formatOptionChosen = (options: CodeFormatOptions): boolean =>
	(options.characters ?? 'unambiguous') !== 'unambiguous' ||
	Boolean(options.prefix || options.suffix || options.pattern || options.checkCharacter);

/** The code format the Length parameter and the code format options set. */
export function readCodeFormat(
	context: IExecuteFunctions,
	itemIndex: number,
	options: CodeFormatOptions,
): CodeFormat {
	const characters = resolveCharacters(
		options.characters ?? 'unambiguous',
		options.customCharacters ?? '',
	);
	const pattern = parsePattern(options.pattern, characters);
	const suffix = parseSuffix(options.suffix);
	return {
		characters,
		// Ignored with a pattern, which sets the random part itself.
		length: parseLength(context.getNodeParameter('length', itemIndex, DEFAULT_LENGTH)),
		prefix: parsePrefix(options.prefix),
		...(suffix ? { suffix } : {}),
		...(pattern ? { pattern } : {}),
		...(options.checkCharacter === true ? { checkCharacter: true } : {}),
	};
}

/** Valid (Days) and the code format as `newCouponProperties` and `codeFormatOptions` set them. */
export function readNewCouponSettings(
	context: IExecuteFunctions,
	itemIndex: number,
	options: CodeFormatOptions,
): { validDays: number; format: CodeFormat } {
	return {
		validDays: parseValidDays(context.getNodeParameter('validDays', itemIndex)),
		format: readCodeFormat(context, itemIndex, options),
	};
}

export interface FileOptions {
	fileFormat?: string;
	fileName?: unknown;
	binaryPropertyName?: unknown;
}

/** Where and how an operation writes its spreadsheet. */
export interface OutputFile {
	format: SheetFormat;
	fileName: string;
	/** The output item's binary field. */
	field: string;
}

const SHEET_FORMATS: readonly SheetFormat[] = ['xlsx', 'csv'];

/** The file options as an OutputFile; `defaultName` names the file when File Name is empty. */
export function readFileOptions(
	options: FileOptions,
	defaultName: (format: SheetFormat) => string,
): OutputFile {
	const format = SHEET_FORMATS.find((known) => known === (options.fileFormat ?? 'xlsx'));
	if (!format)
		throw new CouponError(
			'CHOICE_UNKNOWN',
			`Unknown choice ${echo(options.fileFormat)} for File Format`,
			'Choose XLSX or CSV.',
		);
	const fix = 'Enter a file name such as spring10-codes.xlsx, or leave it empty.';
	const given = textParameter(options.fileName, 'The file name', fix);
	const fileName =
		given === '' ? fileNameFrom(defaultName(format), format) : checkFileName(given, format);
	const field = textParameter(options.binaryPropertyName ?? 'data', 'The output field', fix);
	if (field === '')
		throw new CouponError(
			'TEXT_INVALID',
			'Put Output File in Field is empty',
			'Enter the name of the binary field for the file, such as data.',
		);
	return { format, fileName, field };
}

/** A written spreadsheet as the output item's binary data, in the field the options name. */
export async function binaryFile(
	context: IExecuteFunctions,
	{ format, fileName, field }: OutputFile,
	file: Buffer,
): Promise<IBinaryKeyData> {
	return {
		[field]: await context.helpers.prepareBinaryData(file, fileName, MIME_TYPES.get(format)),
	};
}
