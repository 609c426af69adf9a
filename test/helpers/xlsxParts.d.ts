export interface ZipPart {
	name: string;
	data: Buffer;
	/** What the headers claim the part unpacks to, when a test wants them to lie. */
	declaredSize?: number;
}

export function zip(parts: ZipPart[]): Buffer;
export function workbookParts(
	sheetXml: Buffer,
	sharedStringsXml?: string,
	stylesXml?: string,
): ZipPart[];
