import { CouponError } from '../core/common/errors';

/**
 * The parts of an .xlsx the import reads, found and cut to size before SheetJS sees them. SheetJS
 * reads a whole sheet into memory (all its rows, then all their cells) and every shared string of
 * the workbook, whatever Max Rows says; here the sheet is cut after the rows the import can use and
 * the shared strings after the last one those rows refer to. Everything works on the bytes, one
 * pass each, with no regular expression on the parts' content.
 */

const LT = 0x3c;
const GT = 0x3e;
const SLASH = 0x2f;
const COLON = 0x3a;
const QUESTION = 0x3f;
const BANG = 0x21;
const AMPERSAND = 0x26;

/** One XML tag: where it starts and ends, its local name (no namespace prefix) and its kind. */
export interface Tag {
	start: number;
	/** Just past its `>`. */
	end: number;
	nameStart: number;
	nameEnd: number;
	closing: boolean;
	selfClosing: boolean;
	special: boolean;
}

function isNameEnd(byte: number): boolean {
	return isSpace(byte) || byte === GT || byte === SLASH;
}

/**
 * The next tag at or after `from`. Comments, declarations and processing instructions come back
 * with `special` set: inside rows no spreadsheet program writes them, and readers disagree on them.
 */
export function nextTag(xml: Buffer, from: number): Tag | undefined {
	// Byte loops: tags are short, and Buffer.indexOf costs more per call than it saves.
	let start = from;
	while (start < xml.length && xml[start] !== LT) start++;
	let end = start + 1;
	while (end < xml.length && xml[end] !== GT) end++;
	if (end >= xml.length) return undefined;
	const first = xml[start + 1];
	const special = first === QUESTION || first === BANG;
	const closing = first === SLASH;
	let nameStart = start + (closing ? 2 : 1);
	let nameEnd = nameStart;
	while (nameEnd < end && !isNameEnd(xml[nameEnd])) {
		if (xml[nameEnd] === COLON) nameStart = nameEnd + 1;
		nameEnd++;
	}
	return {
		start,
		end: end + 1,
		nameStart,
		nameEnd,
		closing,
		selfClosing: xml[end - 1] === SLASH,
		special,
	};
}

export function isNamed(xml: Buffer, tag: Tag, name: string): boolean {
	return bytesAre(xml, tag.nameStart, tag.nameEnd, name);
}

export const EQUALS = 0x3d;
const QUOTE = 0x22;
const APOSTROPHE = 0x27;

export function isSpace(byte: number): boolean {
	return byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d;
}

/**
 * Where an attribute's value lies in a tag (prefix ignored): its first byte and the byte past it.
 * A namespace declaration (`xmlns:t`) is no attribute `t`: SheetJS reads it as another name too.
 */
export function attributeRange(xml: Buffer, tag: Tag, name: string): [number, number] | undefined {
	const end = tag.end - 1;
	let at = tag.nameEnd;
	while (at < end) {
		let equals = at;
		while (equals < end && xml[equals] !== EQUALS) equals++;
		const quote = xml[equals + 1];
		if (equals >= end || (quote !== QUOTE && quote !== APOSTROPHE)) return undefined;
		let valueEnd = equals + 2;
		while (valueEnd < end && xml[valueEnd] !== quote) valueEnd++;
		if (valueEnd >= end) return undefined;
		let keyStart = equals;
		while (keyStart > at && !isSpace(xml[keyStart - 1]) && xml[keyStart - 1] !== COLON) keyStart--;
		if (bytesAre(xml, keyStart, equals, name) && !declaresNamespace(xml, at, keyStart))
			return [equals + 2, valueEnd];
		at = valueEnd + 1;
	}
	return undefined;
}

/** Whether the attribute name whose local part starts at `keyStart` has the prefix `xmlns`. */
function declaresNamespace(xml: Buffer, from: number, keyStart: number): boolean {
	if (xml[keyStart - 1] !== COLON) return false;
	let prefixStart = keyStart - 1;
	while (prefixStart > from && !isSpace(xml[prefixStart - 1])) prefixStart--;
	return bytesAre(xml, prefixStart, keyStart - 1, 'xmlns');
}

export function bytesAre(xml: Buffer, from: number, to: number, text: string): boolean {
	if (to - from !== text.length) return false;
	for (let i = 0; i < text.length; i++) if (xml[from + i] !== text.charCodeAt(i)) return false;
	return true;
}

/** An attribute of a tag, XML-unescaped; undefined when it has none. */
function attribute(xml: Buffer, tag: Tag, name: string): string | undefined {
	const range = attributeRange(xml, tag, name);
	return range && unescapeXml(xml.toString('utf8', range[0], range[1]));
}

/** A whole number written in bytes `from` to `to`; NaN when they hold anything else. */
export function wholeNumber(xml: Buffer, from: number, to: number): number {
	let value = 0;
	for (let i = from; i < to; i++) {
		const digit = xml[i] - 0x30;
		if (digit < 0 || digit > 9 || i - from > 15) return NaN;
		value = value * 10 + digit;
	}
	return to > from ? value : NaN;
}

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

const XML_ENTITIES = new Map([
	['amp', '&'],
	['lt', '<'],
	['gt', '>'],
	['quot', '"'],
	['apos', "'"],
]);

function unescapeXml(text: string): string {
	if (!text.includes('&')) return text;
	return text.replace(/&(#x[0-9a-f]{1,6}|#\d{1,7}|[a-z]{2,4});/gi, (entity, body: string) => {
		if (body[0] !== '#') return XML_ENTITIES.get(body) ?? entity;
		const codePoint =
			body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : Number(body.slice(1));
		return codePoint <= 0x10ffff ? String.fromCodePoint(codePoint) : entity;
	});
}

const saveAgain = 'Open the file in Excel or LibreOffice and save it again as .xlsx.';

/** The sheets a workbook lists, in order, with the zip entry holding each. */
export interface SheetEntry {
	name: string;
	part: string | undefined;
}

export interface WorkbookLayout {
	sheets: SheetEntry[];
	/** The shared strings part, when the workbook has one. */
	sharedStrings?: string;
	styles?: string;
}

const CONTENT_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.';
const WORKBOOK_TYPES = ['sheet.main+xml', 'sheet.macroEnabled.main+xml', 'template.main+xml'];
const RELATIONSHIP_TYPE = '/officeDocument/2006/relationships/';

/**
 * Reads [Content_Types].xml, the workbook and its relationships: which entry holds which sheet, and
 * the shared strings and styles. The first of two declarations counts; the reader builds the
 * workbook SheetJS parses from these parts alone, so both read the same ones.
 */
export function readLayout(part: (name: string) => Buffer | undefined): WorkbookLayout {
	const types = part('[Content_Types].xml');
	const overrides = new Map<string, string>();
	for (let tag = types && nextTag(types, 0); tag; tag = nextTag(types!, tag.end)) {
		if (tag.closing || tag.special || !isNamed(types!, tag, 'Override')) continue;
		const name = attribute(types!, tag, 'PartName');
		const type = attribute(types!, tag, 'ContentType');
		if (name && type?.startsWith(CONTENT_TYPE) && !overrides.has(type.slice(CONTENT_TYPE.length)))
			overrides.set(type.slice(CONTENT_TYPE.length), name.replace(/^\//, ''));
	}
	const workbookName =
		WORKBOOK_TYPES.map((type) => overrides.get(type)).find(Boolean) ?? 'xl/workbook.xml';
	const workbook = part(workbookName);
	if (!workbook)
		throw new CouponError(
			'FILE_NOT_SPREADSHEET',
			`The file is not an .xlsx workbook: it has no ${workbookName} part (an .xlsb binary workbook, or not a workbook at all)`,
			saveAgain,
		);
	const folder = workbookName.slice(0, workbookName.lastIndexOf('/') + 1);
	const rels = part(`${folder}_rels/${workbookName.slice(folder.length)}.rels`);
	const targets = new Map<string, string>();
	const byType = new Map<string, string>();
	for (let tag = rels && nextTag(rels, 0); tag; tag = nextTag(rels!, tag.end)) {
		if (tag.closing || tag.special || !isNamed(rels!, tag, 'Relationship')) continue;
		const id = attribute(rels!, tag, 'Id');
		const target = attribute(rels!, tag, 'Target');
		if (!id || !target || targets.has(id)) continue;
		targets.set(id, resolveTarget(folder, target));
		const type = attribute(rels!, tag, 'Type') ?? '';
		const kind = type.slice(type.lastIndexOf(RELATIONSHIP_TYPE) + RELATIONSHIP_TYPE.length);
		if (type.includes(RELATIONSHIP_TYPE) && !byType.has(kind)) byType.set(kind, targets.get(id)!);
	}
	const sheets: SheetEntry[] = [];
	for (let tag = nextTag(workbook, 0); tag; tag = nextTag(workbook, tag.end)) {
		if (tag.closing || tag.special || !isNamed(workbook, tag, 'sheet')) continue;
		const id = attribute(workbook, tag, 'id');
		sheets.push({
			name: attribute(workbook, tag, 'name') ?? '',
			part: id === undefined ? undefined : targets.get(id),
		});
	}
	return {
		sheets,
		sharedStrings: overrides.get('sharedStrings+xml') ?? byType.get('sharedStrings'),
		styles: overrides.get('styles+xml') ?? byType.get('styles'),
	};
}

/** A relationship target as a zip entry name: relative to the workbook's folder, or absolute. */
function resolveTarget(folder: string, target: string): string {
	const parts = target.startsWith('/') ? [] : folder.split('/').filter(Boolean);
	for (const segment of target.split('/')) {
		if (segment === '..') parts.pop();
		else if (segment !== '.' && segment !== '') parts.push(segment);
	}
	return parts.join('/');
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

const unreadable = (what: string) =>
	new CouponError(
		'FILE_DAMAGED',
		`The sheet cannot be read safely: ${what}, which spreadsheet programs do not write`,
		saveAgain,
	);

/** The attributes the reader reads (r, s, t), written in upper case. */
const UPPER_CELL_ATTRIBUTES = new Set([0x52, 0x53, 0x54]);

/** Excel's last row. */
const MAX_ROW = 1_048_576;
/** A tag, value or row this long is no spreadsheet's (a cell holds 32,767 characters at most). */
const MAX_UNFINISHED_BYTES = 4 * 1024 * 1024;
const MAX_ROW_BYTES = 4 * 1024 * 1024;
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

/**
 * A workbook's shared strings, unpacked only as far as the rows read so far refer (Excel writes
 * them in order of first use), with where each text lies: a batch of rows takes the texts it uses
 * without the whole table being parsed again. Texts are told apart as SheetJS tells them: text i
 * is what lies between the (i-1)-th and the i-th closing `</si>` (or `</x:si>`, `</sstItem>`),
 * after the root's opening tag; so a batch's table, made of the same bytes, reads the same.
 */
export class SharedStringTable {
	private data = Buffer.alloc(0);
	private filled = 0;
	/** Where the next scan starts: past what was read, or at a tag cut by the piece's end. */
	private scanFrom = 0;
	/** The root element's opening tag, as written (up to its end), once found; and its name. */
	private rootEnd?: number;
	private rootName = 'sst';
	/** Whether SheetJS finds the same root (see `isPlainRoot`): else it reads the texts. */
	private plainRoot = false;
	/** Where the text being read began: the end of the last closing tag, or of the root's tag. */
	private textStart = 0;
	/** Start and end of each text found, two numbers a text: a million texts take 8 MB. */
	private bounds = new Uint32Array(1024);
	private boundCount = 0;
	private ended = false;

	constructor(private readonly pieces: AsyncIterator<Buffer>) {}

	/** Unpacks until `count` texts are found or the table ends; returns how many there are then. */
	async ensure(count: number): Promise<number> {
		while (this.boundCount / 2 < count && !this.ended) {
			const next = await this.pieces.next();
			if (next.done) {
				this.ended = true;
				break;
			}
			this.append(next.value);
			this.scan();
		}
		return Math.min(count, this.boundCount / 2);
	}

	/** The shared strings part holding these texts, in this order: text i of the part is `indices[i]`. */
	partFor(indices: number[]): Buffer {
		const parts = [this.data.subarray(0, this.rootEnd ?? 0)];
		for (const index of indices)
			parts.push(this.data.subarray(this.bounds[2 * index], this.bounds[2 * index + 1]));
		parts.push(Buffer.from(`</${this.rootName}>`));
		return Buffer.concat(parts);
	}

	/**
	 * Text `index` (found by `ensure`) when it is written plainly, `<si><t>text</t></si>` (or `<t
	 * xml:space="preserve">`) with printable ASCII and no entity: then it is its bytes, as SheetJS
	 * would read it. Undefined for anything else (rich text, other characters), which SheetJS reads.
	 */
	plainText(index: number): string | undefined {
		if (!this.plainRoot) return undefined;
		let at = this.bounds[2 * index];
		const end = this.bounds[2 * index + 1] - PLAIN_TEXT_END.length;
		while (at < end && isSpace(this.data[at])) at++;
		const open = this.data.subarray(at, at + PLAIN_PRESERVED_TEXT_START.length);
		if (open.subarray(0, PLAIN_TEXT_START.length).equals(PLAIN_TEXT_START))
			at += PLAIN_TEXT_START.length;
		else if (open.equals(PLAIN_PRESERVED_TEXT_START)) at += PLAIN_PRESERVED_TEXT_START.length;
		else return undefined;
		if (at > end || !this.data.subarray(end, end + PLAIN_TEXT_END.length).equals(PLAIN_TEXT_END))
			return undefined;
		return plainAscii(this.data, at, end);
	}

	private append(piece: Buffer): void {
		if (this.filled + piece.length > this.data.length) {
			const grown = Buffer.allocUnsafe(Math.max(2 * this.data.length, this.filled + piece.length));
			this.data.copy(grown, 0, 0, this.filled);
			this.data = grown;
		}
		piece.copy(this.data, this.filled);
		this.filled += piece.length;
	}

	private addBounds(start: number, end: number): void {
		if (this.boundCount + 2 > this.bounds.length) {
			const grown = new Uint32Array(2 * this.bounds.length);
			grown.set(this.bounds);
			this.bounds = grown;
		}
		this.bounds[this.boundCount++] = start;
		this.bounds[this.boundCount++] = end;
	}

	/**
	 * Reads what was unpacked since the last scan, going on from where it stopped: each byte is read
	 * about once, even for a text of megabytes.
	 */
	private scan(): void {
		const xml = this.data.subarray(0, this.filled);
		let at = this.scanFrom;
		if (this.rootEnd === undefined) {
			for (let tag = nextTag(xml, at); tag; tag = nextTag(xml, at)) {
				at = tag.end;
				if (tag.closing || tag.special || !isNamed(xml, tag, 'sst')) continue;
				this.rootEnd = this.textStart = tag.end;
				this.rootName = xml.toString('latin1', tag.start + 1, tag.nameEnd);
				this.plainRoot = isPlainRoot(xml, tag);
				break;
			}
			if (this.rootEnd === undefined) {
				const unfinished = xml.indexOf(LT, at);
				this.scanFrom = unfinished >= 0 ? unfinished : xml.length;
				if (xml.length - this.scanFrom > MAX_UNFINISHED_BYTES)
					throw unreadable(
						`its shared texts hold a tag longer than ${MAX_UNFINISHED_BYTES / 2 ** 20} MB`,
					);
				return;
			}
		}
		for (;;) {
			const close = xml.indexOf(CLOSING, at);
			if (close < 0) {
				// A "<" at the very end may begin a closing tag.
				at = Math.max(at, xml.length - 1);
				break;
			}
			const end = closingTextEnd(xml, close);
			if (end === undefined) {
				at = close;
				break;
			}
			at = end < 0 ? close + 2 : end;
			if (end < 0) continue;
			this.refuseLongText(end);
			this.addBounds(this.textStart, end);
			this.textStart = end;
		}
		this.scanFrom = at;
		this.refuseLongText(xml.length);
	}

	/** A cell holds 32,767 characters at most: a shared text of megabytes is no spreadsheet's. */
	private refuseLongText(end: number): void {
		if (end - this.textStart > MAX_ROW_BYTES)
			throw unreadable(`its shared texts hold one longer than ${MAX_ROW_BYTES / 2 ** 20} MB`);
	}
}

const CLOSING = Buffer.from('</');
const SHARED_TEXT_NAMES = new Set(['si', 'sstItem']);

/**
 * Where a closing tag that ends a shared text, as SheetJS finds them (`</si>`, `</x:si>`,
 * `</sstItem>`: word characters, an optional prefix, no space), ends when one starts at `at`; -1
 * when another tag does; undefined when the bytes end before that is known.
 */
function closingTextEnd(xml: Buffer, at: number): number | undefined {
	let nameStart = at + 2;
	let i = nameStart;
	for (;;) {
		if (i >= xml.length) return undefined;
		const byte = xml[i];
		if (isWordByte(byte)) i++;
		else if (byte === COLON && nameStart === at + 2 && i > nameStart) nameStart = ++i;
		else break;
	}
	if (xml[i] !== GT) return -1;
	return SHARED_TEXT_NAMES.has(xml.toString('latin1', nameStart, i)) ? i + 1 : -1;
}

function isWordByte(byte: number): boolean {
	return (
		(byte >= 0x61 && byte <= 0x7a) ||
		(byte >= 0x41 && byte <= 0x5a) ||
		(byte >= 0x30 && byte <= 0x39) ||
		byte === 0x5f
	);
}

const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * Whether the shared strings' root tag is the first thing SheetJS's pattern for it can find: after
 * at most a byte order mark, an XML declaration and white space (a comment or instruction before it
 * may hold what looks like a root), named `sst` with a prefix of word characters at most.
 */
function isPlainRoot(xml: Buffer, root: Tag): boolean {
	let at = xml.subarray(0, 3).equals(UTF8_BOM) ? 3 : 0;
	const skipSpace = () => {
		while (at < root.start && isSpace(xml[at])) at++;
	};
	skipSpace();
	if (bytesAre(xml, at, at + 5, '<?xml')) {
		const close = xml.indexOf('?>', at);
		if (close < 0 || close > root.start || xml.subarray(at + 1, close).includes(LT)) return false;
		at = close + 2;
		skipSpace();
	}
	const after = xml[root.nameEnd];
	return at === root.start && hasWordPrefix(xml, root) && (isSpace(after) || after === GT);
}

const PLAIN_TEXT_START = Buffer.from('<si><t>');
const PLAIN_PRESERVED_TEXT_START = Buffer.from('<si><t xml:space="preserve">');
const PLAIN_TEXT_END = Buffer.from('</t></si>');
const UNDERSCORE = 0x5f;

/**
 * Bytes `from` to `to` as text when each is printable ASCII other than `<` and `&`, with no `_x`
 * (Excel's escape of a control character, `_x000D_`): text that SheetJS reads as it is written.
 */
export function plainAscii(xml: Buffer, from: number, to: number): string | undefined {
	for (let i = from; i < to; i++) {
		const byte = xml[i];
		if (byte < 0x20 || byte > 0x7e || byte === LT || byte === AMPERSAND) return undefined;
		if (byte === UNDERSCORE && (xml[i + 1] | 0x20) === 0x78) return undefined;
	}
	return xml.toString('latin1', from, to);
}

/** Whether a tag's name has no prefix, or one of word characters as SheetJS's patterns allow. */
export function hasWordPrefix(xml: Buffer, tag: Tag): boolean {
	const start = tag.start + (tag.closing ? 2 : 1);
	if (tag.nameStart === start) return true;
	if (tag.nameStart - 1 === start) return false;
	for (let i = start; i < tag.nameStart - 1; i++) if (!isWordByte(xml[i])) return false;
	return true;
}
