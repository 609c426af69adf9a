import fc from 'fast-check';
import type { ReadOptions } from '../../nodes/shared/spreadsheet/readOptions';
import { openTable } from '../../nodes/shared/spreadsheet/readTable';
import { openCsvPieces } from '../../nodes/shared/spreadsheet/readCsv';
import { Turns } from '../../nodes/shared/core/common/turns';
import { wholeTable } from '../../nodes/shared/core/import/sheetRows';
import { xlsx } from '../helpers/spreadsheets';
import { HEAVY_TEST_MS } from '../helpers/timeouts';

const MIB = 1024 * 1024;
const options: ReadOptions = {
	leadingRows: 10,
	rowsAfter: 100_000,
	limits: { maxTotalBytes: 50 * MIB, maxEntryBytes: 50 * MIB, maxRatio: 100 },
};

/** The file cut into pieces of these sizes, in turn, as a stream hands it over. */
async function* chunked(file: Buffer, sizes: number[], pulled = { bytes: 0, closed: false }) {
	try {
		for (let at = 0, i = 0; at < file.length; i++) {
			const piece = file.subarray(at, at + sizes[i % sizes.length]);
			at += piece.length;
			pulled.bytes += piece.length;
			yield piece;
		}
	} finally {
		pulled.closed = true;
	}
}

/** What the reader makes of the file: its rows as the import reads them, or its refusal. */
async function outcome(file: Buffer | AsyncIterable<Buffer>, readOptions = options) {
	try {
		const table = await wholeTable(await openTable(file, readOptions));
		return {
			rows: table.rows.map((row) => row && Array.from(row, (raw) => table.cell(raw))),
			valueBeyond: table.valueBeyond,
		};
	} catch (error) {
		return { refused: (error as Error).message };
	}
}

const rows = (count: number, row: (i: number) => string) =>
	Array.from({ length: count }, (_, i) => row(i)).join('');
const utf8 = (text: string) => Buffer.from(text, 'utf8');
const BOM8 = Buffer.from([0xef, 0xbb, 0xbf]);
const header = 'coupon name,coupon value\n';
/** Multi-byte characters, quotes, a line break inside a quote: well past the first 64 KB. */
const varied = rows(
	4_000,
	(i) => `Café €${i % 7} 😀,"C-${i} ""x""${i % 500 === 0 ? '\nline' : ''}"\n`,
);

const utf16 = (text: string, bigEndian: boolean) => {
	const little = Buffer.from(`\ufeff${text}`, 'utf16le');
	return bigEndian ? little.swap16() : little;
};
const withBytesAt = (file: Buffer, at: number, bytes: number[]) =>
	Buffer.concat([file.subarray(0, at), Buffer.from(bytes), file.subarray(at)]);

const FILES: Array<[string, Buffer]> = [
	['UTF-8', utf8(header + varied)],
	[
		'UTF-8 with a byte order mark and CRLF',
		Buffer.concat([BOM8, utf8((header + varied).replace(/\n/g, '\r\n'))]),
	],
	['UTF-16LE, tab separated', utf16(header.replace(',', '\t') + varied.replace(/,/g, '\t'), false)],
	['UTF-16BE, tab separated', utf16(header.replace(',', '\t') + varied.replace(/,/g, '\t'), true)],
	['UTF-8 holding U+FFFD itself', utf8(`${header + varied}Spring,X\ufffdY\n`)],
	[
		'UTF-8 with a byte it does not allow, past the start',
		withBytesAt(utf8(header + varied), 150_001, [0xff]),
	],
	['UTF-8 cut inside its last character', utf8(`${header + varied}Spring,X€`).subarray(0, -1)],
	['UTF-8 with a quote that never closes', utf8(`${header + varied}Spring,"open\n`)],
];

const REFUSED = new Set([
	'UTF-8 with a byte it does not allow, past the start',
	'UTF-8 cut inside its last character',
	'UTF-8 with a quote that never closes',
]);

describe('a CSV file read as a stream, as n8n hands over a file it keeps on disk', () => {
	it.each(FILES)(
		'%s: reads the same rows, or refuses the same way, however the stream cuts it',
		async (name, file) => {
			const whole = await outcome(file);
			expect('refused' in whole).toBe(REFUSED.has(name));
			await fc.assert(
				fc.asyncProperty(
					fc.array(fc.integer({ min: 1, max: 70_000 }), { minLength: 1, maxLength: 6 }),
					async (sizes) => {
						expect(await outcome(chunked(file, sizes))).toEqual(whole);
					},
				),
				{ numRuns: 8 },
			);
			// Cut byte by byte around the start: the byte order mark and the first characters split.
			expect(await outcome(chunked(file, [1, 2, 3, 65_536]))).toEqual(whole);
		},
		HEAVY_TEST_MS,
	);

	it('reads only as far as the rows it needs, and closes the stream', async () => {
		const file = utf8(header + rows(400_000, (i) => `Spring,CODE-${i}\n`));
		const pulled = { bytes: 0, closed: false };
		const readOptions = { ...options, rowsAfter: 1_000 };
		const read = await outcome(chunked(file, [16_384], pulled), readOptions);
		expect(read).toEqual(await outcome(file, readOptions));
		expect(read.rows).toHaveLength(1_010);
		expect(file.length).toBeGreaterThan(7 * MIB);
		expect(pulled.bytes).toBeLessThan(200_000);
		expect(pulled.closed).toBe(true);
	});

	it('reads an .xlsx file whole, and refuses what is no spreadsheet from its first bytes', async () => {
		const workbook = xlsx({
			Sheet1: [
				['coupon name', 'coupon value'],
				...Array.from({ length: 30_000 }, (_, i) => ['Spring', `W${i * 7919}`]),
			],
		});
		expect(workbook.length).toBeGreaterThan(70_000);
		expect(await outcome(chunked(workbook, [4_096]))).toEqual(await outcome(workbook));
		const binary = Buffer.concat([
			Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2]),
			Buffer.alloc(5 * MIB),
		]);
		const pulled = { bytes: 0, closed: false };
		expect(await outcome(chunked(binary, [65_536], pulled))).toEqual(await outcome(binary));
		expect(pulled.bytes).toBeLessThan(200_000);
		expect(pulled.closed).toBe(true);
	});
	it('passes the event loop its turn within a chunk of megabytes, a piece at a time', async () => {
		/** A turn always due: counts the chances the reader takes to pass it. */
		class EveryPiece extends Turns {
			passed = 0;
			due = () => true;
			pass = async () => {
				this.passed++;
			};
		}
		const file = utf8(header + rows(200_000, (i) => `Spring,CODE-${i}\n`));
		const turns = new EveryPiece();
		const table = await wholeTable(
			await openCsvPieces(
				file,
				chunked(file, [file.length]),
				{ ...options, rowsAfter: 300_000 },
				turns,
			),
		);
		expect(table.rows).toHaveLength(200_001);
		// One chance per 64 KiB piece, not one for the whole chunk.
		expect(turns.passed).toBeGreaterThanOrEqual(Math.floor(file.length / 65_536));
	});
});
