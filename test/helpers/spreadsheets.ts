import * as XLSX from '@e965/xlsx';

/**
 * An .xlsx built with SheetJS from rows of cells; a cell may be a full SheetJS cell object.
 * Sheets come as an object, or as [name, rows] pairs for names such as __proto__.
 */
export function xlsx(sheets: Record<string, unknown[][]> | Array<[string, unknown[][]]>): Buffer {
	const workbook = XLSX.utils.book_new();
	for (const [name, rows] of Array.isArray(sheets) ? sheets : Object.entries(sheets)) {
		const sheet = XLSX.utils.aoa_to_sheet(
			rows.map((row) => row.map((cell) => (isCellObject(cell) ? null : cell))),
		);
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

export { workbookParts, zip, type ZipPart } from './xlsxParts';

/** Sheet XML with inline-string rows; `padding` bytes of white space inflate it like a zip bomb. */
export function sheetXml(rows: string[][], padding = 0): Buffer {
	const body = rows
		.map(
			(row, r) =>
				`<row r="${r + 1}">${row.map((value, c) => `<c r="${String.fromCharCode(65 + c)}${r + 1}" t="inlineStr"><is><t>${value}</t></is></c>`).join('')}</row>`,
		)
		.join('');
	return Buffer.concat([
		Buffer.from(
			`<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>${body}</sheetData>`,
		),
		Buffer.alloc(padding, ' '),
		Buffer.from('</worksheet>'),
	]);
}
