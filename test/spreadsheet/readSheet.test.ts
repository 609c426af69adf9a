import { randomBytes } from 'node:crypto';
import { planOf } from '../helpers/imports';
import * as XLSX from '@e965/xlsx';
import type { ReadOptions } from '../../nodes/shared/spreadsheet/readOptions';
import { wholeTable } from '../../nodes/shared/core/import/sheetRows';
import { openSheet } from '../../nodes/shared/spreadsheet/readSheet';
import { readTable as readRaw } from '../../nodes/shared/spreadsheet/readTable';
import { sheetXml, workbookParts, xlsx, zip } from '../helpers/spreadsheets';
import { HEAVY_TEST_MS } from '../helpers/timeouts';

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
	leadingRows: 10,
	rowsAfter: 1000,
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
				shown: '2023-03-15',
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

	it('reads the rows up to the last header candidate and the rows after it, then only looks for a value', async () => {
		const rows = [['coupon value'], ...Array.from({ length: 50 }, (_, i) => [`C${i}`])];
		const table = await readRaw(xlsx({ S: rows }), { ...options, leadingRows: 2, rowsAfter: 8 });
		expect(table.rows).toHaveLength(10);
		expect(table.valueBeyond).toBe(11);

		// Blank rows past the rows read hide nothing: the value after them is found.
		const gap = zip(
			workbookParts(
				Buffer.from(
					'<worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>coupon value</t></is></c></row><row r="2"><c r="A2" t="inlineStr"><is><t>X1</t></is></c></row><row r="30"><c r="A30" s="1"/></row><row r="1048576"><c r="A1048576"><v>7</v></c></row></sheetData></worksheet>',
				),
			),
		);
		const gapTable = await readRaw(gap, { ...options, leadingRows: 1, rowsAfter: 10 });
		expect(gapTable.rows).toHaveLength(2);
		expect(gapTable.valueBeyond).toBe(1048576);
		expect((await readRaw(gap, options)).valueBeyond).toBeUndefined();
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

	describe('a text file that is not UTF-8', () => {
		const saveAsCsvUtf8 = expect.stringMatching(/^Save the file as "CSV UTF-8/);
		// One byte a character: Latin-1's é is 0xe9, Windows-1252's “ and € are 0x93 and 0x80.
		const oneByte = (text: string) => Buffer.from(text, 'latin1');

		it.each([
			['Latin-1 (é)', oneByte('coupon name,coupon value\nSPRING,CAF\xe9-1\n'), 2],
			['Windows-1252 (“ in the header)', oneByte('\x93coupon value\x94\r\nA-1\r\n'), 1],
			[
				'Windows-1252 (€ deep in the first 4 KB)',
				oneByte(`coupon value\n${'A-1\n'.repeat(900)}\x80-1\n`),
				902,
			],
		])('is refused naming its row: %s', async (_label, file, row) => {
			await expect(readSheet(file, options)).rejects.toMatchObject({
				message: `The CSV file is not UTF-8 text: row ${row} holds bytes UTF-8 does not allow`,
				description: saveAsCsvUtf8,
			});
		});

		it.each([
			['little-endian', Buffer.from('coupon value\tnote\r\nA-1\tx\r\n', 'utf16le')],
			['big-endian', Buffer.from('coupon value\tnote\r\nA-1\tx\r\n', 'utf16le').swap16()],
			['little-endian, in Japanese', Buffer.from('コード,名前\r\nABC-123,山田\r\n', 'utf16le')],
		])('is refused as UTF-16 without a byte order mark: %s', async (_label, file) => {
			await expect(readSheet(file, options)).rejects.toMatchObject({
				message:
					'The CSV file is not UTF-8 text: it is UTF-16 without a byte order mark (row 1 holds NUL bytes)',
				description: saveAsCsvUtf8,
			});
		});

		it.each([
			[
				'a PNG image',
				Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'),
				/the bytes 89504e47\)/,
			],
			[
				'a JPEG image',
				Buffer.from('ffd8ffe000104a46494600010100000100010000', 'hex'),
				/the bytes ffd8ffe0\)/,
			],
			[
				'a GIF image',
				Buffer.from('GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff', 'latin1'),
				/the bytes 47494638\)/,
			],
			['gzip', Buffer.from('1f8b0800000000000003', 'hex'), /the bytes 1f8b0800\)/],
			[
				'bytes of no kind',
				Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)),
				/the bytes 00efdecd\)/,
			],
			[
				'UTF-8 text with a NUL byte',
				Buffer.from('coupon value\nA-1\0\n'),
				/the text "coupon value A-1/,
			],
		])('still refuses %s as a file that is not .xlsx', async (_label, file, start) => {
			await expect(readSheet(file, options)).rejects.toThrow(
				/^The file is not an \.xlsx spreadsheet \(it starts with /,
			);
			await expect(readSheet(file, options)).rejects.toThrow(start);
		});
	});

	it('recognises a password-protected workbook', async () => {
		const container = XLSX.CFB.utils.cfb_new();
		XLSX.CFB.utils.cfb_add(container, 'EncryptionInfo', Buffer.alloc(64, 1));
		XLSX.CFB.utils.cfb_add(container, 'EncryptedPackage', Buffer.alloc(512, 2));
		const file = XLSX.CFB.write(container, { type: 'buffer' }) as Buffer;
		await expect(readSheet(file, options)).rejects.toThrow(/password-protected/);
	});

	it('reads an empty cell before the header it is looking for as empty', async () => {
		// SheetJS leaves no entry for an empty cell: B1 is a hole in the row, not a cell.
		const file = xlsx({
			S: [
				['note', null, 'coupon value', 'token'],
				[null, null, 'X1', 't1'],
			],
		});
		const plan = await planOf(await readRaw(file, options), {
			withdraw: false,
			nameColumn: 'coupon name',
			valueColumn: 'coupon value',
			couponName: 'SPRING',
			keepColumns: 'all',
			maxRows: 10,
			maxNewCoupons: 1,
			usesPerCode: 1,
			now: 0,
		});
		expect(plan.pools[0].candidates).toEqual([
			{ code: 'X1', key: 'X1', row: 2, details: { token: 't1' } },
		]);
	});

	it('reads a workbook written by hand with inline strings', async () => {
		const file = zip(workbookParts(sheetXml([['coupon value'], ['X1']])));
		expect((await readSheet(file, options)).rows).toEqual([['coupon value'], ['X1']]);
	});
	it('reads a namespace declared as xmlns:t as no cell type, as SheetJS reads the file', async () => {
		const sheet = `<worksheet><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2"><c r="A2" xmlns:t="s"><v>3</v></c></row></sheetData></worksheet>`;
		const strings =
			'<sst><si><t>coupon value</t></si><si><t>A</t></si><si><t>B</t></si><si><t>C</t></si></sst>';
		const file = zip(workbookParts(Buffer.from(sheet), strings));
		const sheetJs = XLSX.read(file, { type: 'buffer', dense: true }).Sheets.Codes['!data']!;
		expect(sheetJs[1][0].v).toBe(3);
		expect((await readSheet(file, options)).rows).toEqual([['coupon value'], ['3']]);
	});
});

describe('zip bomb guard', () => {
	const bomb = (declaredSize?: number) => {
		const parts = workbookParts(sheetXml([['coupon value'], ['X1']], 30 * MIB));
		parts[4].declaredSize = declaredSize;
		return zip(parts);
	};

	it(
		'refuses an entry that declares a suspicious packing ratio, before inflating it',
		async () => {
			await expect(readSheet(bomb(), options)).rejects.toThrow(
				/possible zip bomb: its part xl\/worksheets\/sheet1\.xml unpacks \d+ times larger/,
			);
		},
		HEAVY_TEST_MS,
	);

	it(
		'refuses a file whose declared sizes pass the caps only by lying',
		async () => {
			// Declares 20 KB (ratio under 100) but inflates to 30 MiB: inflation stops at the declared size.
			await expect(readSheet(bomb(20_000), options)).rejects.toThrow(
				/unpacks to more than the 20 KiB its header declares/,
			);
		},
		HEAVY_TEST_MS,
	);

	it(
		'is not fooled by a directory that calls a deflated part stored',
		async () => {
			// The local header says "deflated", the directory says "stored" with equal sizes (ratio 1).
			const file = bomb();
			const directory = file.lastIndexOf(Buffer.from('xl/worksheets/sheet1.xml')) - 46;
			file.writeUInt16LE(0, directory + 10);
			file.writeUInt32LE(file.readUInt32LE(directory + 20), directory + 24);
			await expect(readSheet(file, options)).rejects.toThrow(
				'zip structure is damaged (the headers of xl/worksheets/sheet1.xml disagree on its compression)',
			);
		},
		HEAVY_TEST_MS,
	);

	it(
		'is not fooled by a second end-of-directory record',
		async () => {
			const honest = bomb();
			const end = honest.subarray(honest.length - 22);
			// A harmless directory listing only the first part, placed after the real end record.
			const decoy = Buffer.concat([honest, end]);
			decoy.writeUInt16LE(1, decoy.length - 22 + 8);
			decoy.writeUInt16LE(1, decoy.length - 22 + 10);
			// The decoy is what gets checked, so it is also all that gets unpacked: the sheet is never reached.
			await expect(readSheet(decoy, options)).rejects.toThrow('not an Excel workbook');
		},
		HEAVY_TEST_MS,
	);

	it(
		'refuses a file over the unpacked size cap',
		async () => {
			const rows = [
				['coupon value'],
				...Array.from({ length: 40_000 }, (_, i) => [`CODE-${i}-${'x'.repeat(20)}`]),
			];
			const file = xlsx({ S: rows });
			await expect(
				readSheet(file, { ...options, limits: { ...options.limits, maxTotalBytes: 1 * MIB } }),
			).rejects.toThrow(/unpacks to \d+\.\d MiB, over the limit of 1\.0 MiB/);
		},
		HEAVY_TEST_MS,
	);
});

describe('hostile spreadsheets', () => {
	const sheet = (rows: string) =>
		Buffer.from(`<worksheet><sheetData>${rows}</sheetData></worksheet>`);
	const header = '<row r="1"><c r="A1" t="s"><v>0</v></c></row>';
	const sharedStrings = (texts: string[]) =>
		`<sst>${texts.map((text) => `<si><t>${text}</t></si>`).join('')}</sst>`;

	it(
		'reads number formats of a long run of zeros (npm run bench times it)',
		async () => {
			// A backtracking pattern took seconds per cell on such a format: 1,000 cells run past the
			// timeout.
			const format = `${'0'.repeat(40_000)}x`;
			const rows = [
				['coupon value'],
				...Array.from({ length: 1_000 }, (_, i) => [{ t: 'n', v: i, z: format }]),
			];
			const file = xlsx({ S: rows });
			const table = await readSheet(file, options);
			expect(table.rows[5]).toEqual(['4']);
		},
		HEAVY_TEST_MS,
	);

	it(
		'reads only the shared strings the rows read use, however many the workbook holds',
		async () => {
			const texts = ['coupon value', 'X1', ...Array.from({ length: 5_000_000 }, () => 'a')];
			const file = zip(
				workbookParts(
					sheet(`${header}<row r="2"><c r="A2" t="s"><v>1</v></c></row>`),
					sharedStrings(texts),
				),
			);
			// Within the unpacking caps, as an attacker's file would be.
			const limits = { maxTotalBytes: 500 * MIB, maxEntryBytes: 500 * MIB, maxRatio: 1000 };
			const peakBefore = process.resourceUsage().maxRSS;
			const table = await readSheet(file, { ...options, limits });
			// Loosely: the 80 MB of strings are never all unpacked, let alone parsed (SheetJS took 1 GB).
			expect(process.resourceUsage().maxRSS - peakBefore).toBeLessThan(300 * 1024);
			expect(table.rows).toEqual([['coupon value'], ['X1']]);
		},
		HEAVY_TEST_MS,
	);

	it('refuses a reference past the shared strings, or far past what the rows read can use', async () => {
		const reference = (index: number) =>
			zip(
				workbookParts(
					sheet(`${header}<row r="2"><c r="A2" t="s"><v>${index}</v></c></row>`),
					sharedStrings(['coupon value', 'X1']),
				),
			);
		await expect(readSheet(reference(5), options)).rejects.toThrow(
			"The file is damaged: a cell refers to text number 6 of the workbook's shared texts, but the workbook has only 2",
		);
		await expect(readSheet(reference(27_000_000), options)).rejects.toThrow(
			/refers to text number 27,000,001 .* the table of texts is far larger than the sheet needs/,
		);
	});

	it(
		'refuses a shared text of megabytes, which no cell holds, and reads one of many pieces',
		async () => {
			const letters = (bytes: number) =>
				Array.from(randomBytes(bytes), (byte) => String.fromCharCode(0x41 + (byte % 26))).join('');
			const long = letters(3 * MIB);
			const withText = (text: string) =>
				zip(
					workbookParts(
						sheet(`${header}<row r="2"><c r="A2" t="s"><v>1</v></c></row>`),
						sharedStrings(['coupon value', text]),
					),
				);
			// Unpacked a megabyte at a time: the text spans pieces, and is read whole.
			expect((await readSheet(withText(long), options)).rows[1]).toEqual([long]);
			await expect(readSheet(withText(letters(5 * MIB)), options)).rejects.toThrow(
				'The sheet cannot be read safely: its shared texts hold one longer than 4 MB, which spreadsheet programs do not write',
			);
		},
		HEAVY_TEST_MS,
	);

	it('tells shared texts apart as SheetJS does, whichever batches read them', async () => {
		// Texts written oddly: an empty element, a namespace prefix, an old name, a comment holding
		// a closing tag. SheetJS reading the whole file is the oracle.
		const MAIN = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
		const strings = `<sst xmlns="${MAIN}"><si><t>coupon value</t></si><si/><si><t>A1</t></si><x:si xmlns:x="${MAIN}"><x:t>A2</x:t></x:si><sstItem><t>A3</t></sstItem><si><!-- </si> --><t>A4</t></si><si><r><t>A</t></r><r><t>5</t></r></si></sst>`;
		const rows = Array.from(
			{ length: 6 },
			(_, i) => `<row r="${i + 2}"><c r="A${i + 2}" t="s"><v>${i + 1}</v></c></row>`,
		);
		const file = zip(workbookParts(sheet(`${header}${rows.join('')}`), strings));
		const oracle = XLSX.read(file, { type: 'buffer', dense: true });
		const expected = (oracle.Sheets[oracle.SheetNames[0]]['!data'] as XLSX.CellObject[][])
			.slice(1, 7)
			.map((row) => String(row[0].v ?? ''));
		const values = async (streaming?: { pieceBytes: number; batchBytes: number }) => {
			const table = await wholeTable(await openSheet(file, options, streaming));
			return table.rows.slice(1, 7).map((row) => table.cell(row?.[0]) ?? '');
		};
		expect(expected).toHaveLength(6);
		expect(await values()).toEqual(expected);
		expect(await values({ pieceBytes: 64, batchBytes: 1 })).toEqual(expected);
		// Text 7 is past the texts SheetJS finds (7 closing tags, one inside a comment): refused.
		const past = zip(
			workbookParts(sheet(`${header}<row r="2"><c r="A2" t="s"><v>7</v></c></row>`), strings),
		);
		await expect(readSheet(past, options)).rejects.toThrow(/refers to text number 8 .* only 7$/);
	});

	it('refuses a batch SheetJS cannot parse, naming where, instead of losing its rows', async () => {
		const rows = Array.from({ length: 60 }, (_, i) => {
			const r = i + 2;
			// A date cell without a value makes SheetJS give up on the sheet it parses.
			const broken = r === 40 ? `<c r="B${r}" t="d"/>` : '';
			return `<row r="${r}"><c r="A${r}"><v>${r}</v></c>${broken}</row>`;
		});
		const file = zip(
			workbookParts(sheet(`${header}${rows.join('')}`), sharedStrings(['coupon value'])),
		);
		await expect(readSheet(file, options)).rejects.toThrow(
			/^Sheet "Codes" could not be read from row 1 on: /,
		);
		const batches = await openSheet(file, options, { pieceBytes: 64, batchBytes: 200 });
		await expect(wholeTable(batches)).rejects.toThrow(
			/^Sheet "Codes" could not be read from row (3\d|40) on: /,
		);
	});

	it('refuses rows with far more cells than a coupon list needs, before parsing them', async () => {
		const cells = Array.from(
			{ length: 40 },
			(_, c) => `<c r="${XLSX.utils.encode_col(c)}2"><v>1</v></c>`,
		);
		const file = zip(
			workbookParts(
				sheet(`${header}<row r="2">${cells.join('')}</row>`),
				sharedStrings(['coupon value']),
			),
		);
		await expect(readSheet(file, { ...options, leadingRows: 1, rowsAfter: 2 })).rejects.toThrow(
			'Sheet "Codes" has more than 12 cells in the 3 rows Max Rows lets the import read (4 a row on average)',
		);
	});

	it('refuses rows out of order, which could hide values from the row count', async () => {
		const file = zip(
			workbookParts(
				sheet(
					`${header}<row r="9"><c r="A9"><v>1</v></c></row><row r="3"><c r="A3"><v>2</v></c></row>`,
				),
				sharedStrings(['coupon value']),
			),
		);
		await expect(readSheet(file, options)).rejects.toThrow(
			"The sheet's rows are out of order (row 3 comes after row 9)",
		);
	});

	it('refuses a cell whose reference names another row, where SheetJS would move it', async () => {
		for (const reference of ['A3', '99999999A2', 'A02', 'a2', 'ABCD2'])
			await expect(
				readSheet(
					zip(
						workbookParts(
							sheet(`${header}<row r="2"><c r="${reference}"><v>1</v></c></row>`),
							sharedStrings(['coupon value']),
						),
					),
					options,
				),
			).rejects.toThrow(`row 2 holds a cell whose reference "${reference}" names another row`);
		const fine = zip(
			workbookParts(
				sheet(`${header}<row r="2"><c r="XFD2"><v>1</v></c><c><v>2</v></c></row>`),
				sharedStrings(['coupon value']),
			),
		);
		expect((await readSheet(fine, options)).rows[1]?.slice(-2)).toEqual(['1', '2']);
	});

	it('reads characters beyond U+FFFF written as references, and refuses date cells written as text', async () => {
		const file = zip(
			workbookParts(
				sheet(
					`${header}<row r="2"><c r="A2" t="s"><v>1</v></c></row><row r="3"><c r="A3" t="inlineStr"><is><t>B&#x1F600;&#128512;</t></is></c></row><row r="4"><c r="A4" t="d"><v>2024-05-01T00:00:00</v></c></row><row r="5"><c r="A5" t="d"><v>zzz</v></c></row>`,
				),
				sharedStrings(['coupon value', 'A&#128512;']),
			),
		);
		expect((await readSheet(file, options)).rows).toEqual([
			['coupon value'],
			['A😀'],
			['B😀😀'],
			[
				{
					unusable: 'is a date, not a code; format the column as text and enter the codes again',
					shown: '2024-05-01',
				},
			],
			// A date cell holding no date is refused like any date, not a crash.
			[
				{
					unusable: 'is a date, not a code; format the column as text and enter the codes again',
					shown: 'Invalid Date',
				},
			],
		]);
	});

	describe('the reader and SheetJS read the same parts', () => {
		const text = (name: string, xml: string) => ({ name, data: Buffer.from(xml) });
		const inlineHeader =
			'<row r="1"><c r="A1" t="inlineStr"><is><t>coupon value</t></is></c></row>';
		const rels = (relationships: string) =>
			`<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">${relationships}</Relationships>`;
		const relationship = (id: string, type: string, target: string) =>
			`<Relationship Id="${id}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/${type}" Target="${target}"/>`;
		const manyRows = (count: number) =>
			sheet(
				Array.from(
					{ length: count },
					(_, i) => `<row r="${i + 1}"><c r="A${i + 1}"><v>${i + 1}</v></c></row>`,
				).join(''),
			);

		it('reads the workbook [Content_Types].xml names, not a decoy at xl/workbook.xml', async () => {
			const parts = workbookParts(sheet(header));
			parts[0] = text(
				'[Content_Types].xml',
				'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/xl/book2.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>',
			);
			parts.push(
				text(
					'xl/book2.xml',
					'<workbook xmlns:r="r"><sheets><sheet name="Real" sheetId="1" r:id="rId1"/></sheets></workbook>',
				),
				text(
					'xl/_rels/book2.xml.rels',
					rels(relationship('rId1', 'worksheet', 'worksheets/big.xml')),
				),
				{ name: 'xl/worksheets/big.xml', data: manyRows(5_000) },
			);
			const table = await readRaw(zip(parts), { ...options, leadingRows: 1, rowsAfter: 5 });
			expect(table.sheetName).toBe('Real');
			expect(table.rows).toHaveLength(6);
			expect(table.valueBeyond).toBe(7);
		});

		it('never lets SheetJS parse comments or other parts of the sheet', async () => {
			const parts = workbookParts(
				sheet(`${inlineHeader}<row r="2"><c r="A2" t="inlineStr"><is><t>X1</t></is></c></row>`),
			);
			const comments = Array.from(
				{ length: 20_000 },
				(_, i) => `<comment ref="B${i + 1}" authorId="0"><text><t>c${i}</t></text></comment>`,
			).join('');
			parts.push(
				text(
					'xl/worksheets/_rels/sheet1.xml.rels',
					rels(relationship('rId1', 'comments', '../comments1.xml')),
				),
				text(
					'xl/comments1.xml',
					`<comments><authors><author>a</author></authors><commentList>${comments}</commentList></comments>`,
				),
			);
			const table = await readSheet(zip(parts), options);
			expect(table.rows).toEqual([['coupon value'], ['X1']]);
		});

		it.each([
			[
				'a comment hiding a cell',
				'<row r="2"><!<c r="A2"><v>5</v></c><!</row>',
				/hold a comment, CDATA or processing instruction/,
			],
			[
				'an element named like a value',
				'<row r="2"><c r="A2"><v-x>1</v-x><v></v></c></row>',
				/hold a "v-x" element/,
			],
			[
				'a shared-text number that is not one',
				'<row r="2"><c r="A2" t="s"><v>3.0</v></c></row>',
				/refers to shared text "3\.0" by something other than its number/,
			],
			['a cell outside a row', '</row><c r="A3"><v>1</v></c>', /a cell outside a row/],
		])('refuses rows written with %s, which readers disagree on', async (_label, rows, message) => {
			const file = zip(
				workbookParts(sheet(`${header}${rows}`), sharedStrings(['coupon value', 'a', 'b', 'c'])),
			);
			await expect(readSheet(file, options)).rejects.toThrow(message);
		});

		it(
			'refuses a value or tag longer than any cell holds, without holding the sheet whole',
			async () => {
				const file = zip(
					workbookParts(
						sheet(`${inlineHeader}<row r="2"><c r="A2"><v>${'9'.repeat(5 * MIB)}</v></c></row>`),
					),
				);
				const limits = { maxTotalBytes: 50 * MIB, maxEntryBytes: 50 * MIB, maxRatio: 100_000 };
				await expect(readSheet(file, { ...options, limits })).rejects.toThrow(
					/holds a tag or value longer than 4 MB/,
				);
			},
			HEAVY_TEST_MS,
		);

		it.each([
			['two type attributes', '<c r="A2" t="n" t="s"><v>0</v></c>'],
			['an upper-case attribute name', '<c r="A2" T="s"><v>0</v></c>'],
			['an underscore in a name', '<c r="A2" t_x="s"><v>0</v></c>'],
			['an unquoted value', '<c r="A2" t=s><v>0</v></c>'],
			['spaces around =', '<c r="A2" t = "s"><v>0</v></c>'],
			['a < inside a value', '<c r="A2" x="<r/" t="s"><v>0</v></c>'],
			['a tag inside a tag', '<c <v>5</v></c>'],
			['an empty <v/>', '<c r="A2"><v/>5</c>'],
		])('refuses a cell written with %s, which SheetJS reads its own way', async (_label, cell) => {
			const file = zip(
				workbookParts(sheet(`${inlineHeader}<row r="2">${cell}</row>`), sharedStrings(['a', 'b'])),
			);
			await expect(readSheet(file, options)).rejects.toThrow(/cannot be read safely/);
		});

		it(
			'reports a boolean cell without <v> below the rows read, and leaves out rows without values',
			async () => {
				const valueRows = Array.from(
					{ length: 10 },
					(_, i) => `<row r="${i + 1}"><c r="A${i + 1}"><v>${i}</v></c></row>`,
				).join('');
				const beyond = zip(
					workbookParts(sheet(`${valueRows}<row r="30"><c r="A30" t="b"/></row>`)),
				);
				expect((await readRaw(beyond, { ...options, rowsAfter: 5 })).valueBeyond).toBe(30);

				// 300,000 formatted rows without a value before the only code: nothing of them is kept.
				const blank = Array.from(
					{ length: 300_000 },
					(_, i) => `<row r="${i + 2}"><c r="A${i + 2}" s="1"/></row>`,
				).join('');
				const file = zip(
					workbookParts(
						sheet(`${inlineHeader}${blank}<row r="300002"><c r="A300002"><v>7</v></c></row>`),
					),
				);
				const limits = { maxTotalBytes: 100 * MIB, maxEntryBytes: 100 * MIB, maxRatio: 10_000 };
				const table = await readRaw(file, { ...options, rowsAfter: 300_001, limits });
				expect(table.cell(table.rows[300_001]?.[0])).toBe('7');
				expect(table.rows.filter(Boolean)).toHaveLength(2);
			},
			HEAVY_TEST_MS,
		);

		it('counts a value in a last row left unclosed', async () => {
			const xml = Buffer.from(
				`<worksheet><sheetData>${inlineHeader}<row r="2"><c r="A2"><v>1</v></c></row><row r="3"><c r="A3"><v>1</v></c></row><row r="90"><c r="A90"><v>9</v></c></sheetData></worksheet>`,
			);
			const table = await readRaw(zip(workbookParts(xml)), {
				...options,
				leadingRows: 1,
				rowsAfter: 5,
			});
			expect(table.valueBeyond).toBe(90);
		});

		it('reads references beyond U+FFFF written with leading zeros', async () => {
			const file = zip(
				workbookParts(
					sheet(
						`${inlineHeader}<row r="2"><c r="A2" t="inlineStr"><is><t>&#x0001F600;&#00128512;</t></is></c></row>`,
					),
				),
			);
			expect((await readSheet(file, options)).rows[1]).toEqual(['😀😀']);
		});

		it('refuses cell styles larger than any spreadsheet program writes', async () => {
			const parts = workbookParts(sheet(inlineHeader));
			parts[0] = text(
				'[Content_Types].xml',
				'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>',
			);
			parts.push({ name: 'xl/styles.xml', data: Buffer.alloc(17 * MIB, ' ') });
			const limits = { maxTotalBytes: 100 * MIB, maxEntryBytes: 100 * MIB, maxRatio: 100_000 };
			await expect(readSheet(zip(parts), { ...options, limits })).rejects.toThrow(
				/cell styles take 17 MB, far more than a spreadsheet program writes \(at most 16 MB\)/,
			);
		});
	});
});
