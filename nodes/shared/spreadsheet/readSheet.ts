import * as XLSX from '@e965/xlsx';
import { CouponError } from '../core/common/errors';
import { Turns } from '../core/common/turns';
import type { Cell, RowBatch, SheetRows, SheetTable } from '../core/import/importTypes';
import { wholeTable } from '../core/import/sheetRows';
import { plainRows, scanPlainRows, type PlainSources, type StyleFormat } from './plainRows';
import { CELLS_PER_ROW, type ReadOptions } from './readOptions';
import { SharedStringTable } from './sharedStrings';
import { renumberSharedStrings, SheetCutter } from './sheetParts';
import { readLayout } from './workbookLayout';
import {
	checkDeclaredSizes,
	readZipDirectory,
	unpackEntries,
	unpackPieces,
	type ZipEntry,
} from './zipGuard';

/**
 * Shared strings (the workbook's table of texts) read beyond one per cell read: other sheets'
 * texts may come first in the table.
 */
export const SHARED_STRINGS_SLACK = 100_000;

const WORKBOOK_PART = /^xl\/workbook\.(xml|bin)$/i;

export const SAVE_AS_XLSX =
	'Open the file in Excel or LibreOffice and save it as an Excel Workbook (.xlsx).';

/**
 * How the sheet is streamed: the bytes unpacked at a time, and the bytes of rows read at a time
 * (a batch's cells are built whole, so memory follows this, not the sheet).
 */
export interface Streaming {
	pieceBytes: number;
	batchBytes: number;
	/** False: SheetJS reads every batch, plain or not (tests compare the two readers). */
	plainCells?: boolean;
}
// A batch of 256 KB (about 2,300 rows of two cells) keeps SheetJS's copies of it small and its parse
// to tens of milliseconds: reading a 1,000,000-row file, the event loop waited at most 96 ms (226 ms
// with batches of 1 MB), and the read took 11 to 15 s either way. Pieces of 256 KB were slower.
const STREAMING: Streaming = { pieceBytes: 1024 * 1024, batchBytes: 256 * 1024 };

/**
 * Checks that `file` (a zip, as `readTable` found) is a safe .xlsx and finds the sheet to read; its
 * rows are then read as they are unpacked, a batch at a time (see `sheetBatches`).
 */
export async function openSheet(
	file: Buffer,
	options: ReadOptions,
	streaming = STREAMING,
	turns = new Turns(),
): Promise<SheetRows> {
	const entries = readZipDirectory(file);
	if (!entries.some((entry) => WORKBOOK_PART.test(entry.name))) {
		throw new CouponError(
			'FILE_NOT_SPREADSHEET',
			'The file is a zip archive but not an Excel workbook (it has no xl/workbook part)',
			SAVE_AS_XLSX,
		);
	}
	checkDeclaredSizes(entries, options.limits);
	const part = partReader(file, entries);
	const layout = readLayout(part);
	const wantedSheet = options.sheetName?.trim();
	const index = wantedSheet
		? layout.sheets.findIndex((sheet) => sheet.name.toLowerCase() === wantedSheet.toLowerCase())
		: 0;
	const sheet = layout.sheets[index];
	if (sheet === undefined) {
		if (!wantedSheet)
			throw new CouponError('SHEET_NOT_FOUND', 'The workbook has no sheets', SAVE_AS_XLSX);
		throw new CouponError(
			'SHEET_NOT_FOUND',
			`The workbook has no sheet named "${wantedSheet}"; its sheets are ${layout.sheets.map((n) => `"${n.name}"`).join(', ')}`,
			'Set Sheet Name to one of these, or leave it empty for the first sheet.',
		);
	}
	const sheetEntry = sheet.part === undefined ? undefined : entryNamed(entries, sheet.part);
	if (sheetEntry === undefined)
		throw new CouponError(
			'FILE_DAMAGED',
			`The workbook lists sheet "${sheet.name}" but the file does not hold it (${sheet.part ?? 'no part named'})`,
			SAVE_AS_XLSX,
		);
	const end: { valueBeyond?: number } = {};
	const styles = layout.styles === undefined ? undefined : stylesXml(layout.styles, entries, part);
	return {
		sheetName: sheet.name,
		cell: (raw) => cellOf(raw as XLSX.CellObject | undefined),
		batches: sheetBatches({
			file,
			entries,
			sheetName: sheet.name,
			sheetEntry,
			sharedStrings: layout.sharedStrings,
			styles,
			formats: styleFormats(styles),
			options,
			streaming,
			turns,
			end,
		}),
		valueBeyond: () => end.valueBeyond,
	};
}

/** A safe .xlsx's chosen sheet read whole into a table of cell texts. */
export async function readSheet(file: Buffer, options: ReadOptions): Promise<SheetTable> {
	return await wholeTable(await openSheet(file, options));
}

interface SheetSource {
	file: Buffer;
	entries: ZipEntry[];
	sheetName: string;
	sheetEntry: ZipEntry;
	/** The shared strings part's name, when the workbook has one. */
	sharedStrings: string | undefined;
	styles: Buffer | undefined;
	options: ReadOptions;
	streaming: Streaming;
	turns: Turns;
	/** Filled once the sheet is read to its end. */
	end: { valueBeyond?: number };
	/** How SheetJS reads numbers in the workbook's cell styles (see `styleFormats`). */
	formats: PlainSources['formats'];
}

/**
 * The sheet unpacked piece by piece and cut to the rows read (SheetCutter), each `batchBytes` of
 * rows read at a time. A batch of plain cells (texts and numbers, as code lists are) is read here;
 * any other goes to SheetJS with the shared strings it uses. SheetJS stays the reader of unusual
 * cells, as n8n's own Extract From File reads them (dates, rich text, formulas, escapes), and the
 * judge of number formats, but it only ever sees a batch: it would build a whole sheet's cells.
 */
async function* sheetBatches(source: SheetSource): AsyncGenerator<RowBatch> {
	const { file, entries, options, sheetName } = source;
	const rowsRead = options.leadingRows + options.rowsAfter;
	const cellsPerRow = options.cellsPerRow ?? CELLS_PER_ROW;
	const maxCells = rowsRead * cellsPerRow;
	const refuseCells = (cells: number) => {
		if (cells > maxCells)
			throw new CouponError(
				'LIMIT_EXCEEDED',
				`Sheet "${sheetName}" has more than ${maxCells.toLocaleString('en-US')} cells in the ${rowsRead.toLocaleString('en-US')} rows Max Rows lets the import read (${cellsPerRow} a row on average)`,
				'Delete the columns the import does not use (it reads the coupon name and value columns, and those Keep Columns names), or save those columns alone as a new .xlsx file.',
			);
	};
	const stringsEntry =
		source.sharedStrings === undefined ? undefined : entryNamed(entries, source.sharedStrings);
	const stringPieces =
		stringsEntry && unpackPieces(file, stringsEntry, source.streaming.pieceBytes);
	const strings = stringPieces && new SharedStringTable(stringPieces);
	const cutter = new SheetCutter(options.leadingRows, options.rowsAfter, maxCells);
	// SheetJS reads the styles again for each batch: a batch is at least as large as they are, so
	// that a styles part of megabytes costs no more than the rows.
	const batchBytes = Math.max(source.streaming.batchBytes, source.styles?.length ?? 0);
	const parse = async (rows: { rows: Buffer; firstRow?: number }) =>
		await parseRows(rows.rows, rows.firstRow!, source, strings, cutter.cellCount);
	try {
		// Unpacked piece by piece: only the rows read are kept, whatever follows them.
		for await (const piece of unpackPieces(file, source.sheetEntry, source.streaming.pieceBytes)) {
			cutter.push(piece);
			refuseCells(cutter.cellCount);
			while (cutter.keptBytes >= batchBytes) {
				yield await parse(cutter.take(batchBytes));
				// The plan passes the turn within a batch; the cut of a piece passes it here.
				if (source.turns.due()) await source.turns.pass();
			}
			if (cutter.done) break;
		}
		const cut = cutter.finish();
		refuseCells(cut.cells);
		if (cut.firstRow !== undefined) yield await parse(cut);
		if (cut.valueBeyond !== undefined) source.end.valueBeyond = cut.valueBeyond;
	} finally {
		await stringPieces?.return(undefined);
	}
}

/**
 * One batch of kept rows: read here when its cells are plain (see `scanPlainRows`), else parsed by
 * SheetJS with the shared strings it uses and the styles.
 */
async function parseRows(
	rows: Buffer,
	firstRow: number,
	source: SheetSource,
	strings: SharedStringTable | undefined,
	cellsRead: number,
): Promise<RowBatch> {
	const scanned = source.streaming.plainCells !== false && scanPlainRows(rows, firstRow);
	if (scanned) {
		await ensureTexts(scanned.maxTextIndex, strings, cellsRead);
		const plain = plainRows(scanned, {
			text: (index) => strings!.plainText(index),
			formats: source.formats,
		});
		if (plain) return { firstRow, rows: plain };
	}
	const renumbered = renumberSharedStrings(rows);
	let sharedStrings: Buffer | undefined;
	if (renumbered.indices.length > 0) {
		let maxIndex = -1;
		for (const index of renumbered.indices) if (index > maxIndex) maxIndex = index;
		await ensureTexts(maxIndex, strings, cellsRead);
		sharedStrings = withAstralCharacters(strings!.partFor(renumbered.indices));
	}
	const container = ownWorkbook(
		source.sheetName,
		withAstralCharacters(renumbered.rows),
		sharedStrings,
		source.styles,
	);
	const workbook = parseBatch(container);
	// Read by name even for "__proto__": SheetJS stores sheets in a plain object, where that name
	// is the prototype. The workbook it parsed holds this one sheet.
	const parsed = workbook.Sheets[workbook.SheetNames[0]] as XLSX.WorkSheet | undefined;
	const data = (parsed?.['!data'] ?? []) as Array<XLSX.CellObject[] | undefined>;
	// SheetJS placed the rows by their numbers (the reader checked that every cell names its row):
	// the array has holes for the rows before the batch, which slice would walk through.
	const batch: Array<XLSX.CellObject[] | undefined> = [];
	for (let row = firstRow - 1; row < data.length; row++) batch.push(data[row]);
	// SheetJS drops a sheet it fails on and goes on: every batch has a row holding a value, so no
	// row at all means the batch failed. Parsed again to say why, rather than lose its rows.
	if (!batch.some(Boolean)) {
		let why = 'a cell there is damaged';
		try {
			parseBatch(container, true);
		} catch (error) {
			why = (error as Error).message;
		}
		throw new CouponError(
			'FILE_DAMAGED',
			`Sheet "${source.sheetName}" could not be read from row ${firstRow.toLocaleString('en-US')} on: ${why}`,
			SAVE_AS_XLSX,
		);
	}
	return { firstRow, rows: batch };
}

/** Unpacks the shared strings up to text `maxIndex`, refusing a table that does not hold it. */
async function ensureTexts(
	maxIndex: number,
	strings: SharedStringTable | undefined,
	cellsRead: number,
): Promise<void> {
	if (maxIndex < 0) return;
	const cut = { maxStringIndex: maxIndex };
	if (strings === undefined) sharedStringsMissing(cut);
	if (maxIndex + 1 > cellsRead + SHARED_STRINGS_SLACK)
		throw sharedStringsDamaged(
			cut,
			`the sheet's rows read hold only ${cellsRead.toLocaleString('en-US')} cells: the table of texts is far larger than the sheet needs`,
		);
	const count = await strings.ensure(maxIndex + 1);
	if (count < maxIndex + 1)
		throw sharedStringsDamaged(cut, `the workbook has only ${count.toLocaleString('en-US')}`);
}

/**
 * How SheetJS reads numbers in each cell style of the workbook, learnt by letting it parse a row
 * of the number 1 in the styles asked for, once each: the plain reader gives number cells the same
 * format (`z`) and leaves dates to SheetJS. Undefined when SheetJS cannot read the styles. Styles
 * are numbered up to 65,535 (`scanPlainRows`), so what is learnt stays small whatever the sheet.
 */
function styleFormats(
	styles: Buffer | undefined,
): (wanted: number[]) => Map<number, StyleFormat> | undefined {
	const known = new Map<number, StyleFormat>();
	// Once SheetJS fails on a probe, it reads the file's batches: a probe per batch would double that.
	let failed = false;
	return (wanted) => {
		if (failed) return undefined;
		const unknown = wanted.filter((style) => !known.has(style));
		if (unknown.length > 0) {
			const cells = unknown.map(
				(style, i) =>
					`<c r="${XLSX.utils.encode_col(i)}1"${style < 0 ? '' : ` s="${style}"`}><v>1</v></c>`,
			);
			let probe: Array<XLSX.CellObject | undefined> | undefined;
			try {
				const workbook = parseBatch(
					ownWorkbook(
						'probe',
						Buffer.from(`<row r="1">${cells.join('')}</row>`),
						undefined,
						styles,
					),
				);
				probe = (workbook.Sheets[workbook.SheetNames[0]]?.['!data'] as (typeof probe)[])?.[0];
			} catch {
				failed = true;
				return undefined;
			}
			for (let i = 0; i < unknown.length; i++) {
				const cell = probe?.[i];
				if (cell === undefined) {
					failed = true;
					return undefined;
				}
				known.set(unknown[i], {
					z: typeof cell.z === 'string' ? cell.z : undefined,
					date: cell.t === 'd',
				});
			}
		}
		return known;
	};
}

/** SheetJS's parse of a batch's workbook; `strict` makes it throw what it would otherwise swallow. */
function parseBatch(container: unknown, strict = false): XLSX.WorkBook {
	try {
		return parseZip(container, {
			dense: true,
			cellText: false,
			cellNF: true,
			// Date cells (t="d") come as dates, to be refused, not as serial numbers.
			cellDates: true,
			cellFormula: false,
			cellHTML: false,
			cellStyles: false,
			...(strict ? { WTF: true } : {}),
		});
	} catch (error) {
		throw new CouponError(
			'FILE_DAMAGED',
			`The spreadsheet could not be read: ${(error as Error).message}`,
			SAVE_AS_XLSX,
		);
	}
}

/** The entry of a part; names are matched ignoring case, as SheetJS does. */
function entryNamed(entries: ZipEntry[], name: string): ZipEntry | undefined {
	return entries.find((entry) => entry.name.toLowerCase() === name.toLowerCase());
}

/** Unpacks one entry when it is first asked for. */
function partReader(file: Buffer, entries: ZipEntry[]): (name: string) => Buffer | undefined {
	const unpacked = new Map<string, Buffer | undefined>();
	return (name) => {
		const key = name.toLowerCase();
		if (!unpacked.has(key)) {
			const entry = entryNamed(entries, name);
			unpacked.set(key, entry ? unpackEntries(file, [entry])[0]?.data : undefined);
		}
		return unpacked.get(key);
	};
}

function sharedStringsMissing(cut: { maxStringIndex: number }): never {
	throw sharedStringsDamaged(cut, 'the workbook has no shared texts');
}

function sharedStringsDamaged(cut: { maxStringIndex: number }, problem: string): CouponError {
	return new CouponError(
		'FILE_DAMAGED',
		`The file is damaged: a cell refers to text number ${(cut.maxStringIndex + 1).toLocaleString('en-US')} of the workbook's shared texts, but ${problem}`,
		SAVE_AS_XLSX,
	);
}

// Numeric character references to characters beyond U+FFFF, such as &#128512;, which SheetJS would
// turn into the wrong character: written out as UTF-8 before it reads them.
const ASTRAL_REFERENCE = /&#(?:x0*([0-9a-f]{5,6})|0*(\d{5,7}));/gi;

function withAstralCharacters(xml: Buffer): Buffer {
	if (!xml.includes('&#')) return xml;
	const text = xml.toString('utf8');
	const replaced = text.replace(ASTRAL_REFERENCE, (reference, hex?: string, decimal?: string) => {
		const codePoint = hex !== undefined ? parseInt(hex, 16) : Number(decimal);
		return codePoint > 0xffff && codePoint <= 0x10ffff
			? String.fromCodePoint(codePoint)
			: reference;
	});
	return replaced === text ? xml : Buffer.from(replaced, 'utf8');
}

/** SheetJS's own reader of an unpacked workbook; XLSX.read would unpack the zip itself, without limits. */
const parseZip = (
	XLSX as unknown as { parse_zip(container: unknown, options: XLSX.ParsingOptions): XLSX.WorkBook }
).parse_zip;

const MAIN = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
const RELATIONSHIPS = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
const TYPES = 'application/vnd.openxmlformats-officedocument.spreadsheetml';

const escapeXml = (text: string) =>
	text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * The workbook SheetJS parses, built here from the parts the reader checked and cut: the one sheet,
 * its shared strings and the styles. Nothing else of the file reaches SheetJS (no other workbook,
 * sheet, comments or links), so it cannot read more than was measured.
 */
function ownWorkbook(
	sheetName: string,
	rows: Buffer,
	sharedStrings: Buffer | undefined,
	styles: Buffer | undefined,
): unknown {
	const parts: Array<[string, string, Buffer]> = [
		[
			'xl/worksheets/sheet1.xml',
			'worksheet',
			Buffer.concat([
				Buffer.from(`<worksheet xmlns="${MAIN}"><sheetData>`),
				rows,
				Buffer.from('</sheetData></worksheet>'),
			]),
		],
	];
	if (sharedStrings) parts.push(['xl/sharedStrings.xml', 'sharedStrings', sharedStrings]);
	if (styles) parts.push(['xl/styles.xml', 'styles', styles]);
	const container = XLSX.CFB.utils.cfb_new();
	const add = (name: string, data: Buffer) =>
		XLSX.CFB.utils.cfb_add(container, name, data, { unsafe: true } as never);
	add(
		'[Content_Types].xml',
		Buffer.from(
			`<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/xl/workbook.xml" ContentType="${TYPES}.sheet.main+xml"/>${parts.map(([name, type]) => `<Override PartName="/${name}" ContentType="${TYPES}.${type}+xml"/>`).join('')}</Types>`,
		),
	);
	add(
		'xl/workbook.xml',
		Buffer.from(
			`<workbook xmlns="${MAIN}" xmlns:r="${RELATIONSHIPS}"><sheets><sheet name="${escapeXml(sheetName)}" sheetId="1" r:id="rId1"/></sheets></workbook>`,
		),
	);
	add(
		'xl/_rels/workbook.xml.rels',
		Buffer.from(
			`<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">${parts.map(([name, type], i) => `<Relationship Id="rId${i + 1}" Type="${RELATIONSHIPS}/${type}" Target="${name.slice(3)}"/>`).join('')}</Relationships>`,
		),
	);
	for (const [name, , data] of parts) add(name, data);
	return container;
}

/** Styles beyond this are no spreadsheet's: Excel allows 64,000 cell formats, a few MB. */
export const MAX_STYLES_BYTES = 16 * 1024 * 1024;

function stylesXml(
	name: string,
	entries: ZipEntry[],
	part: (name: string) => Buffer | undefined,
): Buffer | undefined {
	const entry = entryNamed(entries, name);
	if (entry && entry.uncompressedSize > MAX_STYLES_BYTES)
		throw new CouponError(
			'FILE_DAMAGED',
			`The file's cell styles take ${Math.ceil(entry.uncompressedSize / 2 ** 20)} MB, far more than a spreadsheet program writes (at most ${MAX_STYLES_BYTES / 2 ** 20} MB)`,
			`${SAVE_AS_XLSX} Copy only the coupon columns into a new workbook if the file is a damaged one.`,
		);
	return part(name);
}

/** Excel refuses number formats longer than this; a longer one is neither a date nor padding. */
const MAX_FORMAT_LENGTH = 255;
type FormatKind = 'date' | 'padding' | 'other';
const formatKinds = new Map<string, FormatKind>();

/**
 * What a cell's number format makes of a number, decided once per format string of the file (a
 * file may give a million cells one long format). Padding is zeros, optionally with literal text,
 * such as 000000 or "GC"0000: the displayed text is the code. Read by one pass over the
 * characters; a regular expression for it backtracked.
 */
function formatKind(format: string): FormatKind {
	if (format.length > MAX_FORMAT_LENGTH) return 'other';
	let kind = formatKinds.get(format);
	if (kind === undefined) {
		kind = XLSX.SSF.is_date(format) ? 'date' : isPaddingFormat(format) ? 'padding' : 'other';
		if (formatKinds.size >= 10_000) formatKinds.clear();
		formatKinds.set(format, kind);
	}
	return kind;
}

function isPaddingFormat(format: string): boolean {
	let zeros = 0;
	for (let i = 0; i < format.length; i++) {
		const character = format[i];
		if (character === '0') zeros++;
		else if (character === '\\' && i + 1 < format.length) i++;
		else if (character === '"') {
			i = format.indexOf('"', i + 1);
			if (i < 0) return false;
		} else return false;
	}
	return zeros > 0;
}

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
				unusable: 'is a date, not a code; format the column as text and enter the codes again',
				shown:
					cell.v instanceof Date && !Number.isNaN(cell.v.getTime())
						? dateText(cell.v, typeof cell.z === 'string' ? cell.z : undefined)
						: String(cell.v),
			};
		default:
			return undefined;
	}
}

function numberCell(value: number, format: string | undefined): Cell {
	const formatAsText = 'format the column as text and enter the codes again';
	const firstSection = format?.split(';', 1)[0] ?? '';
	if (format && formatKind(format) === 'date')
		return { unusable: `is a date, not a code; ${formatAsText}`, shown: String(value) };
	if (!Number.isInteger(value))
		return { unusable: `is a fractional number; ${formatAsText}`, shown: String(value) };
	if (Math.abs(value) > MAX_EXACT_NUMBER) {
		return {
			unusable: `is a number of more than 15 digits, which Excel does not keep exactly; ${formatAsText}`,
			shown: BigInt(value).toString(),
		};
	}
	if (value >= 0 && formatKind(firstSection) === 'padding')
		return XLSX.SSF.format(firstSection, value);
	return String(value);
}

/**
 * A date cell as Excel shows it, to the second: SheetJS gives its wall-clock time as UTC, whatever
 * the time zone. Midnight in a format without a time is the day alone (an expiry: through that
 * day); in a format with a time it is that moment, as an export's `valid until` means it.
 */
function dateText(date: Date, format: string | undefined): string {
	// Rounded as Excel shows seconds: SheetJS truncates the serial's fraction to milliseconds.
	const [day, time] = new Date(Math.round(date.getTime() / 1000) * 1000).toISOString().split('T');
	if (time.startsWith('00:00:00') && !(format !== undefined && showsTime(format))) return day;
	return `${day} ${time.startsWith(':00', 5) ? time.slice(0, 5) : time.slice(0, 8)}`;
}

/**
 * Whether a date format shows the time of day: an h or s outside quoted text, escaped characters
 * and [brackets] (colours, locales). One pass over the characters, as for padding formats.
 */
function showsTime(format: string): boolean {
	if (format.length > MAX_FORMAT_LENGTH) return false;
	for (let i = 0; i < format.length; i++) {
		const character = format[i];
		if (character === '\\' || character === '_' || character === '*') i++;
		else if (character === '"' || character === '[') {
			i = format.indexOf(character === '"' ? '"' : ']', i + 1);
			if (i < 0) return false;
		} else if ('hHsS'.includes(character)) return true;
	}
	return false;
}
