import {
	bytesAre,
	COLON,
	GT,
	hasWordPrefix,
	isNamed,
	isSpace,
	isWordByte,
	LT,
	MAX_ROW_BYTES,
	MAX_UNFINISHED_BYTES,
	nextTag,
	plainAscii,
	type Tag,
	unreadable,
} from './sheetXml';

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
