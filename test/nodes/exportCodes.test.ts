import type { IBinaryData, IDataObject } from 'n8n-workflow';
import * as XLSX from '@e965/xlsx';
import { readCsv } from '../../nodes/shared/spreadsheet/readCsv';
import { nodeFailure } from '../helpers/executeFunctions';
import { contactCouponRuns, T0 } from '../helpers/contactCouponRuns';

const FIXED_COLUMNS = [
	'code',
	'status',
	'contact',
	'assigned at',
	'valid until',
	'redeemed at',
	'order reference',
];
const DATE_FORMAT = 'yyyy-mm-dd hh:mm:ss';
/** Day 0 of Excel's date serials (1900 date system, past its 1900 leap-year bug). */
const EXCEL_DAY_ZERO = Date.UTC(1899, 11, 30);
const DAY = 86_400_000;

const fileBytes = (file: IBinaryData) => Buffer.from(file.data, 'base64');

function codesSheet(file: IBinaryData): XLSX.WorkSheet {
	const workbook = XLSX.read(fileBytes(file), { type: 'buffer', cellNF: true });
	expect(workbook.SheetNames).toEqual(['Codes']);
	return workbook.Sheets.Codes;
}

/** The sheet's rows as Excel shows them, '' for an empty cell. */
const shownRows = (sheet: XLSX.WorkSheet) =>
	XLSX.utils.sheet_to_json<string[]>(sheet, { header: 1, defval: '', raw: false });

/** The CSV's rows as Coupon Import reads them (the ' before a formula-like cell taken off). */
async function csvRows(file: IBinaryData): Promise<string[][]> {
	const table = await readCsv(fileBytes(file), {
		leadingRows: 10,
		rowsAfter: 1_000,
		cellsPerRow: 20,
		limits: { maxTotalBytes: 2 ** 20, maxEntryBytes: 2 ** 20, maxRatio: 100 },
	});
	return table.rows.map((row) => (row ?? []).map((cell) => (table.cell(cell) as string) ?? ''));
}

/** Each row below the header as its non-empty cells by header. */
function records(rows: string[][]): Array<Record<string, string>> {
	const [header, ...below] = rows;
	return below.map((row) =>
		Object.fromEntries(row.flatMap((cell, c) => (cell === '' ? [] : [[header[c], cell]]))),
	);
}

const byCode = (a: string[], b: string[]) => a[0].localeCompare(b[0]);

describe('Contact Coupon', () => {
	const { run, generate, importFile } = contactCouponRuns();
	const exportCodes = async (
		couponName: string,
		status: string,
		options: IDataObject = {},
		timezone = 'UTC',
	) => (await run('exportCodes', [{}], { couponName, status, options }, { timezone })).output;

	describe('Export Codes', () => {
		it('writes every code with its status, holder and dates to an .xlsx file, dates as date cells', async () => {
			const [given] = await generate(['Ann@Example.com'], 'SPRING10');
			await run('redeem', [{}], { code: given, options: { orderReference: 'A-1' } });
			const { output } = await run('exportCodes', [{ keep: 'me' }], {
				couponName: 'spring10',
				status: 'all',
				options: {},
			});
			expect(output).toHaveLength(1);
			expect(output[0].json).toEqual({
				couponName: 'SPRING10',
				status: 'all',
				rows: 3,
				fileName: 'spring10-all-codes.xlsx',
				fileFormat: 'xlsx',
			});
			expect(output[0].pairedItem).toEqual({ item: 0 });
			const file = output[0].binary!.data;
			expect(file).toMatchObject({
				fileName: 'spring10-all-codes.xlsx',
				mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
			});
			const sheet = codesSheet(file);
			const rows = shownRows(sheet);
			expect(rows[0]).toEqual(FIXED_COLUMNS);
			expect(rows.slice(1).sort(byCode)).toEqual(
				['SPR-0001', 'SPR-0002', 'SPR-0003'].map((code) =>
					code === given
						? [
								code,
								'redeemed',
								'ann@example.com',
								'2026-04-10 08:00:00',
								'2026-05-10 08:00:00',
								'2026-04-10 08:00:00',
								'A-1',
							]
						: [code, 'available', '', '', '', '', ''],
				),
			);
			// Numbers Excel sorts and filters as dates: days since its day zero, in a date format.
			const row = rows.findIndex((cells) => cells[0] === given) + 1;
			expect(sheet[`D${row}`]).toMatchObject({
				t: 'n',
				v: (T0 - EXCEL_DAY_ZERO) / DAY,
				z: DATE_FORMAT,
			});
			expect(sheet[`E${row}`]).toMatchObject({ t: 'n', z: DATE_FORMAT });
			// An empty date is an empty cell.
			expect(sheet[`D${rows.findIndex((cells) => cells[1] === 'available') + 1}`]).toBe(undefined);
		});

		it("writes .xlsx dates in the workflow's time zone, across daylight-saving changes", async () => {
			const [given] = await generate(['ann@example.com'], 'SPRING10');
			// Valid through 2026-12-31 in Berlin: until midnight at the start of 2027-01-01, UTC+1.
			await importFile(
				Buffer.from('code,valid until\nWIN-1,2026-12-31\n'),
				{ couponName: 'SPRING10', options: { valueColumn: 'code', expiryColumn: 'valid until' } },
				{ timezone: 'Europe/Berlin' },
			);
			const [output] = await exportCodes('SPRING10', 'all', {}, 'Europe/Berlin');
			const rows = shownRows(codesSheet(output.binary!.data));
			// T0 is 08:00 UTC on 2026-04-10: 10:00 in Berlin's summer time.
			expect(rows.find((cells) => cells[0] === given)!.slice(3, 5)).toEqual([
				'2026-04-10 10:00:00',
				'2026-05-10 10:00:00',
			]);
			expect(rows.find((cells) => cells[0] === 'WIN-1')![4]).toBe('2027-01-01 00:00:00');
		});

		it('writes one status to CSV, neutralising what a spreadsheet would run as a formula', async () => {
			await generate(['=HYPERLINK("http://x.example","win")'], 'SPRING10');
			const { output } = await run('exportCodes', [{}], {
				couponName: 'SPRING10',
				status: 'active',
				options: { fileFormat: 'csv', fileName: 'active.csv', binaryPropertyName: 'codes' },
			});
			const file = output[0].binary!.codes;
			expect(file).toMatchObject({ fileName: 'active.csv', mimeType: 'text/csv' });
			const text = fileBytes(file).toString('utf8');
			expect(text.startsWith('\ufeffcode,status,contact,assigned at,')).toBe(true);
			const lines = text.slice(1).split('\r\n');
			expect(lines).toHaveLength(3);
			expect(lines[2]).toBe('');
			expect(lines[1]).toBe(
				`${lines[1].slice(0, 8)},active,"'=hyperlink(""http://x.example"",""win"")",2026-04-10T08:00:00.000Z,2026-05-10T08:00:00.000Z,,`,
			);
		});

		describe('details', () => {
			beforeEach(async () => {
				await importFile(Buffer.from('code,token,gift\nD-1,00123,\nD-2,=1+2,mug\nD-3,-5,\n'), {
					couponName: 'DEALS',
					options: {
						valueColumn: 'code',
						keepColumns: 'token, gift',
						couponDetails:
							'{ "discount": 12.5, "free shipping": true, "note": null, "Status": "vip", "balance": -5 }',
					},
				});
			});
			// The coupon's details and the codes' own, by name; "Status" is not the export's status.
			const header = [
				...FIXED_COLUMNS,
				'balance',
				'discount',
				'free shipping',
				'gift',
				'note',
				'Status (detail)',
				'token',
			];

			it('gives each detail a column in an .xlsx, numbers as number cells', async () => {
				const [output] = await exportCodes('DEALS', 'available');
				const sheet = codesSheet(output.binary!.data);
				const rows = shownRows(sheet);
				const unused = ['available', '', '', '', '', ''];
				expect(rows).toEqual([
					header,
					['D-1', ...unused, '-5', '12.5', 'true', '', '', 'vip', '00123'],
					['D-2', ...unused, '-5', '12.5', 'true', 'mug', '', 'vip', '=1+2'],
					['D-3', ...unused, '-5', '12.5', 'true', '', '', 'vip', '-5'],
				]);
				expect(sheet.H2).toMatchObject({ t: 'n', v: -5 });
				expect(sheet.I2).toMatchObject({ t: 'n', v: 12.5 });
				expect(sheet.J2).toMatchObject({ t: 's', v: 'true' });
				expect(sheet.L2).toBe(undefined);
				expect(sheet.N2).toMatchObject({ t: 's', v: '00123' });
				expect(sheet.N3).toMatchObject({ t: 's', v: '=1+2' });
				expect(sheet.N3.f).toBe(undefined);
			});

			it("gives each detail a column in a CSV, with a ' only before text a spreadsheet would run", async () => {
				const [output] = await exportCodes('DEALS', 'available', { fileFormat: 'csv' });
				const text = fileBytes(output.binary!.data).toString('utf8');
				expect(text.slice(1).split('\r\n')).toEqual([
					header.join(','),
					'D-1,available,,,,,,-5,12.5,true,,,vip,00123',
					"D-2,available,,,,,,-5,12.5,true,mug,,vip,'=1+2",
					"D-3,available,,,,,,-5,12.5,true,,,vip,'-5",
					'',
				]);
			});
		});

		it.each(['xlsx', 'csv'])(
			'writes a .%s that Coupon Import with Keep Columns reads back: the same codes, details and expiries',
			async (fileFormat) => {
				const berlin = { timezone: 'Europe/Berlin' };
				const list = [
					'code,valid until,token,minimum order',
					// Through that day: until midnight in Berlin.
					'R-1,2026-12-31,00123,50',
					// In the hour Berlin's clocks repeat (read as the later one), with seconds.
					'R-2,2026-10-25 02:30:15,=1+2,',
					'R-3,2026-06-30T18:00:30Z,-5,12.50',
					'R-4,,x y,',
				];
				await importFile(
					Buffer.from(list.join('\n')),
					{
						couponName: 'SHOP',
						options: {
							valueColumn: 'code',
							expiryColumn: 'valid until',
							keepColumns: 'token, minimum order',
							couponDetails: '{ "discount": 12.5, "free shipping": true, "note": null }',
						},
					},
					berlin,
				);
				const [exported] = await exportCodes('SHOP', 'available', { fileFormat }, 'Europe/Berlin');
				const [imported] = await importFile(
					fileBytes(exported.binary!.data),
					{
						couponName: 'COPY',
						options: {
							valueColumn: 'code',
							expiryColumn: 'valid until',
							keepColumns: 'discount, free shipping, note, token, minimum order',
						},
					},
					berlin,
				);
				expect(imported.json).toMatchObject({ couponName: 'COPY', added: 4, invalid: 0 });

				// Both coupons as CSV: moments to the millisecond, details as the text they show.
				const asCsv = async (couponName: string) =>
					records(
						await csvRows(
							(await exportCodes(couponName, 'available', { fileFormat: 'csv' }))[0].binary!.data,
						),
					);
				const original = await asCsv('SHOP');
				expect(original).toEqual([
					{
						code: 'R-1',
						status: 'available',
						'valid until': '2026-12-31T23:00:00.000Z',
						discount: '12.5',
						'free shipping': 'true',
						token: '00123',
						'minimum order': '50',
					},
					{
						code: 'R-2',
						status: 'available',
						'valid until': '2026-10-25T01:30:15.000Z',
						discount: '12.5',
						'free shipping': 'true',
						token: '=1+2',
					},
					{
						code: 'R-3',
						status: 'available',
						'valid until': '2026-06-30T18:00:30.000Z',
						discount: '12.5',
						'free shipping': 'true',
						token: '-5',
						'minimum order': '12.50',
					},
					{
						code: 'R-4',
						status: 'available',
						discount: '12.5',
						'free shipping': 'true',
						token: 'x y',
					},
				]);
				expect(await asCsv('COPY')).toEqual(original);
			},
		);

		it('writes a file Coupon Import reads back', async () => {
			await generate(['ann'], 'SPRING10');
			const { output } = await run('exportCodes', [{}], {
				couponName: 'SPRING10',
				status: 'available',
				options: {},
			});
			const imported = await importFile(fileBytes(output[0].binary!.data), {
				couponName: 'COPY',
				options: { valueColumn: 'code' },
			});
			expect(imported[0].json).toMatchObject({ couponName: 'COPY', added: 2, invalid: 0 });
		});

		it('refuses an unknown coupon or status, naming the item', async () => {
			const unknown = await nodeFailure(
				run('exportCodes', [{}], { couponName: 'SPRNG10', status: 'all', options: {} }),
			);
			expect(unknown.message).toBe('No coupon is named "SPRNG10". The closest is "SPRING10".');
			const status = await nodeFailure(
				run('exportCodes', [{}, {}], {
					couponName: 'SPRING10',
					status: (i: number) => ['all', 'used'][i],
					options: {},
				}),
			);
			expect(status.message).toBe('Unknown choice "used" for Status');
			expect((status as unknown as IDataObject).context).toMatchObject({ itemIndex: 1 });
		});
	});
});
