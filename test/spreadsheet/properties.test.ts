import fc from 'fast-check';
import type { RowBatch } from '../../nodes/shared/core/import/importTypes';
import { wholeTable } from '../../nodes/shared/core/import/sheetRows';
import { openSheet, readSheet } from '../../nodes/shared/spreadsheet/readSheet';
import { readTable } from '../../nodes/shared/spreadsheet/readTable';
import { cutSheet, SheetCutter } from '../../nodes/shared/spreadsheet/sheetParts';
import { workbookParts, zip } from '../helpers/spreadsheets';
import { HEAVY_TEST_MS } from '../helpers/timeouts';

const MIB = 1024 * 1024;
const limits = { maxTotalBytes: 50 * MIB, maxEntryBytes: 50 * MIB, maxRatio: 1000 };

const escapeXml = (text: string) =>
	text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Cell text as people write it: letters, digits, punctuation, accents, emoji; never blank. */
const cellText = fc
	.array(fc.constantFrom(...'AZaz09 -_.&<>"\'éß€😀$'.split(/(?:)/u)), {
		minLength: 1,
		maxLength: 12,
	})
	.map((characters) => `X${characters.join('')}`);

/** Rows holding one value each, at increasing row numbers with gaps of blank rows between them. */
const sparseSheet = fc
	.array(fc.tuple(fc.integer({ min: 1, max: 40 }), cellText), { minLength: 1, maxLength: 40 })
	.map((rows) => {
		let row = 0;
		return rows.map(([gap, text]) => ({ row: (row += gap), text }));
	});

function sheetXml(rows: Array<{ row: number; text: string }>, shared: boolean): string {
	const cell = ({ row, text }: { row: number; text: string }, i: number) =>
		shared
			? `<c r="A${row}" t="s"><v>${i}</v></c>`
			: `<c r="A${row}" t="inlineStr"><is><t>${escapeXml(text)}</t></is></c>`;
	return `<worksheet><sheetData>${rows.map((r, i) => `<row r="${r.row}">${cell(r, i)}</row>`).join('')}</sheetData></worksheet>`;
}

function workbook(rows: Array<{ row: number; text: string }>, shared: boolean): Buffer {
	const sheet = sheetXml(rows, shared);
	const strings = `<sst>${rows.map((r) => `<si><t>${escapeXml(r.text)}</t></si>`).join('')}</sst>`;
	return zip(workbookParts(Buffer.from(sheet), shared ? strings : undefined));
}

describe('properties of the spreadsheet reader', () => {
	it(
		'reads every value up to the rows Max Rows allows exactly, and reports the first value past them',
		async () => {
			await fc.assert(
				fc.asyncProperty(
					sparseSheet,
					fc.integer({ min: 1, max: 12 }),
					fc.integer({ min: 1, max: 200 }),
					fc.boolean(),
					async (rows, leadingRows, rowsAfter, shared) => {
						const table = await readTable(workbook(rows, shared), {
							leadingRows,
							rowsAfter,
							limits,
						});
						const lastKept =
							rows.length >= leadingRows ? rows[leadingRows - 1].row + rowsAfter : Infinity;
						for (const { row, text } of rows.filter((r) => r.row <= lastKept))
							expect(table.cell(table.rows[row - 1]?.[0])).toBe(text);
						expect(table.rows.length).toBeLessThanOrEqual(Math.min(lastKept, rows.at(-1)!.row));
						expect(table.valueBeyond).toBe(rows.find((r) => r.row > lastKept)?.row);
					},
				),
				{ numRuns: 150 },
			);
		},
		HEAVY_TEST_MS,
	);

	it(
		'reads a sheet streamed in small pieces and batches exactly as in one batch, whichever order its shared texts are in',
		async () => {
			await fc.assert(
				fc.asyncProperty(
					sparseSheet,
					fc.integer({ min: 1, max: 12 }),
					fc.integer({ min: 1, max: 200 }),
					fc.boolean(),
					fc.integer({ min: 64, max: 300 }),
					fc.integer({ min: 1, max: 400 }),
					async (rows, leadingRows, rowsAfter, reversed, pieceBytes, batchBytes) => {
						// Texts stored last first: each batch's own table of texts is built out of order.
						const order = rows.map((_, i) => (reversed ? rows.length - 1 - i : i));
						const sheet = `<worksheet><sheetData>${rows.map((r, i) => `<row r="${r.row}"><c r="A${r.row}" t="s"><v>${order[i]}</v></c><c r="B${r.row}"><v>${i}</v></c></row>`).join('')}</sheetData></worksheet>`;
						const texts = [...rows].map((_, i) => rows[order.indexOf(i)].text);
						const strings = `<sst>${texts.map((text) => `<si><t>${escapeXml(text)}</t></si>`).join('')}</sst>`;
						const file = zip(workbookParts(Buffer.from(sheet), strings));
						const options = { leadingRows, rowsAfter, limits };
						const whole = await readSheet(file, options);
						const streamed = await openSheet(file, options, { pieceBytes, batchBytes });
						const batches: RowBatch[] = [];
						for await (const batch of streamed.batches) batches.push(batch);
						const again = (async function* () {
							yield* batches;
						})();
						// The raw cells, compared whole: texts, types and formats. A batch the plain reader
						// reads and one SheetJS reads differ only in SheetJS's copy of a text's XML (r).
						const { cell: _, ...read } = await wholeTable({ ...streamed, batches: again });
						expect(withoutTextXml(read)).toEqual(withoutTextXml({ ...whole, cell: undefined }));
						const rowsRead = batches.flatMap((batch) =>
							batch.rows.flatMap((row, i) =>
								row ? [[batch.firstRow + i, streamed.cell(row[0]), streamed.cell(row[1])]] : [],
							),
						);
						expect(rowsRead).toEqual(
							rows
								.map((r, i) => [r.row, r.text, String(i)])
								.filter(([row]) => (whole.rows[(row as number) - 1] ?? null) !== null),
						);
					},
				),
				{ numRuns: 150 },
			);
		},
		HEAVY_TEST_MS,
	);

	it(
		'cuts a sheet unpacked in pieces of any size exactly as the whole sheet',
		() => {
			fc.assert(
				fc.property(
					sparseSheet,
					fc.integer({ min: 1, max: 12 }),
					fc.integer({ min: 1, max: 200 }),
					fc.boolean(),
					fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 20 }),
					fc.integer({ min: 1, max: 300 }),
					fc.integer({ min: 1, max: 300 }),
					(rows, leadingRows, rowsAfter, shared, sizes, runBytes, takeBytes) => {
						const xml = Buffer.from(sheetXml(rows, shared));
						const whole = cutSheet(xml, leadingRows, rowsAfter);
						const cutter = new SheetCutter(leadingRows, rowsAfter, Infinity, runBytes);
						// Rows taken as a streaming reader takes them: whole rows, numbered by the first.
						const taken: Array<{ rows: Buffer; firstRow?: number }> = [];
						for (let at = 0, i = 0; at < xml.length && !cutter.done; i++) {
							const size = sizes[i % sizes.length];
							cutter.push(xml.subarray(at, at + size));
							at += size;
							while (cutter.keptBytes >= takeBytes) taken.push(cutter.take(takeBytes));
						}
						const pieces = cutter.finish();
						taken.push(pieces);
						expect(Buffer.concat(taken.map((t) => t.rows)).toString()).toBe(whole.rows.toString());
						for (const { rows: part, firstRow } of taken.filter((t) => t.rows.length > 0)) {
							expect(part.toString()).toMatch(/^<row r="\d+">.*<\/row>$/);
							expect(firstRow).toBe(Number(/^<row r="(\d+)"/.exec(part.toString())![1]));
						}
						expect({ ...pieces, rows: 0, firstRow: 0 }).toEqual({
							...whole,
							rows: 0,
							firstRow: 0,
						});
					},
				),
				{ numRuns: 300 },
			);
		},
		HEAVY_TEST_MS,
	);

	it(
		'never fails with anything but a clear refusal, however the sheet XML is cut or spliced',
		async () => {
			const sheet = Buffer.from(
				'<worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>coupon value</t></is></c></row><row r="2"><c r="A2" t="s"><v>0</v></c></row><row r="3"><c r="A3"><v>12</v></c></row></sheetData></worksheet>',
			);
			await fc.assert(
				fc.asyncProperty(
					fc.integer({ min: 0, max: sheet.length }),
					fc.integer({ min: 0, max: sheet.length }),
					fc.constantFrom(
						'',
						'<',
						'>',
						'<row r="1">',
						'</row>',
						'<c t="s"><v>',
						'99999999',
						'&#',
						'"',
					),
					async (from, to, splice) => {
						const broken = Buffer.concat([
							sheet.subarray(0, Math.min(from, to)),
							Buffer.from(splice),
							sheet.subarray(Math.max(from, to)),
						]);
						const file = zip(workbookParts(broken, '<sst><si><t>X1</t></si></sst>'));
						try {
							await readTable(file, { leadingRows: 10, rowsAfter: 100, limits });
						} catch (error) {
							expect((error as Error).name).toBe('CouponError');
						}
					},
				),
				{ numRuns: 300 },
			);
		},
		HEAVY_TEST_MS,
	);
});

/** A CSV field: delimiters, quotes, line breaks, characters of 1 to 4 bytes; now and then long. */
const csvField = fc
	.tuple(
		fc.array(fc.constantFrom(...'A1 ,"\r\né€😀\ufffd'.split(/(?:)/u)), { maxLength: 8 }),
		fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 30_000 })),
	)
	.map(([characters, length]) => 'é'.repeat(length) + characters.join(''));

const csvLine = (fields: string[]) =>
	fields
		.map((field) => (/[",\r\n]/.test(field) ? `"${field.replace(/"/g, '""')}"` : field))
		.join(',');

/** The encodings the reader reads, each with bytes it does not allow (0xff; a lone surrogate). */
const encodings = [
	{ name: 'UTF-8', mark: '', encode: (text: string) => Buffer.from(text), bad: [0xff] },
	{ name: 'UTF-8', mark: '\ufeff', encode: (text: string) => Buffer.from(text), bad: [0xff] },
	{
		name: 'UTF-16',
		mark: '\ufeff',
		encode: (text: string) => Buffer.from(text, 'utf16le'),
		bad: [0x00, 0xdc],
	},
	{
		name: 'UTF-16',
		mark: '\ufeff',
		encode: (text: string) => Buffer.from(text, 'utf16le').swap16(),
		bad: [0xdc, 0x00],
	},
];

describe('properties of the CSV reader', () => {
	it(
		'reads every field as written in every encoding it reads, and names the row and line of a bad byte',
		async () => {
			await fc.assert(
				fc.asyncProperty(
					fc.integer({ min: 2, max: 4 }).chain((width) =>
						fc.array(fc.array(csvField, { minLength: width, maxLength: width }), {
							minLength: 1,
							maxLength: 12,
						}),
					),
					fc.constantFrom(...encodings),
					fc.constantFrom('\n', '\r\n', '\r'),
					fc.option(fc.nat(), { nil: undefined }),
					async (records, encoding, lineEnd, badAt) => {
						const rows = [records[0].map((_, i) => `column ${i}`), ...records];
						const lines = rows.map((fields) => `${csvLine(fields)}${lineEnd}`);
						const options = { leadingRows: 10, rowsAfter: 100, limits };
						if (badAt === undefined) {
							const table = await readTable(
								encoding.encode(encoding.mark + lines.join('')),
								options,
							);
							expect(table.rows).toEqual(rows);
							return;
						}
						// The bad bytes open a data row: on the line after every line break before them.
						const row = 1 + (badAt % records.length);
						const file = Buffer.concat([
							encoding.encode(encoding.mark + lines.slice(0, row).join('')),
							Buffer.from(encoding.bad),
							encoding.encode(lines.slice(row).join('')),
						]);
						const line = lines
							.slice(0, row)
							.join('')
							.split(/\r\n|\r|\n/).length;
						const where = line === row + 1 ? '' : ` (line ${line} of the file)`;
						await expect(readTable(file, options)).rejects.toThrow(
							`The CSV file is not ${encoding.name} text: row ${row + 1}${where} holds bytes ${encoding.name} does not allow`,
						);
					},
				),
				{ numRuns: 200 },
			);
		},
		HEAVY_TEST_MS,
	);
});

/** A table's raw cells without `r`, the text's XML that SheetJS keeps beside it and the import never reads. */
function withoutTextXml<T extends { rows: Array<unknown[] | undefined> }>(table: T): T {
	const cells = (row: unknown[] | undefined) =>
		row?.map((cell) => {
			const { r: _, ...rest } = cell as { r?: unknown };
			return rest;
		});
	return { ...table, rows: table.rows.map(cells) };
}
