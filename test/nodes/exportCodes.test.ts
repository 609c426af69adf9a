import type { IBinaryData, IDataObject } from 'n8n-workflow';
import * as XLSX from '@e965/xlsx';
import { nodeFailure } from '../helpers/executeFunctions';
import { contactCouponRuns, iso, T0 } from '../helpers/contactCouponRuns';

const HEADER = [
	'code',
	'status',
	'contact',
	'assigned at',
	'valid until',
	'redeemed at',
	'order reference',
	'details',
];

function sheetRows(file: IBinaryData): string[][] {
	const workbook = XLSX.read(Buffer.from(file.data, 'base64'), { type: 'buffer' });
	expect(workbook.SheetNames).toEqual(['Codes']);
	return XLSX.utils.sheet_to_json<string[]>(workbook.Sheets.Codes, { header: 1, defval: '' });
}

describe('Contact Coupon', () => {
	const { run, generate, importFile } = contactCouponRuns();

	describe('Export Codes', () => {
		it('writes every code with its status, holder and dates to an .xlsx file', async () => {
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
			const rows = sheetRows(file);
			expect(rows[0]).toEqual(HEADER);
			expect(rows.slice(1).sort((a, b) => a[0].localeCompare(b[0]))).toEqual(
				['SPR-0001', 'SPR-0002', 'SPR-0003'].map((code) =>
					code === given
						? [
								code,
								'redeemed',
								'ann@example.com',
								iso(T0),
								iso(T0 + 30 * 86_400_000),
								iso(T0),
								'A-1',
								'',
							]
						: [code, 'available', '', '', '', '', '', ''],
				),
			);
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
			const text = Buffer.from(file.data, 'base64').toString('utf8');
			expect(text.startsWith('\ufeffcode,status,contact,assigned at,')).toBe(true);
			const lines = text.slice(1).split('\r\n');
			expect(lines).toHaveLength(3);
			expect(lines[2]).toBe('');
			expect(lines[1]).toMatch(
				/^SPR-000\d,active,"'=hyperlink\(""http:\/\/x\.example"",""win""\)",2026-/,
			);
		});

		it('writes a file Coupon Import reads back', async () => {
			await generate(['ann'], 'SPRING10');
			const { output } = await run('exportCodes', [{}], {
				couponName: 'SPRING10',
				status: 'available',
				options: {},
			});
			const imported = await importFile(Buffer.from(output[0].binary!.data.data, 'base64'), {
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
