import { CouponError } from '../core/common/errors';
import { describeCharacter, echo } from '../core/common/names';
import type { SheetFormat } from './writeSheet';

/** The longest file name most file systems take, in bytes of UTF-8. */
export const MAX_FILE_NAME_BYTES = 255;

/**
 * What no file name may hold: folder separators, the characters Windows forbids, control and
 * line-break characters, and invisible or direction-changing ones (U+202E turns "gpj.exe" around).
 */
const FORBIDDEN = /[/\\<>:"|?*\p{Cc}\p{Cf}\u2028\u2029]/u;
// Windows's device names, with or without an extension: "con.csv" opens the console.
const RESERVED = /^(?:con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(?:\.|$)/i;
const FORBIDDEN_EVERYWHERE = new RegExp(FORBIDDEN.source, 'gu');

const fix = (format: SheetFormat) =>
	`Enter a plain file name such as spring10-codes.${format}: no folders, and none of / \\ < > : " | ? *.`;

/**
 * The File Name a user entered, checked: a plain name with the format's extension (added when it
 * has none), or a CouponError naming the problem. Output files go to downloads, mail attachments
 * and disks: a name must never reach another folder or hide what it is.
 */
export function checkFileName(name: string, format: SheetFormat): string {
	const refuse = (problem: string) =>
		new CouponError('FILE_NAME_INVALID', `File Name ${echo(name)} ${problem}`, fix(format));
	const forbidden = FORBIDDEN.exec(name);
	if (forbidden) throw refuse(`contains ${describeCharacter(forbidden[0])}`);
	if (/^\.*$/.test(name)) throw refuse('is not a name');
	if (/[. ]$/.test(name)) throw refuse('ends with a dot or a space, which Windows drops');
	if (RESERVED.test(name)) throw refuse('is a name Windows keeps for a device');
	const extension = /\.([a-z0-9]+)$/i.exec(name)?.[1].toLowerCase();
	const other = (['xlsx', 'csv'] as const).find((known) => known !== format);
	if (extension === other)
		throw refuse(`ends in .${other}, but File Format is ${format.toUpperCase()}`);
	const full = extension === format ? name : `${name}.${format}`;
	if (Buffer.byteLength(full, 'utf8') > MAX_FILE_NAME_BYTES)
		throw refuse(`is longer than ${MAX_FILE_NAME_BYTES} bytes`);
	return full;
}

/**
 * A default file name (such as "<coupon>-available-codes.csv") made safe, for when the user left
 * File Name empty: what a file name cannot hold becomes "-", and a long name is cut before its
 * extension.
 */
export function fileNameFrom(name: string, format: SheetFormat): string {
	const base = name.endsWith(`.${format}`) ? name.slice(0, -format.length - 1) : name;
	let plain = base.replace(FORBIDDEN_EVERYWHERE, '-').replace(/^[. ]+|[. ]+$/g, '');
	if (plain === '' || RESERVED.test(plain)) plain = `codes-${plain}`;
	const room = MAX_FILE_NAME_BYTES - format.length - 1;
	while (Buffer.byteLength(plain, 'utf8') > room) plain = [...plain].slice(0, -1).join('');
	return `${plain}.${format}`;
}
