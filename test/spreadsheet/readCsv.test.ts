import type { ReadOptions } from '../../nodes/shared/spreadsheet/readOptions';
import { planOf } from '../helpers/imports';
import { readTable as readRaw } from '../../nodes/shared/spreadsheet/readTable';
import { MAX_CSV_CELL } from '../../nodes/shared/spreadsheet/readCsv';
import { openTable } from '../../nodes/shared/spreadsheet/readTable';
import { CouponError } from '../../nodes/shared/core/common/errors';
import { type ImportSettings } from '../../nodes/shared/core/import/importTypes';
import { HEAVY_TEST_MS } from '../helpers/timeouts';

const MIB = 1024 * 1024;
const options: ReadOptions = {
	leadingRows: 10,
	rowsAfter: 1000,
	limits: { maxTotalBytes: 50 * MIB, maxEntryBytes: 50 * MIB, maxRatio: 100 },
};

/** The file's table with every cell as the import reads it. */
async function read(text: string | Buffer, readOptions = options) {
	const table = await readRaw(
		typeof text === 'string' ? Buffer.from(text, 'utf8') : text,
		readOptions,
	);
	return {
		sheetName: table.sheetName,
		rows: table.rows.map((row) => row && Array.from(row, (raw) => table.cell(raw))),
		valueBeyond: table.valueBeyond,
	};
}

const settings: ImportSettings = {
	withdraw: false,
	nameColumn: 'coupon name',
	valueColumn: 'coupon value',
	maxRows: 1000,
	maxNewCoupons: 10,
	usesPerCode: 1,
	now: 0,
};

/** What the import makes of the file: the codes of each coupon, and the rows it rejects. */
async function plan(text: string, planSettings: Partial<ImportSettings> = {}) {
	const { pools, file } = await planOf(await readRaw(Buffer.from(text), options), {
		...settings,
		...planSettings,
	});
	return {
		codes: pools.map((pool) => [pool.name, pool.candidates.map((candidate) => candidate.code)]),
		rejected: [...file.rejectedRows, ...pools.flatMap((pool) => pool.rejected)],
		file,
	};
}

async function refusal(text: string | Buffer, readOptions = options): Promise<CouponError> {
	try {
		await read(text, readOptions);
	} catch (error) {
		if (error instanceof CouponError) return error;
		throw error;
	}
	throw new Error('not refused');
}

describe('CSV files', () => {
	it.each([
		['commas', 'coupon name,coupon value\r\nSPRING,A-1\r\nSPRING,A-2\r\n'],
		['semicolons', 'coupon name;coupon value\nSPRING;A-1\nSPRING;A-2\n'],
		['tabs', 'coupon name\tcoupon value\rSPRING\tA-1\rSPRING\tA-2'],
		['a byte order mark', '\ufeffcoupon name,coupon value\nSPRING,A-1\nSPRING,A-2'],
	])('reads a file separated by %s', async (_label, text) => {
		expect(await read(text)).toEqual({
			sheetName: 'CSV',
			rows: [
				['coupon name', 'coupon value'],
				['SPRING', 'A-1'],
				['SPRING', 'A-2'],
			],
			valueBeyond: undefined,
		});
	});

	it('reads quoted fields with delimiters, quotes and line breaks inside, and keeps codes as written', async () => {
		const text =
			'code;note\n"007";"a ""quoted""; note"\n"X-2";"two\r\nlines"\n   ;\n\'=SUM(1);plain\n=1+1;x\n';
		expect((await read(text)).rows).toEqual([
			['code', 'note'],
			['007', 'a "quoted"; note'],
			['X-2', 'two\r\nlines'],
			[undefined, undefined],
			['=SUM(1)', 'plain'],
			['=1+1', 'x'],
		]);
	});

	it('reads a cell past the end of a short row as empty', async () => {
		const table = await readRaw(Buffer.from('code,coupon,token\nA-1\n'), options);
		expect(table.rows[1]).toEqual(['A-1']);
		expect(table.cell(table.rows[1]?.[2])).toBeUndefined();
	});

	it('rejects a row that does not line up with the header, with its reason, and reads the others', async () => {
		const text = [
			'coupon name,coupon value,token',
			'SPRING,A-1,t1',
			'SPRING',
			'SPRING,A-3',
			'A-4',
			'SPRING,A-5,t5,extra',
			'SPRING,A-6,t6,,',
			'',
			'SPRING,A-8,t8',
		].join('\n');
		const { codes, rejected, file } = await plan(text);
		expect(codes).toEqual([['SPRING', ['A-1', 'A-6', 'A-8']]]);
		expect(rejected).toEqual([
			{ row: 3, value: '', reason: 'has 1 field, the header has 3' },
			{ row: 5, value: '', reason: 'has 1 field, the header has 3' },
			{ row: 4, value: 'A-3', reason: 'has 2 fields, the header has 3' },
			{
				row: 6,
				value: 'A-5',
				reason: 'has 4 fields, the header has 3 (a field holding a comma needs quotes)',
			},
		]);
		expect(file).toMatchObject({ blankRows: 1, rowsWithoutValue: 2, rowsWithoutCoupon: 0 });
		// Into one coupon, a short row is rejected too: its fields may have moved to other columns.
		expect((await plan('coupon value,note\nA-1\nA-2,x', { couponName: 'S' })).rejected).toEqual([
			{ row: 2, value: 'A-1', reason: 'has 1 field, the header has 2' },
		]);
		// A header ending in a delimiter names no column there: rows without that field line up.
		expect((await plan('coupon name;coupon value;\nS;A-1\nS;A-2;x\n')).codes).toEqual([
			['S', ['A-1', 'A-2']],
		]);
	});

	it.each([
		[
			'coupon name,coupon value\nSPRING;A-1\nSPRING;A-2\n',
			"The CSV file's header (row 1) is separated by commas, but the rows below it by semicolons, so no row lines up with the header",
			'Use one delimiter throughout: separate the header by semicolons too, or save the file again from the spreadsheet program as "CSV UTF-8".',
		],
		[
			'\r\ncoupon name;coupon value;token\r\nSPRING,A-1,t\r\n\r\nSPRING,A-2,t\r\n',
			"The CSV file's header (row 2) is separated by semicolons, but the rows below it by commas, so no row lines up with the header",
			'Use one delimiter throughout: separate the header by commas too, or save the file again from the spreadsheet program as "CSV UTF-8".',
		],
		[
			'coupon value\tnote\nA-1,x\n',
			"The CSV file's header (row 1) is separated by tabs, but the rows below it by commas, so no row lines up with the header",
			'Use one delimiter throughout: separate the header by commas too, or save the file again from the spreadsheet program as "CSV UTF-8".',
		],
	])(
		'refuses a header separated by one delimiter over rows separated by another: %j',
		async (text, message, description) => {
			expect(await refusal(text)).toMatchObject({ message, description });
		},
	);

	it('reads rows that hold another delimiter inside their fields, or below a one-column header', async () => {
		expect((await read('code;amount\nA-1;10,5\nA-2;7,25\n')).rows).toEqual([
			['code', 'amount'],
			['A-1', '10,5'],
			['A-2', '7,25'],
		]);
		// A header of one column has no delimiter to differ from the rows': they are read whole.
		expect((await read('code\nA;1\nB;2\n')).rows).toEqual([['code'], ['A;1'], ['B;2']]);
	});

	it('reads a file cut into pieces anywhere: a quote, a line end or a character split between them', async () => {
		// Multi-byte characters and a CR LF straddle the 64 KiB pieces the reader decodes.
		const filler = 'é'.repeat(32_760);
		const text = `code,note\r\n"A""1","${filler}"\r\nB-2,ü\r\n`;
		const { rows } = await read(text);
		expect(rows).toEqual([
			['code', 'note'],
			['A"1', filler],
			['B-2', 'ü'],
		]);
	});

	describe('a byte that is not UTF-8', () => {
		const PIECE = 64 * 1024;
		const allRows = { ...options, rowsAfter: 1_000_000 };
		/** `before` as UTF-8, then one byte UTF-8 does not allow (é in Latin-1), then more rows. */
		const withBadByte = (before: string) =>
			Buffer.concat([Buffer.from(before), Buffer.from([0xe9]), Buffer.from('\nZ-1\nZ-2\n')]);

		it(
			'is refused naming its row, deep in a long file, past quoted line breaks',
			async () => {
				// Rows of varying length, so that no piece starts at a row; 3 line breaks inside quotes.
				const rows = Array.from({ length: 10_000 }, (_, i) => `C-${'x'.repeat(i % 13)}${i}`);
				rows[500] = '"a quoted\r\ncode, with\ntwo line breaks"';
				rows[7000] = '"and one\rmore"';
				const text = `code\n${rows.join('\n')}\nC-ü`;
				expect((await refusal(withBadByte(text), allRows)).message).toBe(
					'The CSV file is not UTF-8 text: row 10,002 (line 10,005 of the file) holds bytes UTF-8 does not allow',
				);
			},
			HEAVY_TEST_MS,
		);

		it.each([PIECE - 2, PIECE - 1, PIECE, PIECE + 1, 2 * PIECE, 3 * PIECE - 1])(
			'is refused naming its row at byte %i, around the 64 KiB pieces the file is decoded in',
			async (at) => {
				// The bad byte comes right after a 2-byte character, which the boundary cuts at PIECE + 1.
				const before = `code\n${'A-1\n'.repeat(Math.floor((at - 7) / 4))}`;
				const text = `${before}${'B'.repeat(at - Buffer.byteLength(before) - 2)}é`;
				const file = withBadByte(text);
				expect(file[at]).toBe(0xe9);
				const row = text.split('\n').length;
				expect((await refusal(file, allRows)).message).toBe(
					`The CSV file is not UTF-8 text: row ${row.toLocaleString('en-US')} holds bytes UTF-8 does not allow`,
				);
			},
		);

		it('is refused when a character is cut short at the end of the file', async () => {
			const file = Buffer.concat([Buffer.from('code\nA-1\n\nA-'), Buffer.from([0xc3])]);
			expect((await refusal(file)).message).toBe(
				'The CSV file is not UTF-8 text: row 4 holds bytes UTF-8 does not allow',
			);
		});

		it('is not looked for past the rows the import reads, and U+FFFD written in UTF-8 is a character', async () => {
			const text = `code\nA-\ufffd\n${'B\n'.repeat(PIECE)}`;
			const table = await read(withBadByte(text), { ...options, leadingRows: 2, rowsAfter: 3 });
			expect(table.rows).toEqual([['code'], ['A-\ufffd'], ['B'], ['B'], ['B']]);
			expect(table.valueBeyond).toBe(6);
		});
	});

	describe('UTF-16 with a byte order mark', () => {
		const PIECE = 64 * 1024;
		const utf16le = (text: string) =>
			Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
		const utf16be = (text: string) =>
			Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(text, 'utf16le').swap16()]);

		it.each([
			['little-endian, as Excel saves "Unicode Text"', utf16le],
			['big-endian', utf16be],
		])('is read %s, tab separated, as UTF-8 is', async (_label, encode) => {
			const text =
				'coupon name\tcoupon value\r\nSPRING\t"A ""1"""\r\nÉTÉ 😀\tB-\ufffd\r\n"two\r\nlines"\tC-3\r\n';
			expect((await read(encode(text))).rows).toEqual([
				['coupon name', 'coupon value'],
				['SPRING', 'A "1"'],
				['ÉTÉ 😀', 'B-\ufffd'],
				['two\r\nlines', 'C-3'],
			]);
		});

		it('is read whatever the 64 KiB pieces cut: a character of two code units, a quote', async () => {
			const filler = 'x'.repeat(PIECE / 2 - 20);
			for (let shift = 0; shift < 4; shift++) {
				const text = `code\tnote\r\nA-1\t"${filler}${'y'.repeat(shift)}😀"""\r\nB-2\tü\r\n`;
				expect((await read(utf16le(text))).rows).toEqual([
					['code', 'note'],
					['A-1', `${filler}${'y'.repeat(shift)}😀"`],
					['B-2', 'ü'],
				]);
			}
		});

		it('is refused with the same errors as UTF-8, naming the row of a broken character', async () => {
			const rows = `code\r\n${'A-1\r\n'.repeat(20_000)}`;
			const broken = Buffer.concat([utf16le(rows), Buffer.from([0x00, 0xd8]), utf16le('\r\n')]);
			const allRows = { ...options, rowsAfter: 100_000 };
			expect((await refusal(broken, allRows)).message).toBe(
				'The CSV file is not UTF-16 text: row 20,002 holds bytes UTF-16 does not allow',
			);
			const odd = Buffer.concat([utf16le('code\nA-1\n'), Buffer.from([0x41])]);
			expect((await refusal(odd)).message).toBe(
				'The CSV file is not UTF-16 text: row 3 holds bytes UTF-16 does not allow',
			);
			expect((await refusal(utf16be('code\n"A-1\nB-2\n'))).message).toBe(
				'Row 2 of the CSV file opens a quote that never closes',
			);
			const header = Array.from({ length: 50 }, (_, i) => `c${i}`).join('\t');
			const wide = await refusal(utf16le(`${header}\n`), {
				...options,
				leadingRows: 1,
				rowsAfter: 2,
			});
			expect(wide.message).toMatch(/^The CSV file has more than 12 cells in the 3 rows/);
		});
	});

	it('keeps the rows the import reads, and names the first row with a value beyond them', async () => {
		const lines = ['code', ...Array.from({ length: 30 }, (_, i) => `C${i}`), '', '', 'LATE', ''];
		const table = await read(lines.join('\n'), { ...options, leadingRows: 2, rowsAfter: 5 });
		expect(table.rows).toHaveLength(7);
		expect(table.valueBeyond).toBe(8);
		// Blank lines do not fill memory: only as many rows as the import could use are kept.
		const blanks = await read(`code\n${'\n'.repeat(100_000)}LATE\n`, {
			...options,
			leadingRows: 2,
			rowsAfter: 5,
		});
		expect(blanks.rows.length).toBeLessThanOrEqual(7);
		expect(blanks.valueBeyond).toBe(100_002);
	});

	it('refuses what it cannot read, saying what to do', async () => {
		expect((await refusal('code\n"A-1\nB-2\n')).message).toBe(
			'Row 2 of the CSV file opens a quote that never closes',
		);
		expect((await refusal(`code\n"${'x'.repeat(MAX_CSV_CELL + 1)}"\n`)).message).toMatch(
			/^Row 2 of the CSV file has a cell longer than 32,767 characters, inside a quote/,
		);
		const latin1 = Buffer.concat([
			Buffer.from(`code\n${'A\n'.repeat(5000)}`),
			Buffer.from([0x43, 0xe9, 0x0a]),
		]);
		const notUtf8 = await refusal(latin1, { ...options, rowsAfter: 10_000 });
		expect(notUtf8.message).toBe(
			'The CSV file is not UTF-8 text: row 5,002 holds bytes UTF-8 does not allow',
		);
		expect(notUtf8.description).toMatch(/CSV UTF-8/);
		const wide = await refusal(`${Array.from({ length: 50 }, (_, i) => `c${i}`).join(',')}\n`, {
			...options,
			leadingRows: 1,
			rowsAfter: 2,
		});
		expect(wide.message).toMatch(/^The CSV file has more than 12 cells in the 3 rows/);
	});

	it(
		'reads a million-row file only as far as the rows asked for: what follows is never parsed',
		async () => {
			const text = `code\n${Array.from({ length: 1_000_000 }, (_, i) => `CODE-${i}`).join('\n')}\n`;
			// Past the rows asked for, a byte that is not UTF-8 and a quote that never closes: read,
			// either would refuse the file.
			const file = Buffer.concat([Buffer.from(text), Buffer.from([0xff]), Buffer.from('"open')]);
			const table = await read(file, { ...options, leadingRows: 10, rowsAfter: 100 });
			expect(table.rows).toHaveLength(110);
			expect(table.valueBeyond).toBe(111);
		},
		HEAVY_TEST_MS,
	);

	describe('streamed in batches of 20,000 rows', () => {
		const streamed = async (text: string, maxRows: number, couponName?: string) => {
			const rowsRead = { ...options, rowsAfter: maxRows + 1 };
			const table = await openTable(Buffer.from(text, 'utf8'), rowsRead);
			return await planOf(table, {
				...settings,
				maxRows,
				...(couponName ? { couponName } : {}),
			});
		};
		const codes = (from: number, to: number) =>
			Array.from({ length: to - from + 1 }, (_, i) => `C${from + i}`).join('\n');

		it(
			'refuses a list longer than Max Rows naming the first row past those read, in any batch',
			async () => {
				await expect(streamed(`coupon value\n${codes(1, 99)}\n`, 50, 'L')).rejects.toThrow(
					'Sheet "CSV" has more than 50 rows below its header, the limit set in Max Rows (it has a value in row 62)',
				);
				await expect(streamed(`coupon value\n${codes(1, 30_020)}\n`, 30_000, 'L')).rejects.toThrow(
					'the limit set in Max Rows (it has a value in row 30,012)',
				);
			},
			HEAVY_TEST_MS,
		);

		it(
			'refuses a list without header that has a second column, even in a batch past Max Rows',
			async () => {
				const rows = codes(1, 30_020).split('\n');
				rows[24_999] += ',stray';
				await expect(streamed(`${rows.join('\n')}\n`, 30_000, 'L')).rejects.toThrow(
					'No "coupon value" column in sheet "CSV"',
				);
			},
			HEAVY_TEST_MS,
		);
	});
});
