import fc from 'fast-check';
import { readSheet } from '../../nodes/shared/spreadsheet/readSheet';
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
						const table = await readSheet(workbook(rows, shared), {
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
		'cuts a sheet unpacked in pieces of any size exactly as the whole sheet',
		() => {
			fc.assert(
				fc.property(
					sparseSheet,
					fc.integer({ min: 1, max: 12 }),
					fc.integer({ min: 1, max: 200 }),
					fc.boolean(),
					fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 20 }),
					(rows, leadingRows, rowsAfter, shared, sizes) => {
						const xml = Buffer.from(sheetXml(rows, shared));
						const whole = cutSheet(xml, leadingRows, rowsAfter);
						const cutter = new SheetCutter(leadingRows, rowsAfter);
						for (let at = 0, i = 0; at < xml.length && !cutter.done; i++) {
							const size = sizes[i % sizes.length];
							cutter.push(xml.subarray(at, at + size));
							at += size;
						}
						const pieces = cutter.finish();
						expect(pieces.rows.toString()).toBe(whole.rows.toString());
						expect({ ...pieces, rows: 0 }).toEqual({ ...whole, rows: 0 });
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
						const start = performance.now();
						try {
							await readSheet(file, { leadingRows: 10, rowsAfter: 100, limits });
						} catch (error) {
							expect((error as Error).name).toBe('CouponError');
						}
						expect(performance.now() - start).toBeLessThan(2_000);
					},
				),
				{ numRuns: 300 },
			);
		},
		HEAVY_TEST_MS,
	);
});
