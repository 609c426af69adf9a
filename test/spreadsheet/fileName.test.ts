import { CouponError } from '../../nodes/shared/core/common/errors';
import {
	checkFileName,
	fileNameFrom,
	MAX_FILE_NAME_BYTES,
} from '../../nodes/shared/spreadsheet/fileName';

const refusal = (name: string, format: 'xlsx' | 'csv' = 'csv') => {
	try {
		checkFileName(name, format);
	} catch (error) {
		expect(error).toBeInstanceOf(CouponError);
		return (error as CouponError).message;
	}
	throw new Error(`${name} was accepted`);
};

describe('output file names', () => {
	it('keeps a plain name, adding the extension when it has none', () => {
		expect(checkFileName('spring10-codes.csv', 'csv')).toBe('spring10-codes.csv');
		expect(checkFileName('Spring 10 (April).XLSX', 'xlsx')).toBe('Spring 10 (April).XLSX');
		expect(checkFileName('spring10', 'xlsx')).toBe('spring10.xlsx');
		expect(checkFileName('codes.v2', 'csv')).toBe('codes.v2.csv');
		expect(checkFileName('Gutscheine-Frühling-€', 'csv')).toBe('Gutscheine-Frühling-€.csv');
	});

	it('refuses folders, control and invisible characters, device names and overlong names', () => {
		expect(refusal('../../../etc/cron.d/x')).toBe('File Name "../../../etc/cron.d/x" contains "/"');
		expect(refusal('..\\boot.ini')).toBe('File Name "..\\\\boot.ini" contains "\\"');
		expect(refusal('codes\r\nSet-Cookie: x')).toBe(
			'File Name "codes\\r\\nSet-Cookie: x" contains a line break',
		);
		expect(refusal('codes\u0000.csv')).toBe(
			'File Name "codes\\u0000.csv" contains the control character U+0000',
		);
		expect(refusal('codes\u202Evsc.exe')).toMatch(/contains .*U\+202E/);
		expect(refusal('codes\u2028x')).toMatch(/contains a line break/);
		expect(refusal('C:codes')).toBe('File Name "C:codes" contains ":"');
		expect(refusal('..')).toBe('File Name ".." is not a name');
		expect(refusal('codes.')).toBe(
			'File Name "codes." ends with a dot or a space, which Windows drops',
		);
		expect(refusal('CON.csv')).toBe('File Name "CON.csv" is a name Windows keeps for a device');
		expect(refusal('codes.xlsx', 'csv')).toBe(
			'File Name "codes.xlsx" ends in .xlsx, but File Format is CSV',
		);
		// A refusal quotes at most 60 characters of what it was given.
		expect(refusal('x'.repeat(10_000))).toBe(
			`File Name "${'x'.repeat(59)}… is longer than ${MAX_FILE_NAME_BYTES} bytes`,
		);
		expect(refusal('€'.repeat(85))).toMatch(/is longer than 255 bytes$/);
	});

	it('makes a safe default name from any coupon name', () => {
		expect(fileNameFrom('SPRING10-available-codes.csv', 'csv')).toBe(
			'SPRING10-available-codes.csv',
		);
		expect(fileNameFrom('50/50: "deal"-new-codes.xlsx', 'xlsx')).toBe(
			'50-50- -deal--new-codes.xlsx',
		);
		expect(fileNameFrom('con', 'csv')).toBe('codes-con.csv');
		const long = fileNameFrom(`${'€'.repeat(200)}-codes.csv`, 'csv');
		expect(Buffer.byteLength(long)).toBeLessThanOrEqual(MAX_FILE_NAME_BYTES);
		expect(long.endsWith('.csv')).toBe(true);
	});
});
