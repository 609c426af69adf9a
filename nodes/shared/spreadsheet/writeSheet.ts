import { crc32, createDeflateRaw, deflateRawSync, type DeflateRaw } from 'node:zlib';

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
 * Every cell is text.
 */
export interface SheetWriter {
	addRows(rows: string[][]): Promise<void>;
	/** The whole file. */
	finish(): Promise<Buffer>;
}

export function sheetWriter(format: SheetFormat, header: string[]): SheetWriter {
	return format === 'xlsx' ? new XlsxWriter(header) : new CsvWriter(header);
}

// CSV

/** Cells a spreadsheet program would run as a formula: written with a ' in front (OWASP's advice). */
const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]|^\s|\s$/;

function csvCell(text: string): string {
	const cell = FORMULA_START.test(text) ? `'${text}` : text;
	return NEEDS_QUOTES.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell;
}

/** RFC 4180 with Windows line ends, in UTF-8 with a byte order mark so that Excel reads it as UTF-8. */
class CsvWriter implements SheetWriter {
	private readonly chunks: Buffer[] = [Buffer.from('\ufeff', 'utf8')];

	constructor(header: string[]) {
		this.chunks.push(Buffer.from(`${header.map(csvCell).join(',')}\r\n`, 'utf8'));
	}

	async addRows(rows: string[][]): Promise<void> {
		let text = '';
		for (const row of rows) text += `${row.map(csvCell).join(',')}\r\n`;
		this.chunks.push(Buffer.from(text, 'utf8'));
	}

	async finish(): Promise<Buffer> {
		return Buffer.concat(this.chunks);
	}
}

// XLSX: a zip of a few fixed parts and one worksheet of inline strings.

const XML_HEADER = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';
const MAIN = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
const RELATIONSHIPS = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
const PACKAGE_RELATIONSHIPS = 'http://schemas.openxmlformats.org/package/2006/relationships';

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
		`${XML_HEADER}<styleSheet xmlns="${MAIN}"><fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts><fills count="1"><fill><patternFill patternType="none"/></fill></fills><borders count="1"><border/></borders><cellStyleXfs count="1"><xf/></cellStyleXfs><cellXfs count="1"><xf/></cellXfs></styleSheet>`,
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

/** The column letters of the first 26 columns: the writer's rows are narrow. */
const COLUMN = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZ'];

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
	private failure?: Error;
	/** The header row's writing, which the first batch waits for. */
	private readonly pending: Promise<void>;

	constructor(header: string[]) {
		if (header.length > COLUMN.length) throw new Error('at most 26 columns');
		this.deflate.on('data', (chunk: Buffer) => {
			this.sheet.compressed.push(chunk);
			this.sheet.compressedSize += chunk.length;
		});
		this.deflate.on('error', (error) => (this.failure = error));
		this.pending = this.write(
			`${XML_HEADER}<worksheet xmlns="${MAIN}"><sheetData>${this.row(header)}`,
		);
	}

	private row(cells: string[]): string {
		const r = ++this.rowNumber;
		let xml = `<row r="${r}">`;
		cells.forEach((cell, c) => {
			if (cell !== '')
				xml += `<c r="${COLUMN[c]}${r}" t="inlineStr"><is><t xml:space="preserve">${xmlText(cell)}</t></is></c>`;
		});
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

	async addRows(rows: string[][]): Promise<void> {
		await this.pending;
		if (this.rowNumber - 1 + rows.length > MAX_XLSX_ROWS)
			throw new Error(`an .xlsx sheet holds at most ${MAX_XLSX_ROWS} rows`);
		let xml = '';
		for (const row of rows) xml += this.row(row);
		await this.write(xml);
	}

	async finish(): Promise<Buffer> {
		await this.pending;
		await this.write('</sheetData></worksheet>');
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
