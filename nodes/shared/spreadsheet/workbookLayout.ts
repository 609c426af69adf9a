import { CouponError } from '../core/common/errors';
import { attribute, isNamed, nextTag, saveAgain } from './sheetXml';

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
