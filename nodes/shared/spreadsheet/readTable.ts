import { CouponError } from '../core/common/errors';
import type { SheetRows, SheetTable } from '../core/import/importTypes';
import { wholeTable } from '../core/import/sheetRows';
import { looksLikeText, openCsv } from './readCsv';
import type { ReadOptions } from './readOptions';
import { openSheet, SAVE_AS_XLSX } from './readSheet';

const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
const PDF_MAGIC = Buffer.from('%PDF-', 'latin1');
const OLE_MAGIC = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);
// Office writes password-protected workbooks as an OLE container holding an "EncryptionInfo" stream.
const ENCRYPTION_STREAM = Buffer.from('EncryptionInfo', 'utf16le');

/**
 * Opens a coupon list to be read as its rows stream in: a CSV file (UTF-8, or UTF-16 with a byte
 * order mark) as one sheet, an .xlsx file's chosen sheet after checking that the file is safe;
 * anything else is refused, naming what the file looks like.
 */
export async function openTable(file: Buffer, options: ReadOptions): Promise<SheetRows> {
	if (file.length === 0)
		throw new CouponError(
			'FILE_EMPTY',
			'The file is empty (0 bytes)',
			'Check the node before this one: it passed an empty file.',
		);
	if (file.subarray(0, 8).equals(OLE_MAGIC)) {
		if (file.includes(ENCRYPTION_STREAM)) {
			throw new CouponError(
				'FILE_PROTECTED',
				'The spreadsheet is password-protected, so it cannot be read',
				'Open it in Excel, remove the password (File > Info > Protect Workbook), and save it again.',
			);
		}
		throw new CouponError(
			'FILE_NOT_SPREADSHEET',
			'The file is an old Excel 97-2003 (.xls) workbook, not .xlsx',
			SAVE_AS_XLSX,
		);
	}
	if (!file.subarray(0, 4).equals(ZIP_MAGIC)) {
		if (!file.subarray(0, 5).equals(PDF_MAGIC) && looksLikeText(file))
			return await openCsv(file, options);
		throw new CouponError(
			'FILE_NOT_SPREADSHEET',
			`The file is not an .xlsx spreadsheet (it starts with ${describeStart(file)})`,
			`${SAVE_AS_XLSX} A CSV list must be UTF-8 text: save it as "CSV UTF-8", or as .xlsx the same way.`,
		);
	}
	return await openSheet(file, options);
}

/** A coupon list read whole into a table of cell texts (see openTable): for small files and tests. */
export async function readTable(file: Buffer, options: ReadOptions): Promise<SheetTable> {
	return await wholeTable(await openTable(file, options));
}

function describeStart(file: Buffer): string {
	const text = file.subarray(0, 16).toString('latin1');
	if (/^%PDF/.test(text)) return '"%PDF": it is a PDF';
	if (/^[\x20-\x7e\t\r\n]+$/.test(text))
		return `the text "${text.replace(/\s+/g, ' ').slice(0, 16)}": it may be a CSV or text file`;
	return `the bytes ${file.subarray(0, 4).toString('hex')}`;
}
