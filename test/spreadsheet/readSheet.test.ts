import * as XLSX from '@e965/xlsx';
import { readSheet } from '../../nodes/shared/spreadsheet/readSheet';
import { sheetXml, workbookParts, xlsx, zip } from '../helpers/spreadsheets';

const MIB = 1024 * 1024;
const options = { maxRows: 1000, limits: { maxTotalBytes: 50 * MIB, maxEntryBytes: 50 * MIB, maxRatio: 100 } };

describe('readSheet', () => {
	it('keeps text exactly as written and writes numbers out in full', async () => {
		const file = xlsx({
			Codes: [
				['coupon value'],
				['007'],
				[12345678901234],
				[{ t: 'n', v: 42, z: '000000' }],
				[{ t: 'n', v: 1.5 }],
				[{ t: 'n', v: 45000, z: 'yyyy-mm-dd' }],
				[true],
			],
		});
		const table = await readSheet(file, options);
		expect(table.sheetName).toBe('Codes');
		expect(table.rows.map((row) => row?.[0])).toEqual([
			'coupon value',
			'007',
			'12345678901234',
			'000042',
			{ unusable: 'is a fractional number; format the column as text and enter the codes again', shown: '1.5' },
			{ unusable: 'is a date, not a code; format the column as text and enter the codes again', shown: '45000' },
			{ unusable: 'is a TRUE/FALSE cell, not a code', shown: 'TRUE' },
		]);
	});

	it('never writes large numbers in exponent notation', async () => {
		const table = await readSheet(xlsx({ S: [[1e20], [123456789012345680]] }), options);
		expect(table.rows.map((row) => row?.[0])).toEqual(['100000000000000000000', '123456789012345680']);
	});

	it('reads the first sheet unless another is named, in any case', async () => {
		const file = xlsx({ First: [['a']], Second: [['b']] });
		expect((await readSheet(file, options)).rows[0]).toEqual(['a']);
		expect((await readSheet(file, { ...options, sheetName: 'second' })).rows[0]).toEqual(['b']);
		await expect(readSheet(file, { ...options, sheetName: 'Third' })).rejects.toThrow('The workbook has no sheet named "Third"; its sheets are "First", "Second"');
	});

	it('refuses a sheet over the row cap, and accepts one exactly at it', async () => {
		const rows = (n: number) => [['coupon value'], ...Array.from({ length: n }, (_, i) => [`C${i}`])];
		await expect(readSheet(xlsx({ S: rows(10) }), { ...options, maxRows: 10 })).resolves.toBeDefined();
		await expect(readSheet(xlsx({ S: rows(11) }), { ...options, maxRows: 10 })).rejects.toThrow('Sheet "S" has more than 10 rows, the limit set in Max Rows');
	});

	it.each([
		['a CSV file', Buffer.from('coupon name,coupon value\nA,B\n'), /not an \.xlsx spreadsheet \(it starts with the text "coupon name,coup": it may be a CSV/],
		['a PDF', Buffer.from('%PDF-1.7 ...'), /it is a PDF/],
		['an empty file', Buffer.alloc(0), /The file is empty/],
		['a cut-off xlsx', xlsx({ S: [['a']] }).subarray(0, 200), /zip structure is damaged/],
		['a zip that is not a workbook', zip([{ name: 'word/document.xml', data: Buffer.from('<x/>') }]), /zip archive but not an Excel workbook/],
		['an old .xls workbook', XLSX.write(XLSX.utils.book_new(XLSX.utils.aoa_to_sheet([['a']])), { type: 'buffer', bookType: 'xls' }) as Buffer, /old Excel 97-2003 \(\.xls\)/],
	])('refuses %s with a clear message', async (_label, file, message) => {
		await expect(readSheet(file, options)).rejects.toThrow(message);
	});

	it('recognises a password-protected workbook', async () => {
		const container = XLSX.CFB.utils.cfb_new();
		XLSX.CFB.utils.cfb_add(container, 'EncryptionInfo', Buffer.alloc(64, 1));
		XLSX.CFB.utils.cfb_add(container, 'EncryptedPackage', Buffer.alloc(512, 2));
		const file = XLSX.CFB.write(container, { type: 'buffer' }) as Buffer;
		await expect(readSheet(file, options)).rejects.toThrow(/password-protected/);
	});

	it('reads a workbook written by hand with inline strings', async () => {
		const file = zip(workbookParts(sheetXml([['coupon value'], ['X1']])));
		expect((await readSheet(file, options)).rows).toEqual([['coupon value'], ['X1']]);
	});
});

describe('zip bomb guard', () => {
	const bomb = (declaredSize?: number) => {
		const parts = workbookParts(sheetXml([['coupon value'], ['X1']], 30 * MIB));
		parts[4].declaredSize = declaredSize;
		return zip(parts);
	};

	it('refuses an entry that declares a suspicious packing ratio, before inflating it', async () => {
		await expect(readSheet(bomb(), options)).rejects.toThrow(/possible zip bomb: its part xl\/worksheets\/sheet1\.xml unpacks \d+ times larger/);
	});

	it('refuses a file whose declared sizes pass the total cap only by lying', async () => {
		// Declares 20 KB (ratio under 100) but inflates to 30 MiB: caught while counting the real bytes.
		await expect(readSheet(bomb(20_000), options)).rejects.toThrow(/unpacks to more than the 20 KiB its header declares/);
	});

	it('refuses a file over the unpacked size cap', async () => {
		const rows = [['coupon value'], ...Array.from({ length: 40_000 }, (_, i) => [`CODE-${i}-${'x'.repeat(20)}`])];
		const file = xlsx({ S: rows });
		await expect(readSheet(file, { ...options, limits: { ...options.limits, maxTotalBytes: 1 * MIB } })).rejects.toThrow(/unpacks to \d+\.\d MiB, over the limit of 1\.0 MiB/);
	});
});
