import * as XLSX from '@e965/xlsx';
import { readSheet as readRaw, type ReadOptions } from '../../nodes/shared/spreadsheet/readSheet';
import { sheetXml, workbookParts, xlsx, zip } from '../helpers/spreadsheets';

const MIB = 1024 * 1024;
/** The sheet with every cell converted, as the import would read it. */
async function readSheet(file: Buffer, readOptions: ReadOptions) {
	const table = await readRaw(file, readOptions);
	return {
		sheetName: table.sheetName,
		rows: table.rows.map((row) => row && Array.from(row, (raw) => table.cell(raw))),
	};
}

const options = {
	rowLimit: 1000,
	limits: { maxTotalBytes: 50 * MIB, maxEntryBytes: 50 * MIB, maxRatio: 100 },
};

describe('readSheet', () => {
	it('keeps text exactly as written and writes numbers out in full', async () => {
		const file = xlsx({
			Codes: [
				['coupon value'],
				['007'],
				[12345678901234],
				[{ t: 'n', v: 42, z: '000000' }],
				[{ t: 'n', v: 7, z: '0000;@' }],
				[{ t: 'n', v: 5, z: '"GC"0000' }],
				[{ t: 'n', v: 1234, z: '#,##0' }],
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
			'0007',
			'GC0005',
			'1234',
			{
				unusable: 'is a fractional number; format the column as text and enter the codes again',
				shown: '1.5',
			},
			{
				unusable: 'is a date, not a code; format the column as text and enter the codes again',
				shown: '45000',
			},
			{ unusable: 'is a TRUE/FALSE cell, not a code', shown: 'TRUE' },
		]);
	});

	it('writes numbers of up to 15 digits out in full and refuses longer ones, which Excel has already rounded', async () => {
		const table = await readSheet(
			// eslint-disable-next-line no-loss-of-precision -- a 19-digit number, already rounded as Excel keeps it
			xlsx({ S: [[999999999999999], [1e20], [1234567890123456789]] }),
			options,
		);
		const tooLong =
			'is a number of more than 15 digits, which Excel does not keep exactly; format the column as text and enter the codes again';
		expect(table.rows.map((row) => row?.[0])).toEqual([
			'999999999999999',
			{ unusable: tooLong, shown: '100000000000000000000' },
			{ unusable: tooLong, shown: '1234567890123456768' },
		]);
	});

	it('reads the first sheet unless another is named, in any case', async () => {
		const file = xlsx({ First: [['a']], Second: [['b']] });
		expect((await readSheet(file, options)).rows[0]).toEqual(['a']);
		expect((await readSheet(file, { ...options, sheetName: 'second' })).rows[0]).toEqual(['b']);
		await expect(readSheet(file, { ...options, sheetName: 'Third' })).rejects.toThrow(
			'The workbook has no sheet named "Third"; its sheets are "First", "Second"',
		);
	});

	it('stops reading at the row limit', async () => {
		const rows = [['coupon value'], ...Array.from({ length: 50 }, (_, i) => [`C${i}`])];
		expect((await readSheet(xlsx({ S: rows }), { ...options, rowLimit: 10 })).rows).toHaveLength(
			10,
		);
	});

	it('reads a sheet named __proto__', async () => {
		const file = xlsx([
			['__proto__', [['p']]],
			['other', [['o']]],
		]);
		expect(await readSheet(file, options)).toEqual({ sheetName: '__proto__', rows: [['p']] });
		expect(await readSheet(file, { ...options, sheetName: '__PROTO__' })).toEqual({
			sheetName: '__proto__',
			rows: [['p']],
		});
	});

	it.each([
		[
			'a CSV file',
			Buffer.from('coupon name,coupon value\nA,B\n'),
			/not an \.xlsx spreadsheet \(it starts with the text "coupon name,coup": it may be a CSV/,
		],
		['a PDF', Buffer.from('%PDF-1.7 ...'), /it is a PDF/],
		['an empty file', Buffer.alloc(0), /The file is empty/],
		['a cut-off xlsx', xlsx({ S: [['a']] }).subarray(0, 200), /zip structure is damaged/],
		[
			'a zip that is not a workbook',
			zip([{ name: 'word/document.xml', data: Buffer.from('<x/>') }]),
			/zip archive but not an Excel workbook/,
		],
		[
			'an old .xls workbook',
			XLSX.write(XLSX.utils.book_new(XLSX.utils.aoa_to_sheet([['a']])), {
				type: 'buffer',
				bookType: 'xls',
			}) as Buffer,
			/old Excel 97-2003 \(\.xls\)/,
		],
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
		await expect(readSheet(bomb(), options)).rejects.toThrow(
			/possible zip bomb: its part xl\/worksheets\/sheet1\.xml unpacks \d+ times larger/,
		);
	});

	it('refuses a file whose declared sizes pass the caps only by lying', async () => {
		// Declares 20 KB (ratio under 100) but inflates to 30 MiB: inflation stops at the declared size.
		await expect(readSheet(bomb(20_000), options)).rejects.toThrow(
			/unpacks to more than the 20 KiB its header declares/,
		);
	});

	it('is not fooled by a directory that calls a deflated part stored', async () => {
		// The local header says "deflated", the directory says "stored" with equal sizes (ratio 1).
		const file = bomb();
		const directory = file.lastIndexOf(Buffer.from('xl/worksheets/sheet1.xml')) - 46;
		file.writeUInt16LE(0, directory + 10);
		file.writeUInt32LE(file.readUInt32LE(directory + 20), directory + 24);
		await expect(readSheet(file, options)).rejects.toThrow(
			'zip structure is damaged (the headers of xl/worksheets/sheet1.xml disagree on its compression)',
		);
	});

	it('is not fooled by a second end-of-directory record', async () => {
		const honest = bomb();
		const end = honest.subarray(honest.length - 22);
		// A harmless directory listing only the first part, placed after the real end record.
		const decoy = Buffer.concat([honest, end]);
		decoy.writeUInt16LE(1, decoy.length - 22 + 8);
		decoy.writeUInt16LE(1, decoy.length - 22 + 10);
		// The decoy is what gets checked, so it is also all that gets unpacked: the sheet is never reached.
		await expect(readSheet(decoy, options)).rejects.toThrow('not an Excel workbook');
	});

	it('refuses a file over the unpacked size cap', async () => {
		const rows = [
			['coupon value'],
			...Array.from({ length: 40_000 }, (_, i) => [`CODE-${i}-${'x'.repeat(20)}`]),
		];
		const file = xlsx({ S: rows });
		await expect(
			readSheet(file, { ...options, limits: { ...options.limits, maxTotalBytes: 1 * MIB } }),
		).rejects.toThrow(/unpacks to \d+\.\d MiB, over the limit of 1\.0 MiB/);
	});
});
