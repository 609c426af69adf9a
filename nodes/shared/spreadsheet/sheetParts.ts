import { CouponError } from '../core/common/errors';
import {
	attributeRange,
	bytesAre,
	COLON,
	EQUALS,
	isNamed,
	isSpace,
	LT,
	nextTag,
	QUOTE,
	APOSTROPHE,
	saveAgain,
	unreadable,
	MAX_UNFINISHED_BYTES,
	MAX_ROW_BYTES,
	type Tag,
	wholeNumber,
} from './sheetXml';

/**
 * A sheet cut to size before it is read. SheetJS reads a whole sheet into memory (all its rows,
 * then all their cells) whatever Max Rows says; here the sheet is cut after the rows the import can
 * use, on the bytes, in one pass, with no regular expression on its content. The shared strings
 * (sharedStrings.ts) are then read only as far as the rows kept refer.
 */
/** Whether a cell reference (column letters, then the row number, as A12) names row `row`. */
function namesRow(xml: Buffer, from: number, to: number, row: number): boolean {
	let digits = from;
	while (digits < to && digits - from < 3 && xml[digits] >= 0x41 && xml[digits] <= 0x5a) digits++;
	return digits > from && xml[digits] !== 0x30 && wholeNumber(xml, digits, to) === row;
}

/** Whether bytes `from` to `to` hold anything but white space. */
function hasText(xml: Buffer, from: number, to: number): boolean {
	for (let i = from; i < to; i++) if (!isSpace(xml[i])) return true;
	return false;
}

/** A sheet cut to the rows the import can use, and what lies beyond. */
export interface CutSheet {
	/** The rows kept, as they are written inside the sheet's sheetData element. */
	rows: Buffer;
	/** The number of the first row kept, when one is. */
	firstRow?: number;
	/** Cells in the rows kept. */
	cells: number;
	/** The highest shared-string index a kept cell refers to; -1 when none does. */
	maxStringIndex: number;
	/** The first row past those kept that holds a value, if any: the file has more than the import reads. */
	valueBeyond?: number;
}

/** The elements rows are written with; anything else in them is refused, not guessed at. */
const ROW_ELEMENTS = new Set([
	'row',
	'c',
	'v',
	'f',
	'is',
	't',
	'r',
	'rPr',
	'rPh',
	'phoneticPr',
	'rFont',
	'charset',
	'family',
	'b',
	'i',
	'strike',
	'outline',
	'shadow',
	'condense',
	'extend',
	'color',
	'sz',
	'u',
	'vertAlign',
	'scheme',
]);

/** The attributes the reader reads (r, s, t), written in upper case. */
const UPPER_CELL_ATTRIBUTES = new Set([0x52, 0x53, 0x54]);

/** Excel's last row. */
const MAX_ROW = 1_048_576;
/** Rows kept are copied out in runs of about this size, so that a reader can take a batch of them. */
const MAX_RUN_BYTES = 64 * 1024;

/**
 * Whether a tag inside the rows is written plainly: `name="value"` attributes (or single quotes)
 * separated by spaces, names of letters, digits, `:`, `.` and `-`, no `<` in a value, no name twice
 * (ignoring case and prefix). SheetJS reads tags with its own rules (the last of two attributes
 * wins, names are folded, unquoted values pass); on plain tags both read the same.
 */
function isPlainTag(xml: Buffer, tag: Tag): boolean {
	const end = tag.end - (tag.selfClosing ? 2 : 1);
	let at = tag.nameEnd;
	if (at >= end) return true;
	// The local names seen, as [start, end] pairs: tags have a handful of attributes.
	const names: number[] = [];
	for (;;) {
		const spaceStart = at;
		while (at < end && isSpace(xml[at])) at++;
		if (at >= end) return true;
		if (at === spaceStart) return false;
		const nameStart = at;
		let localStart = at;
		while (at < end && isAttributeNameByte(xml[at])) {
			if (xml[at] === COLON) localStart = at + 1;
			at++;
		}
		if (at === nameStart || xml[at] !== EQUALS) return false;
		// SheetJS folds case: "T" would be its cell type, which the reader looks for as "t".
		if (at - localStart === 1 && UPPER_CELL_ATTRIBUTES.has(xml[localStart])) return false;
		for (let i = 0; i < names.length; i += 2)
			if (sameNameIgnoringCase(xml, names[i], names[i + 1], localStart, at)) return false;
		names.push(localStart, at);
		const quote = xml[at + 1];
		if (quote !== QUOTE && quote !== APOSTROPHE) return false;
		at += 2;
		while (at < end && xml[at] !== quote) if (xml[at++] === LT) return false;
		if (at >= end) return false;
		at++;
	}
}

function sameNameIgnoringCase(
	xml: Buffer,
	a: number,
	aEnd: number,
	b: number,
	bEnd: number,
): boolean {
	if (aEnd - a !== bEnd - b) return false;
	for (let i = 0; i < aEnd - a; i++) if ((xml[a + i] | 0x20) !== (xml[b + i] | 0x20)) return false;
	return true;
}

function isAttributeNameByte(byte: number): boolean {
	return (
		(byte >= 0x61 && byte <= 0x7a) ||
		(byte >= 0x41 && byte <= 0x5a) ||
		(byte >= 0x30 && byte <= 0x39) ||
		byte === COLON ||
		byte === 0x2e ||
		byte === 0x2d
	);
}

/**
 * Keeps the rows up to the `leadingRows`-th row holding a value, and `rowsAfter` rows past it; the
 * rest of the sheet is only looked through for a value. Rows without a value are left out (they
 * give nothing), and each row kept carries its number. The rows are read strictly (rows in order,
 * known elements written plainly, shared-string numbers as whole numbers), so that what is counted
 * here is what SheetJS parses. Past `maxCells` cells in the rows kept it stops: the sheet is refused.
 * Cells of rows left out (formatting without values) do not count.
 *
 * The sheet comes in pieces as it is unpacked (`push`), so that a sheet of hundreds of MB is never
 * held whole: only the rows kept are, and the piece being read. `done` says when nothing more can
 * change the outcome.
 */
export class SheetCutter {
	private keepUntil = Infinity;
	private inRows = false;
	private cut = false;
	private finished = false;
	private valueRows = 0;
	private row = 0;
	private rowOpen = false;
	private rowHasValue = false;
	private rowCells = 0;
	private cells = 0;
	private maxStringIndex = -1;
	private cellIsString = false;
	private inValue = false;
	private valueBeyond?: number;
	/** Rows kept and not yet taken, whole rows each, and the number of each one's first row. */
	private kept: Buffer[] = [];
	private keptFirstRows: number[] = [];
	private keptByteCount = 0;
	private runFirstRow = 0;
	/** The open row's bytes from earlier pieces, or its tag rewritten with its number. */
	private rowBytes: Buffer[] = [];
	private rowByteCount = 0;
	// In the piece being read: where the open row's tag starts, when it is there as written; where
	// its content starts; and the run of kept rows, copied out in one piece.
	private rowStart?: number;
	private rowFrom = 0;
	private runStart?: number;
	private runEnd = 0;
	/** The end of the last piece, from a tag or value not complete in it: read again with the next. */
	private pending = Buffer.alloc(0);

	constructor(
		private readonly leadingRows: number,
		private readonly rowsAfter: number,
		private readonly maxCells = Infinity,
		private readonly maxRunBytes = MAX_RUN_BYTES,
	) {}

	get done(): boolean {
		return this.finished || this.valueBeyond !== undefined || this.cells > this.maxCells;
	}

	push(piece: Buffer): void {
		if (this.done) return;
		const xml = this.pending.length > 0 ? Buffer.concat([this.pending, piece]) : piece;
		this.rowFrom = 0;
		try {
			this.read(xml);
		} finally {
			this.flushRun(xml);
		}
	}

	private read(xml: Buffer): void {
		// Bytes before `readTo` are read for good; from it on they come again with the next piece.
		let readTo = xml.length;
		let valueTagStart = 0;
		let valueStart = 0;
		let at = 0;
		for (;;) {
			const tag = nextTag(xml, at);
			if (!tag) {
				// An unfinished tag, or the text of a value, continues in the next piece.
				const unfinished = xml.indexOf(LT, at);
				readTo = this.inValue ? valueTagStart : unfinished >= 0 ? unfinished : xml.length;
				break;
			}
			at = tag.end;
			if (!this.inRows) {
				if (!tag.special && !tag.closing && isNamed(xml, tag, 'sheetData')) {
					this.inRows = !tag.selfClosing;
					this.finished = tag.selfClosing;
				}
				if (this.finished) return;
				continue;
			}
			if (tag.special) throw unreadable('its rows hold a comment, CDATA or processing instruction');
			if (isNamed(xml, tag, 'sheetData')) {
				this.endRow(xml, tag.start);
				this.finished = true;
				return;
			}
			const name = xml.toString('latin1', tag.nameStart, tag.nameEnd);
			if (!ROW_ELEMENTS.has(name)) throw unreadable(`its rows hold a "${name}" element`);
			if (!isPlainTag(xml, tag))
				throw unreadable(
					`its rows hold a tag written in a way readers disagree on (${xml.toString('utf8', tag.start, Math.min(tag.end, tag.start + 40))})`,
				);
			if (this.inValue && !(name === 'v' && tag.closing)) throw unreadable('a value holds a tag');
			if (name === 'row') {
				this.endRow(xml, tag.start, tag.closing ? tag.end : undefined);
				if (this.valueBeyond !== undefined) return;
				if (tag.closing) continue;
				const range = attributeRange(xml, tag, 'r');
				const next = range === undefined ? this.row + 1 : wholeNumber(xml, range[0], range[1]);
				if (next > MAX_ROW)
					throw unreadable(`it has rows past row ${MAX_ROW.toLocaleString('en-US')}, Excel's last`);
				if (!Number.isInteger(next) || next <= this.row)
					throw new CouponError(
						'FILE_DAMAGED',
						`The sheet's rows are out of order (row ${range ? xml.toString('utf8', range[0], range[1]) : '?'} comes after row ${this.row})`,
						saveAgain,
					);
				this.row = next;
				this.rowHasValue = false;
				if (!this.cut && this.row > this.keepUntil) this.cut = true;
				if (tag.selfClosing) continue;
				this.rowOpen = true;
				this.rowCells = 0;
				this.rowByteCount = 0;
				this.rowFrom = tag.end;
				// A row without its number gets it written in: rows left out must not shift the others.
				this.rowStart = range ? tag.start : undefined;
				this.rowBytes = range
					? []
					: [Buffer.from(`<row r="${this.row}"`), Buffer.from(xml.subarray(tag.nameEnd, tag.end))];
			} else if (name === 'c' && !tag.closing) {
				if (!this.rowOpen) throw unreadable('it has a cell outside a row');
				// SheetJS places a cell by its reference: one naming another row would move it there.
				const reference = attributeRange(xml, tag, 'r');
				if (reference && !namesRow(xml, reference[0], reference[1], this.row))
					throw unreadable(
						`row ${this.row} holds a cell whose reference "${xml.toString('utf8', reference[0], Math.min(reference[1], reference[0] + 20))}" names another row`,
					);
				this.rowCells++;
				const type = attributeRange(xml, tag, 't');
				this.cellIsString = type !== undefined && bytesAre(xml, type[0], type[1], 's');
				// A typed cell (a boolean, an error, a text) may stand for a value without a <v>.
				if (type !== undefined && !bytesAre(xml, type[0], type[1], 'n') && !this.cellIsString)
					this.rowHasValue = true;
			} else if (name === 'v') {
				if (tag.selfClosing) throw unreadable('it has an empty "v" element');
				if (!tag.closing) {
					this.inValue = true;
					valueTagStart = tag.start;
					valueStart = tag.end;
					continue;
				}
				this.inValue = false;
				if (!hasText(xml, valueStart, tag.start)) continue;
				this.rowHasValue = true;
				if (this.cellIsString && !this.cut) {
					const index = wholeNumber(xml, valueStart, tag.start);
					if (!Number.isInteger(index))
						throw unreadable(
							`a cell refers to shared text "${xml.toString('utf8', valueStart, Math.min(tag.start, valueStart + 20))}" by something other than its number`,
						);
					if (index > this.maxStringIndex) this.maxStringIndex = index;
				}
			} else if (name === 'is' && !tag.closing) {
				this.rowHasValue = true;
			}
		}
		// A value left open is read again from its <v> tag, with the cell it belongs to unchanged.
		this.inValue = false;
		if (this.rowOpen) {
			// The open row goes on in the next piece: what it has so far is carried.
			this.addRowBytes(xml, this.rowStart ?? this.rowFrom, readTo);
			this.rowStart = undefined;
		}
		if (xml.length - readTo > MAX_UNFINISHED_BYTES)
			throw unreadable(`it holds a tag or value longer than ${MAX_UNFINISHED_BYTES / 2 ** 20} MB`);
		this.pending = Buffer.from(xml.subarray(readTo));
	}

	/** Cells in the rows kept so far. */
	get cellCount(): number {
		return this.cells;
	}

	/** Bytes of the rows kept and not yet taken. */
	get keptBytes(): number {
		return this.keptByteCount;
	}

	/**
	 * The rows kept and not yet taken, whole rows only, up to about `maxBytes` (runs of rows are
	 * cut at MAX_RUN_BYTES), and the number of the first (none when there are none): a streaming
	 * reader parses them as they come.
	 */
	take(maxBytes = Infinity): { rows: Buffer; firstRow?: number } {
		let count = 0;
		let bytes = 0;
		while (count < this.kept.length && (count === 0 || bytes + this.kept[count].length <= maxBytes))
			bytes += this.kept[count++].length;
		const rows = Buffer.concat(this.kept.slice(0, count));
		const firstRow = this.keptFirstRows[0];
		this.kept = this.kept.slice(count);
		this.keptFirstRows = this.keptFirstRows.slice(count);
		this.keptByteCount -= bytes;
		return { rows, ...(count === 0 ? {} : { firstRow }) };
	}

	/** What was found, once the whole sheet (or enough of it) was pushed; rows taken before are not in it. */
	finish(): CutSheet {
		if (this.rowOpen) this.endRow(Buffer.alloc(0), 0);
		return {
			...this.take(),
			cells: this.cells,
			maxStringIndex: this.maxStringIndex,
			...(this.valueBeyond === undefined ? {} : { valueBeyond: this.valueBeyond }),
		};
	}

	private addRowBytes(xml: Buffer, from: number, to: number): void {
		if (this.cut || to <= from) return;
		this.rowByteCount += to - from;
		if (this.rowByteCount > MAX_ROW_BYTES)
			throw unreadable(`row ${this.row} takes more than ${MAX_ROW_BYTES / 2 ** 20} MB`);
		this.rowBytes.push(Buffer.from(xml.subarray(from, to)));
	}

	/**
	 * Ends the open row at `to`: at its `</row>` (which ends at `closeEnd`), or where something else
	 * ends it. A row holding a value is kept: as written when it lies whole in this piece (joining
	 * the run of kept rows before it), else from its carried bytes.
	 */
	private endRow(xml: Buffer, to: number, closeEnd?: number): void {
		if (!this.rowOpen) return;
		this.rowOpen = false;
		const rowStart = this.rowStart;
		this.rowStart = undefined;
		if (!this.rowHasValue) return;
		if (this.cut) {
			this.valueBeyond ??= this.row;
			return;
		}
		this.cells += this.rowCells;
		if (++this.valueRows === this.leadingRows) this.keepUntil = this.row + this.rowsAfter;
		if (rowStart !== undefined && closeEnd !== undefined) {
			if (closeEnd - rowStart > MAX_ROW_BYTES)
				throw unreadable(`row ${this.row} takes more than ${MAX_ROW_BYTES / 2 ** 20} MB`);
			if (
				this.runStart !== undefined &&
				this.runEnd === rowStart &&
				this.runEnd - this.runStart < this.maxRunBytes
			)
				this.runEnd = closeEnd;
			else {
				this.flushRun(xml);
				this.runStart = rowStart;
				this.runEnd = closeEnd;
				this.runFirstRow = this.row;
			}
			return;
		}
		this.flushRun(xml);
		this.addRowBytes(xml, rowStart ?? this.rowFrom, to);
		this.keep(Buffer.concat([...this.rowBytes, Buffer.from('</row>')]), this.row);
		this.rowBytes = [];
	}

	private keep(rows: Buffer, firstRow: number): void {
		this.kept.push(rows);
		this.keptFirstRows.push(firstRow);
		this.keptByteCount += rows.length;
	}

	private flushRun(xml: Buffer): void {
		if (this.runStart === undefined) return;
		this.keep(Buffer.from(xml.subarray(this.runStart, this.runEnd)), this.runFirstRow);
		this.runStart = undefined;
	}
}

/** A whole sheet cut at once (see SheetCutter). */
export function cutSheet(
	xml: Buffer,
	leadingRows: number,
	rowsAfter: number,
	maxCells = Infinity,
): CutSheet {
	const cutter = new SheetCutter(leadingRows, rowsAfter, maxCells);
	cutter.push(xml);
	return cutter.finish();
}

/**
 * Kept rows with their shared-string numbers renumbered from 0, in order of first use, and the
 * numbers they had: a batch of rows is parsed with a table of only the texts it uses. The rows were
 * read strictly by SheetCutter, so a plain walk over their tags finds every string cell's value.
 */
export function renumberSharedStrings(rows: Buffer): { rows: Buffer; indices: number[] } {
	const pieces: Buffer[] = [];
	const indices: number[] = [];
	const renumbered = new Map<number, number>();
	let copiedTo = 0;
	let cellIsString = false;
	let valueStart = -1;
	for (let tag = nextTag(rows, 0); tag; tag = nextTag(rows, tag.end)) {
		if (isNamed(rows, tag, 'c') && !tag.closing) {
			const type = attributeRange(rows, tag, 't');
			cellIsString = type !== undefined && bytesAre(rows, type[0], type[1], 's');
		} else if (isNamed(rows, tag, 'v') && cellIsString) {
			if (!tag.closing) {
				valueStart = tag.end;
				continue;
			}
			const index = wholeNumber(rows, valueStart, tag.start);
			if (!Number.isInteger(index)) continue;
			let number = renumbered.get(index);
			if (number === undefined) {
				renumbered.set(index, (number = indices.length));
				indices.push(index);
			}
			pieces.push(rows.subarray(copiedTo, valueStart), Buffer.from(String(number)));
			copiedTo = tag.start;
		}
	}
	if (copiedTo === 0) return { rows, indices };
	pieces.push(rows.subarray(copiedTo));
	return { rows: Buffer.concat(pieces), indices };
}
