import { CouponError } from '../core/common/errors';
import type { SheetRows, SheetTable } from '../core/import/importTypes';
import { wholeTable } from '../core/import/sheetRows';
import { CSV_START_BYTES, looksLikeText, openCsv, openCsvPieces } from './readCsv';
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
 * anything else is refused, naming what the file looks like. A file given as a stream (as n8n
 * reads one it keeps on disk) is read as far as a CSV's rows need; an .xlsx file is read whole,
 * since its zip directory is at its end.
 */
export async function openTable(
	file: Buffer | AsyncIterable<Buffer>,
	options: ReadOptions,
): Promise<SheetRows> {
	if (Buffer.isBuffer(file)) return await openWhole(file, options);
	const iterator = file[Symbol.asyncIterator]();
	const start: Buffer[] = [];
	let startBytes = 0;
	try {
		while (startBytes < CSV_START_BYTES) {
			const next = await iterator.next();
			if (next.done) return await openWhole(Buffer.concat(start), options);
			start.push(next.value);
			startBytes += next.value.length;
		}
		const head = Buffer.concat(start);
		const kind = kindOf(head);
		if (kind === 'csv') return await openCsvPieces(head, andThen(head, iterator), options);
		// Refused from its first bytes, not read on.
		if (kind === 'other') return await openWhole(head, options);
		for (let next = await iterator.next(); !next.done; next = await iterator.next())
			start.push(next.value);
		return await openWhole(Buffer.concat(start), options);
	} catch (error) {
		await iterator.return?.();
		throw error;
	}
}

/** `head`, then what `rest` yields. */
async function* andThen(head: Buffer, rest: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
	try {
		yield head;
		for (let next = await rest.next(); !next.done; next = await rest.next()) yield next.value;
	} finally {
		await rest.return?.();
	}
}

/** What a file is, told by its first bytes; an old Excel file is read whole for its encryption. */
function kindOf(start: Buffer): 'empty' | 'ole' | 'zip' | 'csv' | 'other' {
	if (start.length === 0) return 'empty';
	if (start.subarray(0, 8).equals(OLE_MAGIC)) return 'ole';
	if (start.subarray(0, 4).equals(ZIP_MAGIC)) return 'zip';
	if (!start.subarray(0, 5).equals(PDF_MAGIC) && looksLikeText(start)) return 'csv';
	return 'other';
}

async function openWhole(file: Buffer, options: ReadOptions): Promise<SheetRows> {
	switch (kindOf(file)) {
		case 'empty':
			throw new CouponError(
				'FILE_EMPTY',
				'The file is empty (0 bytes)',
				'Check the node before this one: it passed an empty file.',
			);
		case 'ole':
			if (file.includes(ENCRYPTION_STREAM))
				throw new CouponError(
					'FILE_PROTECTED',
					'The spreadsheet is password-protected, so it cannot be read',
					'Open it in Excel, remove the password (File > Info > Protect Workbook), and save it again.',
				);
			throw new CouponError(
				'FILE_NOT_SPREADSHEET',
				'The file is an old Excel 97-2003 (.xls) workbook, not .xlsx',
				SAVE_AS_XLSX,
			);
		case 'csv':
			return await openCsv(file, options);
		case 'other':
			throw new CouponError(
				'FILE_NOT_SPREADSHEET',
				`The file is not an .xlsx spreadsheet (it starts with ${describeStart(file)})`,
				`${SAVE_AS_XLSX} A CSV list must be UTF-8 text: save it as "CSV UTF-8", or as .xlsx the same way.`,
			);
		case 'zip':
			return await openSheet(file, options);
	}
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
