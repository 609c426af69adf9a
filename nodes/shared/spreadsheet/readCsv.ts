import { CouponError } from '../core/common/errors';
import { Turns } from '../core/common/turns';
import type { Cell, RowBatch, SheetRows, SheetTable } from '../core/import/importTypes';
import { wholeTable } from '../core/import/sheetRows';
import { CELLS_PER_ROW, type ReadOptions } from './readOptions';

/** Excel's own limit for a cell; a longer field is a broken quote or not a coupon list. */
export const MAX_CSV_CELL = 32_767;
/** Bytes decoded at a time: the file is read as far as the rows need, a piece at a time. */
const PIECE = 64 * 1024;
interface Delimiter {
	character: string;
	name: string;
}
const DELIMITERS: Delimiter[] = [
	{ character: ',', name: 'comma' },
	{ character: ';', name: 'semicolon' },
	{ character: '\t', name: 'tab' },
];
/** Records looked at to tell the delimiter. */
const SNIFF_RECORDS = 10;

const REPLACEMENT = '\ufffd';

/** An encoding a CSV file is read in, told by its byte order mark (optional for UTF-8). */
interface TextEncoding {
	/** As TextDecoder knows it. */
	label: 'utf-8' | 'utf-16le' | 'utf-16be';
	name: string;
	byteOrderMark: Buffer;
	/** U+FFFD as the file writes it, telling one of its own from the decoder's. */
	replacement: Buffer;
	byteLength(text: string): number;
}

const UTF8: TextEncoding = {
	label: 'utf-8',
	name: 'UTF-8',
	byteOrderMark: Buffer.from([0xef, 0xbb, 0xbf]),
	replacement: Buffer.from(REPLACEMENT, 'utf8'),
	byteLength: (text) => Buffer.byteLength(text, 'utf8'),
};
/** Excel's "Unicode Text" is UTF-16 little-endian with a byte order mark, tab separated. */
const UTF16LE: TextEncoding = {
	label: 'utf-16le',
	name: 'UTF-16',
	byteOrderMark: Buffer.from([0xff, 0xfe]),
	replacement: Buffer.from([0xfd, 0xff]),
	byteLength: (text) => text.length * 2,
};
const UTF16BE: TextEncoding = {
	...UTF16LE,
	label: 'utf-16be',
	byteOrderMark: Buffer.from([0xfe, 0xff]),
	replacement: Buffer.from([0xff, 0xfd]),
};

/** The encoding the file's byte order mark names, and where its text begins; UTF-8 without one. */
function encodingOf(file: Buffer): { encoding: TextEncoding; start: number } {
	const encoding = [UTF8, UTF16LE, UTF16BE].find(({ byteOrderMark }) =>
		file.subarray(0, byteOrderMark.length).equals(byteOrderMark),
	);
	return encoding
		? { encoding, start: encoding.byteOrderMark.length }
		: { encoding: UTF8, start: 0 };
}

const hasText = (field: string) => field.trim() !== '';

const saveAsCsv =
	'Save the file as "CSV UTF-8 (comma delimited)", or as an Excel Workbook (.xlsx).';
/** Bytes of the file's start looked at to tell text from a binary file. */
const SAMPLE_BYTES = 4096;

/**
 * Control characters, which binary files are full of and text in a one-byte encoding does not hold
 * (tabs, line ends and form feeds are text).
 */
// eslint-disable-next-line no-control-regex -- control characters are what it finds
const CONTROL_CHARACTER = /[\x00-\x08\x0e-\x1f]/;

/**
 * Whether the file's start reads as text, which `readCsv` reads or refuses naming its encoding:
 * UTF-16 after its byte order mark with no NUL character; UTF-8 (a character cut at the end of the
 * sample aside) with no NUL byte; UTF-16 without a byte order mark; or text in a one-byte encoding
 * such as Windows-1252, with no control character. Spreadsheets and other binary files fail it at
 * once.
 */
export function looksLikeText(file: Buffer): boolean {
	const { encoding, start } = encodingOf(file);
	const sample = file.subarray(start, start + SAMPLE_BYTES);
	if (encoding !== UTF8) return !new TextDecoder(encoding.label).decode(sample).includes('\0');
	if (sample.includes(0)) {
		const utf16 = utf16WithoutMark(sample);
		return (
			utf16 !== undefined && !CONTROL_CHARACTER.test(new TextDecoder(utf16.label).decode(sample))
		);
	}
	try {
		new TextDecoder('utf-8', { fatal: true }).decode(sample, { stream: true });
		return true;
	} catch {
		return !CONTROL_CHARACTER.test(sample.toString('latin1'));
	}
}

/**
 * UTF-16 without a byte order mark, told by its NUL bytes: a CSV's delimiters, line ends and most
 * codes are ASCII, which UTF-16 writes with a NUL high byte (second in little-endian order, first
 * in big-endian). Undefined unless a quarter of the sample's characters have one, all on one side.
 */
function utf16WithoutMark(sample: Buffer): TextEncoding | undefined {
	const nulBytes = [0, 0];
	for (let i = 0; i < sample.length; i++) if (sample[i] === 0) nulBytes[i % 2]++;
	const [first, second] = nulBytes;
	const characters = sample.length / 2;
	if (first === 0 && second > 0 && second * 4 >= characters) return UTF16LE;
	if (second === 0 && first > 0 && first * 4 >= characters) return UTF16BE;
	return undefined;
}

/**
 * A comma, semicolon or tab separated file (told from its first records) read as rows, as the
 * .xlsx reader reads a sheet: up to the `leadingRows`-th row holding a value, then `rowsAfter` rows;
 * past them only the first row holding a value is looked for (`valueBeyond`). UTF-8 with or without
 * a byte order mark, or UTF-16 with one; other text is refused, naming the row where it stops
 * being UTF-8. Quoted fields ("" for a quote, line breaks inside), any line ends. One pass, a piece
 * at a time, linear in the bytes it reads; the rows come a batch at a time as they are read.
 */
export async function openCsv(
	file: Buffer,
	options: ReadOptions,
	turns = new Turns(),
): Promise<SheetRows> {
	return await openCsvPieces(file, [file], options, turns);
}

/**
 * A CSV file read as its bytes arrive (see openCsv): `start` holds its first bytes, at least a
 * piece and its byte order mark unless the file is shorter; `pieces` yields the whole file from
 * its first byte on, in chunks of any size. Only the chunks the rows need are asked for.
 */
export async function openCsvPieces(
	start: Buffer,
	pieces: AsyncIterable<Buffer> | Iterable<Buffer>,
	options: ReadOptions,
	turns = new Turns(),
): Promise<SheetRows> {
	const { encoding, start: textStart } = encodingOf(start);
	if (textStart === 0 && utf16WithoutMark(start.subarray(0, SAMPLE_BYTES)))
		throw new CouponError(
			'FILE_ENCODING_UNSUPPORTED',
			'The CSV file is not UTF-8 text: it is UTF-16 without a byte order mark (row 1 holds NUL bytes)',
			saveAsCsv,
		);
	const delimiter = sniffDelimiter(
		new TextDecoder(encoding.label).decode(start.subarray(textStart, textStart + PIECE)),
	);
	const end: { valueBeyond?: number } = {};
	return {
		sheetName: 'CSV',
		cell: csvCell,
		misalignment: (row, header) =>
			misalignment((row ?? []) as string[], header as string[], delimiter),
		batches: csvBatches(pieces, options, turns, { encoding, start: textStart, delimiter }, end),
		valueBeyond: () => end.valueBeyond,
	};
}

/** The bytes a CSV reader needs before it reads rows: a piece of text after a byte order mark. */
export const CSV_START_BYTES = PIECE + 4;

/**
 * The bytes `chunks` hand over, a piece at most at a time: a stream may hand over megabytes at once,
 * and a piece is what is decoded and parsed between two chances to pass the event loop's turn.
 */
async function* inPieces(chunks: AsyncIterable<Buffer> | Iterable<Buffer>): AsyncGenerator<Buffer> {
	for await (const chunk of chunks)
		for (let at = 0; at < chunk.length; at += PIECE) yield chunk.subarray(at, at + PIECE);
}

/** A CSV file read whole into a table. */
export async function readCsv(file: Buffer, options: ReadOptions): Promise<SheetTable> {
	return await wholeTable(await openCsv(file, options));
}

/** Rows handed over at a time. */
const BATCH_ROWS = 20_000;

async function* csvBatches(
	pieces: AsyncIterable<Buffer> | Iterable<Buffer>,
	options: ReadOptions,
	turns: Turns,
	{ encoding, start, delimiter }: { encoding: TextEncoding; start: number; delimiter: Delimiter },
	end: { valueBeyond?: number },
): AsyncGenerator<RowBatch> {
	const maxCells =
		(options.leadingRows + options.rowsAfter) * (options.cellsPerRow ?? CELLS_PER_ROW);
	let rows: string[][] = [];
	/** Rows read so far, those handed over included. */
	let rowCount = 0;
	let cells = 0;
	let valueRows = 0;
	/** Rows kept until this many; past it only a row with a value is looked for. */
	let keepUntil = Infinity;
	const parser = new CsvParser(delimiter.character, (record, rowNumber) => {
		const hasValue = record.some(hasText);
		if (rowCount >= keepUntil) {
			if (hasValue) end.valueBeyond = rowNumber;
			return hasValue;
		}
		rows.push(record);
		rowCount++;
		cells += record.length;
		if (cells > maxCells)
			throw new CouponError(
				'LIMIT_EXCEEDED',
				`The CSV file has more than ${maxCells.toLocaleString('en-US')} cells in the ${(options.leadingRows + options.rowsAfter).toLocaleString('en-US')} rows the import reads (${options.cellsPerRow ?? CELLS_PER_ROW} a row on average)`,
				'Remove the columns the import does not need, or lower Max Rows.',
			);
		if (hasValue && ++valueRows === options.leadingRows) keepUntil = rowCount + options.rowsAfter;
		// Mostly blank lines: no more rows than the import could use are kept.
		else if (keepUntil === Infinity && rowCount >= options.leadingRows + options.rowsAfter)
			keepUntil = rowCount;
		return false;
	});
	const batch = (): RowBatch => {
		const taken = { firstRow: rowCount - rows.length + 1, rows };
		rows = [];
		return taken;
	};
	const decoder = new TextDecoder(encoding.label, { ignoreBOM: true });
	/** The bytes from where the text the decoder returns next begins: its last piece, and a character it cut. */
	let undecoded: Buffer = Buffer.alloc(0);
	/** Feeds text the decoder returned for `undecoded`; refuses it at bytes the encoding does not allow. */
	const read = (text: string) => {
		// The text up to the bad bytes is read first: the parser then stands at their row, or has
		// stopped before it, past the rows the import reads.
		const bad = firstUndecodable(text, undecoded, encoding);
		parser.feed(bad < 0 ? text : text.slice(0, bad));
		if (bad >= 0 && !parser.stopped) {
			const line =
				parser.lineNumber === parser.rowNumber
					? ''
					: ` (line ${parser.lineNumber.toLocaleString('en-US')} of the file)`;
			throw new CouponError(
				'FILE_ENCODING_UNSUPPORTED',
				`The CSV file is not ${encoding.name} text: row ${parser.rowNumber.toLocaleString('en-US')}${line} holds bytes ${encoding.name} does not allow`,
				saveAsCsv,
			);
		}
		undecoded = undecoded.subarray(encoding.byteLength(text));
	};
	/** Bytes of the byte order mark still to skip. */
	let mark = start;
	for await (const piece of inPieces(pieces)) {
		const bytes = piece.subarray(Math.min(mark, piece.length));
		mark -= piece.length - bytes.length;
		if (bytes.length === 0) continue;
		undecoded = undecoded.length === 0 ? bytes : Buffer.concat([undecoded, bytes]);
		read(decoder.decode(bytes, { stream: true }));
		if (parser.stopped) break;
		if (rows.length >= BATCH_ROWS) yield batch();
		// A piece takes milliseconds; a long file passes the event loop's turn between pieces.
		if (turns.due()) await turns.pass();
	}
	if (!parser.stopped) {
		// A character the file cuts off at its end comes out as U+FFFD, and is refused.
		read(decoder.decode());
		if (!parser.stopped) parser.end();
	}
	if (rows.length > 0) yield batch();
}

/**
 * Why a row does not line up with the header: fewer fields than the header names columns, or text
 * past the header's last field, which a delimiter inside a field without quotes makes (shifting
 * the fields after it). Empty fields past the header, as many programs write, are fine.
 */
function misalignment(row: string[], header: string[], delimiter: Delimiter): string | undefined {
	if (!row.some(hasText)) return undefined;
	let named = header.length;
	while (named > 0 && !hasText(header[named - 1])) named--;
	const fields = `has ${row.length} field${row.length === 1 ? '' : 's'}`;
	if (row.length < named) return `${fields}, the header has ${named}`;
	if (row.slice(header.length).some(hasText))
		return `${fields}, the header has ${header.length} (a field holding a ${delimiter.name} needs quotes)`;
	return undefined;
}

/**
 * Where in `text`, decoded from `bytes`, the decoder met bytes the encoding does not allow, or -1.
 * It wrote U+FFFD for them; the file may hold U+FFFD as a character of its own, and then its bytes
 * are at that place (the text before it decoded exactly, so its length in bytes says where).
 */
function firstUndecodable(
	text: string,
	bytes: Buffer,
	{ replacement, byteLength }: TextEncoding,
): number {
	let at = 0;
	let counted = 0;
	for (let i = text.indexOf(REPLACEMENT); i >= 0; i = text.indexOf(REPLACEMENT, i + 1)) {
		at += byteLength(text.slice(counted, i));
		counted = i;
		if (!bytes.subarray(at, at + replacement.length).equals(replacement)) return i;
	}
	return -1;
}

/** Our Export writes a ' before a cell a spreadsheet would run as a formula; reading, it goes again. */
const NEUTRALISED_FORMULA = /^'[=+\-@\t\r]/;

/** A field as a cell; past the end of a short row there is no field, and the cell is empty. */
function csvCell(raw: unknown): Cell {
	if (typeof raw !== 'string' || !hasText(raw)) return undefined;
	return NEUTRALISED_FORMULA.test(raw) ? raw.slice(1) : raw;
}

/** The delimiter that splits the first records into the same number of columns, the most. */
function sniffDelimiter(sample: string): Delimiter {
	const splits = DELIMITERS.map((delimiter) => ({
		delimiter,
		records: sampleRecords(sample, delimiter),
	}));
	refuseMixedDelimiters(splits);
	let best = { delimiter: DELIMITERS[0], consistent: 0, columns: 1 };
	for (const { delimiter, records } of splits) {
		if (records === undefined) continue;
		const columns = records[0]?.fields ?? 1;
		const consistent = records.filter((record) => record.fields === columns).length;
		if (
			columns > 1 &&
			(consistent > best.consistent || (consistent === best.consistent && columns > best.columns))
		)
			best = { delimiter, consistent, columns };
	}
	return best.delimiter;
}

interface SampleRecord {
	row: number;
	fields: number;
}

/**
 * The first records of the sample holding a value, split by `delimiter`; undefined when the sample
 * is cut inside a long field, so this delimiter cannot be judged by it.
 */
function sampleRecords(sample: string, delimiter: Delimiter): SampleRecord[] | undefined {
	const records: SampleRecord[] = [];
	const parser = new CsvParser(delimiter.character, (record, row) => {
		if (record.some(hasText)) records.push({ row, fields: record.length });
		return records.length >= SNIFF_RECORDS;
	});
	try {
		parser.feed(sample);
	} catch {
		return undefined;
	}
	return records;
}

/**
 * Refuses a header split by one delimiter over rows split by another (a header typed with commas
 * over rows a program wrote with semicolons): no row would line up with the header, and rejecting
 * every row would bury the one thing to correct.
 */
function refuseMixedDelimiters(
	splits: Array<{ delimiter: Delimiter; records: SampleRecord[] | undefined }>,
): void {
	for (const header of splits)
		for (const rows of splits) {
			const [headerRecord, ...below] = header.records ?? [];
			const [headerAsRows, ...rowRecords] = rows.records ?? [];
			if (
				headerRecord !== undefined &&
				headerRecord.fields > 1 &&
				headerAsRows?.fields === 1 &&
				below.length > 0 &&
				below.every((record) => record.fields === 1) &&
				rowRecords.length > 0 &&
				rowRecords.every((record) => record.fields > 1)
			)
				throw new CouponError(
					'SHEET_LAYOUT_INVALID',
					`The CSV file's header (row ${headerRecord.row.toLocaleString('en-US')}) is separated by ${header.delimiter.name}s, but the rows below it by ${rows.delimiter.name}s, so no row lines up with the header`,
					`Use one delimiter throughout: separate the header by ${rows.delimiter.name}s too, or save the file again from the spreadsheet program as "CSV UTF-8".`,
				);
		}
}

const QUOTE = 34;
const CR = 13;
const LF = 10;

/**
 * RFC 4180 records from text fed a piece at a time. `onRecord` gets each record with its row
 * number (from 1) and returns true to stop reading.
 */
class CsvParser {
	rowNumber = 1;
	stopped = false;
	private readonly delimiter: number;
	private record: string[] = [];
	private field = '';
	private quoted = false;
	/** Inside quotes, a quote was just read: the next character says whether it closes them. */
	private quoteSeen = false;
	/** A CR ended the last record: an LF right after it belongs to the same line end. */
	private afterCr = false;
	/** Line breaks inside quotes so far: the line of the text is the row plus these. */
	private quotedLineBreaks = 0;
	/** Inside quotes, the last character was a CR: an LF right after it ends the same line. */
	private quotedCr = false;

	constructor(
		delimiter: string,
		private readonly onRecord: (record: string[], rowNumber: number) => boolean,
	) {
		this.delimiter = delimiter.charCodeAt(0);
	}

	/** The line of the text being read, counting line breaks inside quotes. */
	get lineNumber(): number {
		return this.rowNumber + this.quotedLineBreaks;
	}

	feed(text: string): void {
		let from = 0;
		for (let i = 0; i < text.length && !this.stopped; i++) {
			const c = text.charCodeAt(i);
			if (this.afterCr) {
				this.afterCr = false;
				if (c === LF) {
					from = i + 1;
					continue;
				}
			}
			if (this.quoted) {
				if (this.quoteSeen) {
					this.quoteSeen = false;
					if (c === QUOTE) {
						from = i; // "" is one quote: this second one is kept
						continue;
					}
					this.quoted = false; // the quote closed the field; c is read below
				} else {
					if (c === QUOTE) {
						this.append(text, from, i);
						from = i + 1;
						this.quoteSeen = true;
					} else if (c === CR || (c === LF && !this.quotedCr)) this.quotedLineBreaks++;
					this.quotedCr = c === CR;
					continue;
				}
			}
			if (c === QUOTE && this.field === '' && from === i) {
				this.quoted = true;
				from = i + 1;
			} else if (c === this.delimiter) {
				this.append(text, from, i);
				this.endField();
				from = i + 1;
			} else if (c === CR || c === LF) {
				this.append(text, from, i);
				this.endRecord();
				this.afterCr = c === CR;
				from = i + 1;
			}
		}
		if (!this.stopped) this.append(text, from, text.length);
	}

	end(): void {
		if (this.quoted && !this.quoteSeen)
			throw new CouponError(
				'FILE_DAMAGED',
				`Row ${this.rowNumber.toLocaleString('en-US')} of the CSV file opens a quote that never closes`,
				'Close the quote, or remove it, and import the file again.',
			);
		if (this.field !== '' || this.record.length > 0) this.endRecord();
	}

	private append(text: string, from: number, to: number): void {
		if (to <= from) return;
		if (this.field.length + (to - from) > MAX_CSV_CELL)
			throw new CouponError(
				'FILE_DAMAGED',
				`Row ${this.rowNumber.toLocaleString('en-US')} of the CSV file has a cell longer than ${MAX_CSV_CELL.toLocaleString('en-US')} characters${this.quoted ? ', inside a quote that may never close' : ''}`,
				'Check that the file is a list of codes, with its quotes closed.',
			);
		this.field += text.slice(from, to);
	}

	private endField(): void {
		this.record.push(this.field);
		this.field = '';
	}

	private endRecord(): void {
		this.endField();
		const record = this.record;
		this.record = [];
		if (this.onRecord(record, this.rowNumber)) this.stopped = true;
		this.rowNumber++;
	}
}
