import { crc32, createDeflateRaw, deflateRawSync, type DeflateRaw } from 'node:zlib';
import type { ExportCell } from '../core/codes/exportCodes';

/** Rows an .xlsx sheet holds below its header row (Excel's 1,048,576 rows, one the header). */
export const MAX_XLSX_ROWS = 1_048_575;

export type SheetFormat = 'xlsx' | 'csv';

export const MIME_TYPES: ReadonlyMap<SheetFormat, string> = new Map([
	['xlsx', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'],
	['csv', 'text/csv'],
]);

/**
 * A spreadsheet written a batch of rows at a time: each batch is encoded (and, for .xlsx,
 * compressed) as it comes, so a million rows are never held as rows, only as the file they make.
 * The first row is the header. A cell is text, a number, or a date and time: in an .xlsx a number
 * or date cell, in a CSV a number as JavaScript writes it and a date in ISO 8601, UTC.
 */
export interface SheetWriter {
	addRows(rows: ExportCell[][]): Promise<void>;
	/** The whole file. */
	finish(): Promise<Buffer>;
}

export function sheetWriter(format: SheetFormat): SheetWriter {
	return format === 'xlsx' ? new XlsxWriter() : new CsvWriter();
}

// CSV

/** Cells a spreadsheet program would run as a formula: written with a ' in front (OWASP's advice). */
const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]|^\s|\s$/;

function csvText(text: string): string {
	const cell = FORMULA_START.test(text) ? `'${text}` : text;
	return NEEDS_QUOTES.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell;
}

/** Only text is guarded: a number is never run as a formula, -5 stays -5. */
const csvCell = (cell: ExportCell): string =>
	cell === ''
		? cell
		: typeof cell === 'string'
			? csvText(cell)
			: typeof cell === 'number'
				? String(cell)
				: new Date(cell.at).toISOString();

/** RFC 4180 with Windows line ends, in UTF-8 with a byte order mark so that Excel reads it as UTF-8. */
class CsvWriter implements SheetWriter {
	private readonly chunks: Buffer[] = [Buffer.from('\ufeff', 'utf8')];

	async addRows(rows: ExportCell[][]): Promise<void> {
		let text = '';
		for (const row of rows) text += `${row.map(csvCell).join(',')}\r\n`;
		this.chunks.push(Buffer.from(text, 'utf8'));
	}

	async finish(): Promise<Buffer> {
		return Buffer.concat(this.chunks);
	}
}

// XLSX: a zip of a few fixed parts and one worksheet of inline strings, numbers and dates.

const XML_HEADER = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';
const MAIN = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
const RELATIONSHIPS = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
const PACKAGE_RELATIONSHIPS = 'http://schemas.openxmlformats.org/package/2006/relationships';

/**
 * Dates are written as Excel writes them, so that it sorts and filters them as dates: days since
 * its day zero (1899-12-30) in a date-and-time format, the styles' second cell format. Excel's
 * dates have no time zone: the cell holds the wall-clock time it is given.
 */
const DATE_FORMAT = 'yyyy-mm-dd hh:mm:ss';
/** The first number a workbook's own formats may have. */
const DATE_FORMAT_ID = 164;
const DATE_STYLE = 1;
const EXCEL_DAY_ZERO = Date.UTC(1899, 11, 30);
const DAY = 24 * 60 * 60 * 1000;

const FIXED_PARTS: Array<[string, string]> = [
	[
		'[Content_Types].xml',
		`${XML_HEADER}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>`,
	],
	[
		'_rels/.rels',
		`${XML_HEADER}<Relationships xmlns="${PACKAGE_RELATIONSHIPS}"><Relationship Id="rId1" Type="${RELATIONSHIPS}/officeDocument" Target="xl/workbook.xml"/></Relationships>`,
	],
	[
		'xl/workbook.xml',
		`${XML_HEADER}<workbook xmlns="${MAIN}" xmlns:r="${RELATIONSHIPS}"><sheets><sheet name="Codes" sheetId="1" r:id="rId1"/></sheets></workbook>`,
	],
	[
		'xl/_rels/workbook.xml.rels',
		`${XML_HEADER}<Relationships xmlns="${PACKAGE_RELATIONSHIPS}"><Relationship Id="rId1" Type="${RELATIONSHIPS}/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="${RELATIONSHIPS}/styles" Target="styles.xml"/></Relationships>`,
	],
	[
		'xl/styles.xml',
		`${XML_HEADER}<styleSheet xmlns="${MAIN}"><numFmts count="1"><numFmt numFmtId="${DATE_FORMAT_ID}" formatCode="${DATE_FORMAT}"/></numFmts><fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts><fills count="1"><fill><patternFill patternType="none"/></fill></fills><borders count="1"><border/></borders><cellStyleXfs count="1"><xf/></cellStyleXfs><cellXfs count="2"><xf/><xf numFmtId="${DATE_FORMAT_ID}" applyNumberFormat="1"/></cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>`,
	],
];

const XML_ESCAPES = new Map([
	['&', '&amp;'],
	['<', '&lt;'],
	['>', '&gt;'],
]);
const XML_SPECIAL = /[&<>]/g;
// XML 1.0 cannot hold these at all; no stored value has them, but a cell never breaks the file.
// eslint-disable-next-line no-control-regex -- control characters are what it finds
const XML_FORBIDDEN = /[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]/g;

const xmlText = (text: string) =>
	text.replace(XML_FORBIDDEN, '').replace(XML_SPECIAL, (c) => XML_ESCAPES.get(c)!);

/** Excel's columns: A to XFD. */
const MAX_XLSX_COLUMNS = 16_384;

/** A column's letters: A to Z, then AA, AB and on. */
function columnName(index: number): string {
	let name = '';
	for (let n = index + 1; n > 0; n = Math.floor((n - 1) / 26))
		name = String.fromCharCode(65 + ((n - 1) % 26)) + name;
	return name;
}

/** Columns are as wide as their header, and never too narrow for a date and time (else ####). */
const columnWidth = (header: string) =>
	Math.min(Math.max(header.length, DATE_FORMAT.length) + 2, 60);

/**
 * A number Excel keeps and shows as JavaScript writes it: at most 15 significant digits and no
 * exponent. Others are written as text, so that nothing is rounded and Coupon Import reads back
 * the same text.
 */
const isExcelNumber = (value: number) =>
	Number(value.toPrecision(15)) === value && !String(value).includes('e');

const inlineText = (ref: string, text: string) =>
	`<c r="${ref}" t="inlineStr"><is><t xml:space="preserve">${xmlText(text)}</t></is></c>`;

function xlsxCell(ref: string, cell: ExportCell): string {
	if (typeof cell === 'string') return inlineText(ref, cell);
	if (typeof cell === 'number')
		return isExcelNumber(cell) ? `<c r="${ref}"><v>${cell}</v></c>` : inlineText(ref, String(cell));
	return `<c r="${ref}" s="${DATE_STYLE}"><v>${(cell.wallClock - EXCEL_DAY_ZERO) / DAY}</v></c>`;
}

interface ZipEntry {
	name: Buffer;
	crc: number;
	size: number;
	compressed: Buffer[];
	compressedSize: number;
}

class XlsxWriter implements SheetWriter {
	private readonly deflate: DeflateRaw = createDeflateRaw();
	private readonly sheet: ZipEntry = entry('xl/worksheets/sheet1.xml');
	private rowNumber = 0;
	/** The column letters, from the header row. */
	private columns: string[] = [];
	private failure?: Error;

	constructor() {
		this.deflate.on('data', (chunk: Buffer) => {
			this.sheet.compressed.push(chunk);
			this.sheet.compressedSize += chunk.length;
		});
		this.deflate.on('error', (error) => (this.failure = error));
	}

	/** The worksheet up to its rows, with the columns' widths from the header row. */
	private start(header: ExportCell[]): string {
		if (header.length > MAX_XLSX_COLUMNS)
			throw new Error(`an .xlsx sheet holds at most ${MAX_XLSX_COLUMNS} columns`);
		this.columns = header.map((_, c) => columnName(c));
		const widths = header.map(
			(cell, c) =>
				`<col min="${c + 1}" max="${c + 1}" width="${columnWidth(String(cell))}" customWidth="1"/>`,
		);
		return `${XML_HEADER}<worksheet xmlns="${MAIN}">${widths.length > 0 ? `<cols>${widths.join('')}</cols>` : ''}<sheetData>`;
	}

	private row(cells: ExportCell[]): string {
		if (cells.length > this.columns.length) throw new Error('a row is wider than its header');
		const r = ++this.rowNumber;
		let xml = `<row r="${r}">`;
		// An empty cell is left out, as Excel does.
		for (let c = 0; c < cells.length; c++)
			if (cells[c] !== '') xml += xlsxCell(`${this.columns[c]}${r}`, cells[c]);
		return `${xml}</row>`;
	}

	private async write(xml: string): Promise<void> {
		const data = Buffer.from(xml, 'utf8');
		this.sheet.crc = crc32(data, this.sheet.crc);
		this.sheet.size += data.length;
		// Waiting for each batch to be compressed keeps at most one batch in memory uncompressed.
		await new Promise<void>((resolve, reject) =>
			this.deflate.write(data, (error) => (error ? reject(error) : resolve())),
		);
	}

	async addRows(rows: ExportCell[][]): Promise<void> {
		if (rows.length === 0) return;
		if (this.rowNumber - 1 + rows.length > MAX_XLSX_ROWS)
			throw new Error(`an .xlsx sheet holds at most ${MAX_XLSX_ROWS} rows`);
		let xml = this.rowNumber === 0 ? this.start(rows[0]) : '';
		for (const row of rows) xml += this.row(row);
		await this.write(xml);
	}

	async finish(): Promise<Buffer> {
		await this.write(`${this.rowNumber === 0 ? this.start([]) : ''}</sheetData></worksheet>`);
		await new Promise<void>((resolve, reject) => {
			this.deflate.once('end', resolve);
			this.deflate.once('error', reject);
			this.deflate.end();
		});
		if (this.failure) throw this.failure;
		const entries: ZipEntry[] = FIXED_PARTS.map(([name, text]) => {
			const data = Buffer.from(text, 'utf8');
			const compressed = deflateRawSync(data);
			return {
				...entry(name),
				crc: crc32(data),
				size: data.length,
				compressed: [compressed],
				compressedSize: compressed.length,
			};
		});
		entries.splice(3, 0, this.sheet);
		return zip(entries);
	}
}

const entry = (name: string): ZipEntry => ({
	name: Buffer.from(name, 'utf8'),
	crc: 0,
	size: 0,
	compressed: [],
	compressedSize: 0,
});

/** Above this a zip needs the Zip64 extension, which this writer does not write. */
const ZIP32_LIMIT = 0xffffffff;

/** A zip archive of deflated entries: local headers and data, then the central directory. */
function zip(entries: ZipEntry[]): Buffer {
	const parts: Buffer[] = [];
	const central: Buffer[] = [];
	let offset = 0;
	// 1980-01-01 00:00, zip's earliest date: the file's content, not the clock, decides its bytes.
	const time = 0;
	const date = (0 << 9) | (1 << 5) | 1;
	for (const e of entries) {
		if (e.size > ZIP32_LIMIT || offset > ZIP32_LIMIT)
			throw new Error('the spreadsheet would pass 4 GiB, the limit of a zip without Zip64');
		const local = Buffer.alloc(30);
		local.writeUInt32LE(0x04034b50, 0);
		local.writeUInt16LE(20, 4); // version needed: 2.0 (deflate)
		local.writeUInt16LE(0x0800, 6); // names in UTF-8
		local.writeUInt16LE(8, 8); // deflate
		local.writeUInt16LE(time, 10);
		local.writeUInt16LE(date, 12);
		local.writeUInt32LE(e.crc >>> 0, 14);
		local.writeUInt32LE(e.compressedSize, 18);
		local.writeUInt32LE(e.size, 22);
		local.writeUInt16LE(e.name.length, 26);
		local.writeUInt16LE(0, 28);
		const head = Buffer.alloc(46);
		head.writeUInt32LE(0x02014b50, 0);
		head.writeUInt16LE(20, 4); // made by: 2.0
		head.writeUInt16LE(20, 6);
		head.writeUInt16LE(0x0800, 8);
		head.writeUInt16LE(8, 10);
		head.writeUInt16LE(time, 12);
		head.writeUInt16LE(date, 14);
		head.writeUInt32LE(e.crc >>> 0, 16);
		head.writeUInt32LE(e.compressedSize, 20);
		head.writeUInt32LE(e.size, 24);
		head.writeUInt16LE(e.name.length, 28);
		head.writeUInt32LE(offset, 42);
		central.push(head, e.name);
		parts.push(local, e.name, ...e.compressed);
		offset += local.length + e.name.length + e.compressedSize;
	}
	const directorySize = central.reduce((sum, part) => sum + part.length, 0);
	if (offset + directorySize > ZIP32_LIMIT)
		throw new Error('the spreadsheet would pass 4 GiB, the limit of a zip without Zip64');
	const end = Buffer.alloc(22);
	end.writeUInt32LE(0x06054b50, 0);
	end.writeUInt16LE(entries.length, 8);
	end.writeUInt16LE(entries.length, 10);
	end.writeUInt32LE(directorySize, 12);
	end.writeUInt32LE(offset, 16);
	return Buffer.concat([...parts, ...central, end]);
}
