import fc from 'fast-check';
import * as XLSX from '@e965/xlsx';
import type { SheetRows } from '../../nodes/shared/core/import/importTypes';
import { plainRows, scanPlainRows } from '../../nodes/shared/spreadsheet/plainRows';
import { openSheet, type Streaming } from '../../nodes/shared/spreadsheet/readSheet';
import { workbookParts, xlsx, zip } from '../helpers/spreadsheets';
import { HEAVY_TEST_MS } from '../helpers/timeouts';

const MIB = 1024 * 1024;
const limits = { maxTotalBytes: 50 * MIB, maxEntryBytes: 50 * MIB, maxRatio: 1000 };
const options = { leadingRows: 1, rowsAfter: 1000, limits };

const STYLES = `<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><numFmts count="4"><numFmt numFmtId="164" formatCode="000000"/><numFmt numFmtId="165" formatCode="&quot;GC&quot;0000"/><numFmt numFmtId="166" formatCode="yyyy-mm-dd hh:mm"/><numFmt numFmtId="167" formatCode="#,##0.00"/></numFmts><fonts count="1"><font><sz val="11"/></font></fonts><fills count="1"><fill><patternFill patternType="none"/></fill></fills><borders count="1"><border/></borders><cellStyleXfs count="1"><xf numFmtId="0"/></cellStyleXfs><cellXfs count="8"><xf numFmtId="0"/><xf numFmtId="164" applyNumberFormat="1"/><xf numFmtId="165" applyNumberFormat="1"/><xf numFmtId="14" applyNumberFormat="1"/><xf numFmtId="166" applyNumberFormat="1"/><xf numFmtId="49" applyNumberFormat="1"/><xf numFmtId="167" applyNumberFormat="1"/><xf numFmtId="1" applyNumberFormat="1"/></cellXfs></styleSheet>`;

/**
 * Texts as codes are written, as XML: mostly plain characters, sometimes ones that readers
 * disagree on (entities, characters beyond ASCII, white space, Excel's `_x000D_` escapes).
 */
const textXml = fc
	.array(
		fc.oneof(
			{ weight: 8, arbitrary: fc.constantFrom(...'AZaz09 -_.x'.split('')) },
			{
				weight: 1,
				arbitrary: fc.constantFrom(
					...['&amp;', '&lt;', '&gt;', '&quot;', '&#65;', '&#x1F600;', 'é', '😀', '\t', '\r\n'],
					...['_x000D_', '_X0041_', '_x00'],
				),
			},
		),
		{ maxLength: 10 },
	)
	.map((parts) => parts.join(''));

/** How a shared text is written: plainly, with preserved spaces, as rich text, or after white space. */
const sharedText = fc
	.tuple(textXml, fc.constantFrom(0, 0, 0, 1, 1, 2, 3))
	.map(
		([xml, form]) =>
			[
				`<si><t>${xml}</t></si>`,
				`<si><t xml:space="preserve">${xml}</t></si>`,
				`<si><r><t>${xml}</t></r><r><rPr><b/></rPr><t>B</t></r></si>`,
				`\n  <si><t>${xml}</t></si>`,
			][form],
	);

const number = fc.oneof(
	fc.integer({ min: -1e9, max: 1e12 }).map(String),
	fc.double({ min: -1e6, max: 1e6, noNaN: true }).map(String),
	fc.constantFrom('1.5E+3', '1E+20', '0012', '-0', '12.', '1e5', ' 7', '7 ', '0x10', ''),
);

const style = fc.constantFrom(undefined, 0, 1, 2, 3, 4, 5, 6, 7, 99);

/** A cell's XML after its reference, and the shared texts it adds. */
const cell = fc.oneof(
	{
		weight: 8,
		arbitrary: fc
			.tuple(sharedText, style)
			.map(([si, s]) => ({ attributes: ` t="s"`, style: s, value: si })),
	},
	{
		weight: 3,
		arbitrary: fc
			.tuple(number, style, fc.constantFrom('', ' t="n"'))
			.map(([n, s, type]) => ({ attributes: type, style: s, body: `<v>${n}</v>` })),
	},
	{
		weight: 1,
		// Cells SheetJS reads: a batch holding one is read by it whole.
		arbitrary: fc.constantFrom(
			{ attributes: ' t="inlineStr"', body: '<is><t>INLINE</t></is>' },
			{ attributes: ' t="b"', body: '<v>1</v>' },
			{ attributes: ' t="e"', body: '<v>#N/A</v>' },
			{ attributes: ' t="str"', body: '<f>A1</f><v>FORMULA</v>' },
			{ attributes: '', body: '<f>1+1</f><v>2</v>' },
			{ attributes: ' t="d"', body: '<v>2026-12-05</v>' },
			{ attributes: '', body: '<v></v>' },
			{ attributes: '', body: '<v>1</v><v>2</v>' },
			{ attributes: ' s="1"', body: undefined },
		),
	},
);

const sheet = fc.array(
	fc.tuple(fc.integer({ min: 1, max: 3 }), fc.array(cell, { minLength: 1, maxLength: 2 })),
	{ minLength: 1, maxLength: 30 },
);

/** Every cell of every batch, by each key its arrays hold (a stray key such as -1 included). */
async function readAll(rows: SheetRows): Promise<Array<[number, number, unknown, unknown]>> {
	const read: Array<[number, number, unknown, unknown]> = [];
	for await (const batch of rows.batches)
		for (const [i, cells] of Object.entries(batch.rows))
			for (const [column, raw] of Object.entries(cells ?? [])) {
				const { t, v, z } = raw as XLSX.CellObject;
				// Dates as text: an invalid one equals nothing, itself included.
				const value = v instanceof Date ? String(v) : v;
				read.push([batch.firstRow + Number(i), Number(column), rows.cell(raw), { t, v: value, z }]);
			}
	return read;
}

/** Every cell read, or the message of the refusal. */
async function readWith(file: Buffer, streaming: Streaming) {
	try {
		return await readAll(await openSheet(file, options, streaming));
	} catch (error) {
		return (error as Error).message;
	}
}

describe('the plain cell reader', () => {
	it(
		'reads every cell as SheetJS reads it, whatever the cells, texts and formats, in batches of any size',
		async () => {
			await fc.assert(
				fc.asyncProperty(
					sheet,
					// Rows whole in one unpacked piece are kept as one run: small pieces make small batches (zlib
					// unpacks at least 64 bytes at a time).
					fc.integer({ min: 64, max: 400 }),
					fc.integer({ min: 1, max: 300 }),
					async (rows, pieceBytes, batchBytes) => {
						const strings: string[] = [];
						let rowNumber = 0;
						const xml = rows
							.map(([gap, cells]) => {
								rowNumber += gap;
								const cellXml = cells.map((c, column) => {
									const reference = `${String.fromCharCode(65 + column)}${rowNumber}`;
									const styled = 'style' in c && c.style !== undefined ? ` s="${c.style}"` : '';
									let body = 'body' in c ? c.body : undefined;
									if ('value' in c && c.value !== undefined) {
										body = `<v>${strings.length}</v>`;
										strings.push(c.value);
									}
									return body === undefined
										? `<c r="${reference}"${c.attributes}${styled}/>`
										: `<c r="${reference}"${c.attributes}${styled}>${body}</c>`;
								});
								return `<row r="${rowNumber}">${cellXml.join('')}</row>`;
							})
							.join('');
						const file = zip(
							workbookParts(
								Buffer.from(`<worksheet><sheetData>${xml}</sheetData></worksheet>`),
								strings.length > 0 ? `<sst>${strings.join('')}</sst>` : undefined,
								STYLES,
							),
						);
						expect(await readWith(file, { pieceBytes, batchBytes, plainCells: true })).toEqual(
							await readWith(file, { pieceBytes, batchBytes, plainCells: false }),
						);
					},
				),
				{ numRuns: 300 },
			);
		},
		HEAVY_TEST_MS,
	);

	// Each alone in its batch, so that none hides behind a neighbour that SheetJS reads.
	it.each([
		['a second value', '<c r="A1"><v>1</v><v>2</v></c>', ''],
		['a hexadecimal number', '<c r="A1"><v>0x10</v></c>', ''],
		['a number after a space', '<c r="A1"><v> 7</v></c>', ''],
		['a number with a trailing point', '<c r="A1"><v>12.</v></c>', ''],
		['an exponent', '<c r="A1"><v>1.5E+3</v></c>', ''],
		['minus zero', '<c r="A1" t="n"><v>-0</v></c>', ''],
		['a date format', '<c r="A1" s="4"><v>46000.5</v></c>', ''],
		['a padding format', '<c r="A1" s="2"><v>42</v></c>', ''],
		['a style the workbook lacks', '<c r="A1" s="99"><v>42</v></c>', ''],
		[
			'a text in a date format',
			'<c r="A1" t="s" s="3"><v>0</v></c>',
			'<sst><si><t>AB</t></si></sst>',
		],
		[
			'an escaped control character',
			'<c r="A1" t="s"><v>0</v></c>',
			'<sst><si><t>A_x000D_B</t></si></sst>',
		],
		['a line break', '<c r="A1" t="s"><v>0</v></c>', '<sst><si><t>A\r\nB</t></si></sst>'],
		['an accent', '<c r="A1" t="s"><v>0</v></c>', '<sst><si><t>Aé</t></si></sst>'],
		['an entity', '<c r="A1" t="s"><v>0</v></c>', '<sst><si><t>A&amp;B&#65;</t></si></sst>'],
		[
			'kept spaces',
			'<c r="A1" t="s"><v>0</v></c>',
			'<sst><si><t xml:space="preserve"> A </t></si></sst>',
		],
		[
			'rich text',
			'<c r="A1" t="s"><v>0</v></c>',
			'<sst><si><r><t>A</t></r><r><t>B</t></r></si></sst>',
		],
		[
			'a text after white space',
			'<c r="A1" t="s"><v>0</v></c>',
			'<sst>\n <si><t>AB</t></si></sst>',
		],
		['a style written with a leading zero', '<c r="A1" s="01"><v>42</v></c>', ''],
		[
			'a text in a style written with a leading zero',
			'<c r="A1" t="s" s="01"><v>0</v></c>',
			'<sst><si><t>AB</t></si></sst>',
		],
		['a style past any workbook', '<c r="A1" s="70000"><v>42</v></c>', ''],
		['a type under xmlns', '<c r="A1" xmlns:t="s"><v>0</v></c>', '<sst><si><t>AB</t></si></sst>'],
		['a style under xmlns', '<c r="A1" xmlns:s="1"><v>42</v></c>', ''],
		['a reference inside another attribute', '<c foor="C1" xmlns:r="B1"><v>42</v></c>', ''],
		['a value of a dotted prefix', '<c r="A1"><a.b:v>42</a.b:v></c>', ''],
		['a cell of a dashed prefix', '<a-b:c r="A1"><v>42</v></a-b:c>', ''],
		['a line break after its name', '<c r="A1"><v>1</v></c><c\nr="B1"><v>42</v></c>', ''],
		['a space in its closing value tag', '<c r="A1"><v>42</v ></c>', ''],
		['a cell inside it', '<c r="A1"><v>5</v><c r="B1"><v>6</v></c></c>', ''],
		['a stray closing tag after it', '<c r="A1"><v>5</v></c></c><c r="B1"><v>6</v></c>', ''],
		[
			'texts after a comment',
			'<c r="A1" t="s"><v>0</v></c>',
			'<?xml version="1.0"?><!-- <sst> --><sst><si><t>A</t></si></sst>',
		],
		[
			'texts after an instruction',
			'<c r="A1" t="s"><v>0</v></c>',
			'<?foo <sst>?><sst><si><t>A</t></si></sst>',
		],
		[
			'texts after another element',
			'<c r="A1" t="s"><v>0</v></c>',
			'<sst-x/><sst><si><t>A</t></si></sst>',
		],
		[
			'texts of a dotted root',
			'<c r="A1" t="s"><v>0</v></c>',
			'<a.b:sst><si><t>A</t></si></a.b:sst>',
		],
		[
			'texts after a declaration',
			'<c r="A1" t="s"><v>0</v></c>',
			'\ufeff<?xml version="1.0" encoding="UTF-8"?>\n<x:sst xmlns:x="m"><si><t>A</t></si></x:sst>',
		],
	])('reads a cell with %s as SheetJS reads it', async (_, cellXml, sharedStrings) => {
		const file = zip(
			workbookParts(
				Buffer.from(`<worksheet><sheetData><row r="1">${cellXml}</row></sheetData></worksheet>`),
				sharedStrings === '' ? undefined : sharedStrings,
				STYLES,
			),
		);
		const streaming = { pieceBytes: 4096, batchBytes: 4096 };
		expect(await readWith(file, { ...streaming, plainCells: true })).toEqual(
			await readWith(file, { ...streaming, plainCells: false }),
		);
	});

	it('looks up each shared text once per batch, however many cells hold it', () => {
		const cells = Array.from(
			{ length: 1000 },
			(_, i) => `<row r="${i + 1}"><c r="A${i + 1}" t="s"><v>0</v></c></row>`,
		);
		const scanned = scanPlainRows(Buffer.from(cells.join('')), 1)!;
		const looked: number[] = [];
		const rows = plainRows(scanned, {
			text: (index) => {
				looked.push(index);
				return 'A'.repeat(1000);
			},
			formats: () => new Map([[-1, { z: 'General', date: false }]]),
		});
		expect(looked).toEqual([0]);
		expect(rows).toHaveLength(1000);
	});

	it('leaves cells of styles past 65,535 to SheetJS, so that the styles it learns stay few', () => {
		const row = (style: number) =>
			Buffer.from(`<row r="1"><c r="A1" s="${style}"><v>42</v></c></row>`);
		expect(scanPlainRows(row(65_535), 1)?.styles).toEqual([65_535]);
		expect(scanPlainRows(row(65_536), 1)).toBeUndefined();
	});

	it('reads a workbook as spreadsheet programs write it without SheetJS', async () => {
		const file = xlsx({
			Codes: [
				['Coupon', 'Code', 'Number'],
				['SPRING10', 'AB-1', 12],
				['SPRING10', 'AB 2', -3.5],
			],
		});
		const rows = await openSheet(file, options);
		const read = await readAll(rows);
		expect(read.map(([row, column, value]) => [row, column, value])).toEqual([
			[1, 0, 'Coupon'],
			[1, 1, 'Code'],
			[1, 2, 'Number'],
			[2, 0, 'SPRING10'],
			[2, 1, 'AB-1'],
			[2, 2, '12'],
			[3, 0, 'SPRING10'],
			[3, 1, 'AB 2'],
			[3, 2, { unusable: expect.stringContaining('fractional') as string, shown: '-3.5' }],
		]);
		// SheetJS keeps each text's XML beside it (r); the plain reader reads only the text.
		for await (const batch of (await openSheet(file, options)).batches)
			for (const cells of batch.rows)
				for (const raw of cells ?? []) expect(raw).not.toHaveProperty('r');
	});
});
