import { CouponError } from '../core/common/errors';

/**
 * The parts of an .xlsx read byte by byte, with no regular expression on their content: tags,
 * attributes, whole numbers and plain texts, and the refusal of what no spreadsheet program writes.
 */

export const LT = 0x3c;
export const GT = 0x3e;
const SLASH = 0x2f;
export const COLON = 0x3a;
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
export const QUOTE = 0x22;
export const APOSTROPHE = 0x27;

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
export function attribute(xml: Buffer, tag: Tag, name: string): string | undefined {
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

export const saveAgain = 'Open the file in Excel or LibreOffice and save it again as .xlsx.';

export const unreadable = (what: string) =>
	new CouponError(
		'FILE_DAMAGED',
		`The sheet cannot be read safely: ${what}, which spreadsheet programs do not write`,
		saveAgain,
	);

/** A tag, value or row this long is no spreadsheet's (a cell holds 32,767 characters at most). */
export const MAX_UNFINISHED_BYTES = 4 * 1024 * 1024;
export const MAX_ROW_BYTES = 4 * 1024 * 1024;

export function isWordByte(byte: number): boolean {
	return (
		(byte >= 0x61 && byte <= 0x7a) ||
		(byte >= 0x41 && byte <= 0x5a) ||
		(byte >= 0x30 && byte <= 0x39) ||
		byte === 0x5f
	);
}

/** Excel's escape of a control character (`_x000D_`) starts with it. */
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
