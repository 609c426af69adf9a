import { crc32, deflateRawSync } from 'node:zlib';
import * as XLSX from '@e965/xlsx';

/**
 * An .xlsx built with SheetJS from rows of cells; a cell may be a full SheetJS cell object.
 * Sheets come as an object, or as [name, rows] pairs for names such as __proto__.
 */
export function xlsx(sheets: Record<string, unknown[][]> | Array<[string, unknown[][]]>): Buffer {
	const workbook = XLSX.utils.book_new();
	for (const [name, rows] of Array.isArray(sheets) ? sheets : Object.entries(sheets)) {
		const sheet = XLSX.utils.aoa_to_sheet(rows.map((row) => row.map((cell) => (isCellObject(cell) ? null : cell))));
		rows.forEach((row, r) =>
			row.forEach((cell, c) => {
				if (isCellObject(cell)) sheet[XLSX.utils.encode_cell({ r, c })] = cell;
			}),
		);
		XLSX.utils.book_append_sheet(workbook, sheet, name);
	}
	return XLSX.write(workbook, { type: 'buffer', bookType: 'xlsx', compression: true }) as Buffer;
}

function isCellObject(cell: unknown): cell is XLSX.CellObject {
	return typeof cell === 'object' && cell !== null && 't' in cell;
}

export interface ZipPart {
	name: string;
	data: Buffer;
	/** What the headers claim the part unpacks to, when a test wants them to lie. */
	declaredSize?: number;
}

/** A deflated zip archive written byte by byte, so tests control every header. */
export function zip(parts: ZipPart[]): Buffer {
	const locals: Buffer[] = [];
	const centrals: Buffer[] = [];
	let offset = 0;
	for (const part of parts) {
		const packed = deflateRawSync(part.data);
		const name = Buffer.from(part.name, 'utf8');
		const size = part.declaredSize ?? part.data.length;
		const local = Buffer.alloc(30);
		local.writeUInt32LE(0x04034b50, 0);
		local.writeUInt16LE(20, 4);
		local.writeUInt16LE(8, 8);
		local.writeUInt32LE(crc32(part.data), 14);
		local.writeUInt32LE(packed.length, 18);
		local.writeUInt32LE(size, 22);
		local.writeUInt16LE(name.length, 26);
		const central = Buffer.alloc(46);
		central.writeUInt32LE(0x02014b50, 0);
		central.writeUInt16LE(20, 4);
		central.writeUInt16LE(20, 6);
		central.writeUInt16LE(8, 10);
		central.writeUInt32LE(crc32(part.data), 16);
		central.writeUInt32LE(packed.length, 20);
		central.writeUInt32LE(size, 24);
		central.writeUInt16LE(name.length, 28);
		central.writeUInt32LE(offset, 42);
		locals.push(local, name, packed);
		centrals.push(central, name);
		offset += local.length + name.length + packed.length;
	}
	const directory = Buffer.concat(centrals);
	const end = Buffer.alloc(22);
	end.writeUInt32LE(0x06054b50, 0);
	end.writeUInt16LE(parts.length, 8);
	end.writeUInt16LE(parts.length, 10);
	end.writeUInt32LE(directory.length, 12);
	end.writeUInt32LE(offset, 16);
	return Buffer.concat([...locals, directory, end]);
}

/** The parts of a minimal workbook whose one sheet holds `sheetXml`. */
export function workbookParts(sheetXml: Buffer): ZipPart[] {
	const text = (name: string, xml: string): ZipPart => ({ name, data: Buffer.from(xml) });
	return [
		text(
			'[Content_Types].xml',
			'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>',
		),
		text('_rels/.rels', '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
		text('xl/workbook.xml', '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Codes" sheetId="1" r:id="rId1"/></sheets></workbook>'),
		text('xl/_rels/workbook.xml.rels', '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'),
		{ name: 'xl/worksheets/sheet1.xml', data: sheetXml },
	];
}

/** Sheet XML with inline-string rows; `padding` bytes of white space inflate it like a zip bomb. */
export function sheetXml(rows: string[][], padding = 0): Buffer {
	const body = rows
		.map((row, r) => `<row r="${r + 1}">${row.map((value, c) => `<c r="${String.fromCharCode(65 + c)}${r + 1}" t="inlineStr"><is><t>${value}</t></is></c>`).join('')}</row>`)
		.join('');
	return Buffer.concat([
		Buffer.from(`<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>${body}</sheetData>`),
		Buffer.alloc(padding, ' '),
		Buffer.from('</worksheet>'),
	]);
}
