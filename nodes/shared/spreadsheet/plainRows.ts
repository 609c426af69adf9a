import {
	attributeRange,
	bytesAre,
	EQUALS,
	isNamed,
	isSpace,
	hasWordPrefix,
	nextTag,
	type Tag,
	wholeNumber,
} from './sheetXml';

const SPACE = 0x20;
const ZERO = 0x30;
const R = 0x72;
const S = 0x73;
const T = 0x74;

/**
 * A cell as SheetJS hands it over (the fields the import reads), for the cells read here without
 * it: a text (`t: 's'`) or a number with its format (`t: 'n'`, `z`).
 */
export interface PlainCell {
	t: 's' | 'n';
	v: string | number;
	z?: string;
}

/** How SheetJS reads a number in a cell style: its format, and whether that makes it a date. */
export interface StyleFormat {
	z: string | undefined;
	date: boolean;
}

export interface PlainSources {
	/** Shared text `index` when it is written plainly, else undefined. */
	text(index: number): string | undefined;
	/** The formats of these cell styles (-1: a cell without one), as SheetJS reads them. */
	formats(styles: number[]): Map<number, StyleFormat> | undefined;
}

/** A batch's cells before their texts and formats are looked up. */
export interface ScannedRows {
	rows: Array<PlainCell[] | undefined>;
	/** Text cells, with the shared-text number each holds in `v` until it is looked up. */
	textCells: PlainCell[];
	/** Every cell and its style (-1 for none). */
	cells: PlainCell[];
	styles: number[];
	/** The highest shared-text number a cell refers to; -1 when none does. */
	maxTextIndex: number;
}

/**
 * A batch of rows (as SheetCutter kept them: rows in order, each carrying its number, tags written
 * plainly) read without SheetJS, when every cell is plain: a reference, no type or type "n" or "s",
 * and at most a `<v>` of digits (a shared text's number) or a decimal number. Undefined as soon as
 * one is not: SheetJS reads that batch (formulas, inline texts, booleans, errors, dates). Most code
 * lists are plain throughout, and SheetJS's parse of them took about half of an import's time.
 */
export function scanPlainRows(xml: Buffer, firstRow: number): ScannedRows | undefined {
	const scanned: ScannedRows = {
		rows: [],
		textCells: [],
		cells: [],
		styles: [],
		maxTextIndex: -1,
	};
	let row: PlainCell[] | undefined;
	let column = -1;
	let isText = false;
	let style = -1;
	let valueStart = -1;
	let valueEnd = -1;
	for (let tag = nextTag(xml, 0); tag; tag = nextTag(xml, tag.end)) {
		// SheetJS finds elements by patterns: a prefix of word characters, a closing tag without
		// spaces, a cell's name followed by a space, "/" or ">". Anything else is left to it.
		if (!hasWordPrefix(xml, tag) || (tag.closing && tag.end - 1 !== tag.nameEnd)) return undefined;
		if (isNamed(xml, tag, 'c')) {
			if (!tag.closing) {
				const attributes = cellAttributes(xml, tag);
				if (row === undefined || column >= 0 || attributes === undefined) return undefined;
				({ column, isText, style } = attributes);
				valueStart = valueEnd = -1;
				if (!tag.selfClosing) continue;
			} else if (column < 0) {
				// A closing tag of no open cell: SheetJS ignores it, the reader leaves it to SheetJS.
				return undefined;
			} else if (valueStart >= 0 && valueEnd > valueStart) {
				const cell = isText
					? textCell(xml, valueStart, valueEnd, scanned)
					: numberCell(xml, valueStart, valueEnd);
				if (cell === undefined) return undefined;
				row![column] = cell;
				scanned.cells.push(cell);
				scanned.styles.push(style);
			}
			column = -1;
		} else if (isNamed(xml, tag, 'v') && column >= 0) {
			if (tag.closing) valueEnd = tag.start;
			// SheetJS reads a cell's first value; a second is left to it.
			else if (valueStart >= 0) return undefined;
			else valueStart = tag.end;
		} else if (isNamed(xml, tag, 'row') && column < 0) {
			if (tag.closing || tag.selfClosing) {
				row = undefined;
				continue;
			}
			const number = attributeRange(xml, tag, 'r');
			const index = number && wholeNumber(xml, number[0], number[1]) - firstRow;
			if (index === undefined || !(index >= scanned.rows.length)) return undefined;
			scanned.rows[index] = row = [];
		} else return undefined;
	}
	return scanned;
}

/**
 * The scanned batch's cells with their texts and formats, or undefined when a text is not plain or
 * a number's format makes it a date (SheetJS turns those into dates, read by `readSheet`).
 */
export function plainRows(
	scanned: ScannedRows,
	sources: PlainSources,
): Array<PlainCell[] | undefined> | undefined {
	// Each text once per batch, as SheetJS reads it: a long text in many cells is one string.
	const texts = new Map<number, string | undefined>();
	for (const cell of scanned.textCells) {
		const index = cell.v as number;
		let text = texts.get(index);
		if (!texts.has(index)) texts.set(index, (text = sources.text(index)));
		if (text === undefined) return undefined;
		cell.v = text;
	}
	if (scanned.cells.length > 0) {
		const formats = sources.formats([...new Set(scanned.styles)]);
		if (formats === undefined) return undefined;
		for (let i = 0; i < scanned.cells.length; i++) {
			const cell = scanned.cells[i];
			const format = formats.get(scanned.styles[i]);
			if (format === undefined || (format.date && cell.t === 'n')) return undefined;
			if (format.z !== undefined) cell.z = format.z;
		}
	}
	// Rows without a cell read are holes, as SheetJS leaves them.
	return scanned.rows.map((cells) => (cells !== undefined && cells.length > 0 ? cells : undefined));
}

function textCell(
	xml: Buffer,
	from: number,
	to: number,
	scanned: ScannedRows,
): PlainCell | undefined {
	const index = wholeNumber(xml, from, to);
	if (Number.isNaN(index)) return undefined;
	if (index > scanned.maxTextIndex) scanned.maxTextIndex = index;
	const cell: PlainCell = { t: 's', v: index };
	scanned.textCells.push(cell);
	return cell;
}

function numberCell(xml: Buffer, from: number, to: number): PlainCell | undefined {
	if (!isDecimal(xml, from, to)) return undefined;
	return { t: 'n', v: Number(xml.toString('latin1', from, to)) };
}

const isDigit = (byte: number) => byte >= 0x30 && byte <= 0x39;

/** Whether bytes hold a number as Excel writes one: -12, 12.5, 1.2E+20, where Number and parseFloat agree. */
function isDecimal(xml: Buffer, from: number, to: number): boolean {
	let at = from;
	if (xml[at] === 0x2d) at++;
	const digits = (): boolean => {
		const start = at;
		while (at < to && isDigit(xml[at])) at++;
		return at > start;
	};
	if (!digits()) return false;
	if (xml[at] === 0x2e && (at++, !digits())) return false;
	if (at < to && (xml[at] | 0x20) === 0x65) {
		at++;
		if (xml[at] === 0x2b || xml[at] === 0x2d) at++;
		if (!digits()) return false;
	}
	return at === to;
}

/** Cell styles past this are no spreadsheet's (Excel allows 64,000): such a cell is left to SheetJS. */
const MAX_PLAIN_STYLE = 65_535;

/**
 * A cell tag's column, type and style when it has only the attributes SheetJS reads as written: `r`
 * (required), `t` ("s" or "n"), `s` (a number without leading zeros), none with a prefix (SheetJS
 * reads `xmlns:t` as another attribute, and finds `r="` anywhere in the tag).
 */
function cellAttributes(
	xml: Buffer,
	tag: Tag,
): { column: number; isText: boolean; style: number } | undefined {
	const end = tag.end - (tag.selfClosing ? 2 : 1);
	let at = tag.nameEnd;
	if (at < end && xml[at] !== SPACE) return undefined;
	let column = -1;
	let isText = false;
	let style = -1;
	// SheetCutter let through only tags of `name="value"` pairs, each name once.
	while (at < end) {
		while (at < end && isSpace(xml[at])) at++;
		if (at >= end) break;
		const name = xml[at];
		if (xml[at + 1] !== EQUALS) return undefined;
		const quote = xml[at + 2];
		const valueStart = at + 3;
		const valueEnd = xml.indexOf(quote, valueStart);
		if (valueEnd < 0 || valueEnd >= end) return undefined;
		if (name === R) column = columnIndex(xml, valueStart, valueEnd);
		else if (name === T) {
			isText = bytesAre(xml, valueStart, valueEnd, 's');
			if (!isText && !bytesAre(xml, valueStart, valueEnd, 'n')) return undefined;
		} else if (name === S) {
			style = wholeNumber(xml, valueStart, valueEnd);
			if (!(style <= MAX_PLAIN_STYLE) || (xml[valueStart] === ZERO && valueEnd - valueStart > 1))
				return undefined;
		} else return undefined;
		at = valueEnd + 1;
	}
	return column < 0 ? undefined : { column, isText, style };
}

/** The column of a reference such as AB12 (SheetCutter checked it names its row), from 0; -1 if not letters. */
function columnIndex(xml: Buffer, from: number, to: number): number {
	let index = 0;
	let at = from;
	for (; at < to && xml[at] >= 0x41 && xml[at] <= 0x5a; at++) index = 26 * index + xml[at] - 0x40;
	return at > from && at < to ? index - 1 : -1;
}
