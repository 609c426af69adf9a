import * as XLSX from '@e965/xlsx';
import { CouponError } from '../core/errors';
import type { Cell, SheetTable } from '../core/importList';
import {
	checkDeclaredSizes,
	readZipDirectory,
	unpackEntries,
	type UnpackedEntry,
	type UnpackLimits,
} from './zipGuard';

export interface ReadOptions {
	/** The sheet to read; the first one when empty. Matched case-insensitively. */
	sheetName?: string;
	/** Rows to read at most; the parser stops there, so a huge sheet costs no more than this. */
	rowLimit: number;
	limits: UnpackLimits;
}

const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
const OLE_MAGIC = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);
// Office writes password-protected workbooks as an OLE container holding an "EncryptionInfo" stream.
const ENCRYPTION_STREAM = Buffer.from('EncryptionInfo', 'utf16le');
const WORKBOOK_PART = /^xl\/workbook\.(xml|bin)$/i;

const saveAsXlsx =
	'Open the file in Excel or LibreOffice and save it as an Excel Workbook (.xlsx).';

/** Checks that `file` is a safe .xlsx, then reads one sheet into a table of cell texts. */
export async function readSheet(file: Buffer, options: ReadOptions): Promise<SheetTable> {
	if (file.length === 0)
		throw new CouponError(
			'The file is empty (0 bytes)',
			'Check the node before this one: it passed an empty file.',
		);
	if (file.subarray(0, 8).equals(OLE_MAGIC)) {
		if (file.includes(ENCRYPTION_STREAM)) {
			throw new CouponError(
				'The spreadsheet is password-protected, so it cannot be read',
				'Open it in Excel, remove the password (File > Info > Protect Workbook), and save it again.',
			);
		}
		throw new CouponError(
			'The file is an old Excel 97-2003 (.xls) workbook, not .xlsx',
			saveAsXlsx,
		);
	}
	if (!file.subarray(0, 4).equals(ZIP_MAGIC)) {
		throw new CouponError(
			`The file is not an .xlsx spreadsheet (it starts with ${describeStart(file)})`,
			`${saveAsXlsx} A CSV list can be saved as .xlsx the same way.`,
		);
	}

	const entries = readZipDirectory(file);
	if (!entries.some((entry) => WORKBOOK_PART.test(entry.name))) {
		throw new CouponError(
			'The file is a zip archive but not an Excel workbook (it has no xl/workbook part)',
			saveAsXlsx,
		);
	}
	checkDeclaredSizes(entries, options.limits);
	const container = workbookContainer(unpackEntries(file, entries));

	const wantedSheet = options.sheetName?.trim();
	let workbook: XLSX.WorkBook;
	try {
		workbook = parseZip(container, {
			dense: true,
			// Only the wanted sheet is parsed (SheetJS matches the name ignoring case), or the first.
			sheets: wantedSheet || 0,
			sheetRows: options.rowLimit,
			cellText: false,
			cellNF: true,
			cellDates: false,
			cellFormula: false,
			cellHTML: false,
			cellStyles: false,
		});
	} catch (error) {
		throw new CouponError(
			`The spreadsheet could not be read: ${(error as Error).message}`,
			saveAsXlsx,
		);
	}
	const sheetName = wantedSheet
		? workbook.SheetNames.find((name) => name.toLowerCase() === wantedSheet.toLowerCase())
		: workbook.SheetNames[0];
	if (sheetName === undefined) {
		if (!wantedSheet) throw new CouponError('The workbook has no sheets', saveAsXlsx);
		throw new CouponError(
			`The workbook has no sheet named "${wantedSheet}"; its sheets are ${workbook.SheetNames.map((n) => `"${n}"`).join(', ')}`,
			'Set Sheet Name to one of these, or leave it empty for the first sheet.',
		);
	}
	// Read by name even for "__proto__": SheetJS stores sheets in a plain object, where that name is the prototype.
	const sheet = workbook.Sheets[sheetName] as XLSX.WorkSheet | undefined;
	const rows = (sheet?.['!data'] ?? []) as Array<XLSX.CellObject[] | undefined>;
	return { sheetName, rows, cell: (raw) => cellOf(raw as XLSX.CellObject | undefined) };
}

/** SheetJS's own reader of an unpacked workbook; XLSX.read would unpack the zip itself, without limits. */
const parseZip = (
	XLSX as unknown as { parse_zip(container: unknown, options: XLSX.ParsingOptions): XLSX.WorkBook }
).parse_zip;

function workbookContainer(entries: UnpackedEntry[]): unknown {
	const container = XLSX.CFB.utils.cfb_new();
	for (const entry of entries)
		XLSX.CFB.utils.cfb_add(container, entry.name, entry.data, { unsafe: true } as never);
	return container;
}

/** Zero padding, optionally with literal text, such as 000000 or "GC"0000: the displayed text is the code. */
const PADDING_FORMAT = /^(?:"[^"]*"|\\.|0)*0(?:"[^"]*"|\\.|0)*$/;
/** Excel keeps 15 significant digits of a number: a longer one has already lost its last digits. */
const MAX_EXACT_NUMBER = 999_999_999_999_999;

/**
 * A cell's text as the coupon value it stands for. Text cells are kept as written (leading zeros
 * included); whole numbers are written out in full, never as 1.2E+15 or 12.0.
 */
function cellOf(cell: XLSX.CellObject | undefined): Cell {
	if (!cell || cell.v === undefined || cell.v === null) return undefined;
	switch (cell.t) {
		case 's':
			return String(cell.v);
		case 'n':
			return numberCell(cell.v as number, typeof cell.z === 'string' ? cell.z : undefined);
		case 'b':
			return { unusable: 'is a TRUE/FALSE cell, not a code', shown: String(cell.v).toUpperCase() };
		case 'e':
			return { unusable: 'is an error cell (such as #N/A)', shown: String(cell.w ?? '#ERROR') };
		case 'd':
			return {
				unusable: 'is a date, not a code; format the column as text',
				shown: String(cell.v),
			};
		default:
			return undefined;
	}
}

function numberCell(value: number, format: string | undefined): Cell {
	const formatAsText = 'format the column as text and enter the codes again';
	if (format && XLSX.SSF.is_date(format))
		return { unusable: `is a date, not a code; ${formatAsText}`, shown: String(value) };
	if (!Number.isInteger(value))
		return { unusable: `is a fractional number; ${formatAsText}`, shown: String(value) };
	if (Math.abs(value) > MAX_EXACT_NUMBER) {
		return {
			unusable: `is a number of more than 15 digits, which Excel does not keep exactly; ${formatAsText}`,
			shown: BigInt(value).toString(),
		};
	}
	const firstSection = format?.split(';')[0] ?? '';
	if (value >= 0 && PADDING_FORMAT.test(firstSection)) return XLSX.SSF.format(firstSection, value);
	return String(value);
}

function describeStart(file: Buffer): string {
	const text = file.subarray(0, 16).toString('latin1');
	if (/^%PDF/.test(text)) return '"%PDF": it is a PDF';
	if (/^[\x20-\x7e\t\r\n]+$/.test(text))
		return `the text "${text.replace(/\s+/g, ' ').slice(0, 16)}": it may be a CSV or text file`;
	return `the bytes ${file.subarray(0, 4).toString('hex')}`;
}
