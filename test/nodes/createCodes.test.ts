import type { IDataObject } from 'n8n-workflow';
import * as XLSX from '@e965/xlsx';
import { codeKey } from '../../nodes/shared/core/codes/codes';
import { nodeFailure } from '../helpers/executeFunctions';
import { contactCouponRuns } from '../helpers/contactCouponRuns';

describe('Contact Coupon', () => {
	const { run, generate, importFile } = contactCouponRuns();

	describe('Create Codes', () => {
		it('outputs a summary by default, the codes as items when asked, and the codes go to contacts as a list', async () => {
			const made = await run('createCodes', [{ trigger: 'manual' }], {
				couponName: 'Shop10',
				count: '3',
				length: 8,
				options: {
					pattern: 'SHOP-####-???',
					checkCharacter: true,
					couponDetails: '{"discount": "10%"}',
				},
			});
			expect(made.output).toEqual([
				{
					json: {
						couponName: 'Shop10',
						created: 3,
						createdCoupon: true,
						poolSize: 3,
						available: 3,
						usesPerCode: 1,
						usesPerCustomer: null,
					},
					binary: undefined,
					pairedItem: { item: 0 },
				},
			]);
			const listed = await run('createCodes', [{ a: 1 }, { b: 2 }], {
				couponName: 'shop10',
				count: 2,
				length: 8,
				options: { pattern: 'SHOP-####-???', checkCharacter: true, output: 'codes' },
			});
			expect(listed.output.map((item) => [item.json.couponName, item.pairedItem])).toEqual([
				['Shop10', { item: 0 }],
				['Shop10', { item: 0 }],
				['Shop10', { item: 1 }],
				['Shop10', { item: 1 }],
			]);
			const codes = listed.output.map((item) => item.json.code as string);
			for (const code of codes) expect(code).toMatch(/^SHOP-[2-9]{4}-[A-Z]{3}[2-9A-Z]$/);
			expect(new Set(codes).size).toBe(4);

			const given = await generate(['a', 'b', 'c', 'd', 'e', 'f', 'g'], 'SHOP10');
			expect(new Set(given).size).toBe(7);
			expect(given.filter((code) => codes.includes(code))).toHaveLength(4);
			const error = await nodeFailure(generate(['h'], 'SHOP10'));
			expect(error.message).toMatch(/^Coupon "Shop10" has no unused codes left: 7 assigned/);
			expect(error.description).toBe(
				'Import more codes into this coupon with the Coupon Import node, make more with Create Codes, or use another coupon name.',
			);
		});

		it('outputs the summary with the new codes as a spreadsheet a shop or Coupon Import can read', async () => {
			const { output } = await run('createCodes', [{}], {
				couponName: 'SHOP',
				count: 4,
				length: 8,
				options: { output: 'file', fileFormat: 'xlsx' },
			});
			expect(output[0].json).toMatchObject({ couponName: 'SHOP', created: 4 });
			const file = output[0].binary!.data;
			expect(file.fileName).toBe('SHOP-new-codes.xlsx');
			const workbook = XLSX.read(Buffer.from(file.data, 'base64'), { type: 'buffer' });
			const rows = XLSX.utils.sheet_to_json<string[]>(workbook.Sheets.Codes, { header: 1 });
			expect(rows[0]).toEqual(['code', 'coupon name']);
			expect(rows.slice(1).map((row) => row[1])).toEqual(['SHOP', 'SHOP', 'SHOP', 'SHOP']);
			const imported = await importFile(Buffer.from(file.data, 'base64'), {
				couponName: 'SHOP',
				options: { valueColumn: 'code' },
			});
			expect(imported[0].json).toMatchObject({ added: 0, duplicates: 4 });
			const csv = await run('createCodes', [{}], {
				couponName: 'SHOP',
				count: 2,
				length: 8,
				options: { output: 'file', fileFormat: 'csv', binaryPropertyName: 'upload' },
			});
			const text = Buffer.from(csv.output[0].binary!.upload.data, 'base64').toString('utf8');
			expect(text).toMatch(/^\ufeffcode,coupon name\r\n[2-9A-Z]{8},SHOP\r\n[2-9A-Z]{8},SHOP\r\n$/);
		});

		it('answers typo at Validate Code for a code with one character mistyped', async () => {
			const listed = await run('createCodes', [{}], {
				couponName: 'SHOP',
				count: 1,
				length: 10,
				options: { checkCharacter: true, characters: 'digits', output: 'codes' },
			});
			const code = listed.output[0].json.code as string;
			expect(code).toMatch(/^\d{11}$/);
			const typed = `${code.slice(0, 3)}${(Number(code[3]) + 1) % 10}${code.slice(4)}`;
			const { output } = await run('validate', [{ body: { code: typed } }], {
				code: typed,
				options: {},
			});
			expect(output[0].json.validation).toMatchObject({ valid: false, status: 'typo' });
			expect(codeKey(typed)).not.toBe(codeKey(code));
		});

		it('makes a shared code with Uses per Customer: every customer redeems it once, and the checkout must name the customer', async () => {
			const made = await run('createCodes', [{}], {
				couponName: 'NEWSLETTER',
				count: 1,
				length: 8,
				options: { prefix: 'SUMMER-', usesPerCustomer: 1, output: 'codes' },
			});
			const code = made.output[0].json.code as string;
			const summary = await run('stats', [{}], { couponName: 'NEWSLETTER' });
			// Shared as it was made: nothing is left to assign.
			expect(summary.output[0].json).toMatchObject({ available: 0, active: 1 });
			const anonymous = await nodeFailure(
				run('validate', [{}], { code, options: { orderReference: 'A-1' } }),
			);
			expect(anonymous.message).toBe(
				`Code ${code} of coupon "NEWSLETTER" is shared (1 use per customer), so the step must know the customer`,
			);
			expect(anonymous.description).toMatch(/^Add the Contact option/);
			const redeem = (contact: string, order: string) =>
				run('redeem', [{}], { code, options: { contact, orderReference: order } });
			const ann = await redeem('Ann@Example.com', 'A-1');
			expect(ann.output[0].json.redemption).toMatchObject({
				accepted: true,
				coupon: { usesPerCustomer: 1, customerUses: 1, usesPerCode: null },
			});
			expect((await redeem('ann@example.com', 'A-2')).output[0].json.redemption).toMatchObject({
				accepted: false,
				status: 'used_by_customer',
			});
			expect((await redeem('bob@example.com', 'B-1')).output[0].json.redemption).toMatchObject({
				accepted: true,
			});
			const generated = await nodeFailure(generate(['carl'], 'NEWSLETTER'));
			expect(generated.message).toBe(
				'Coupon "NEWSLETTER" is shared (1 use per customer): its codes belong to no contact, so none can be assigned',
			);
			const zero = await nodeFailure(
				run('createCodes', [{}], {
					couponName: 'SINGLE',
					count: 1,
					length: 8,
					options: { usesPerCode: 0 },
				}),
			);
			expect(zero.message).toBe('Uses per Code must be a whole number from 1 to 10000; got 0');
		});

		it('refuses what cannot be made, naming the item and the fix; with Continue on Fail the others go on', async () => {
			const error = await nodeFailure(
				run('createCodes', [{}], { couponName: 'SHOP', count: 0, length: 8, options: {} }),
			);
			expect(error.message).toBe('Count must be a whole number from 1 to 1,000,000; got 0');
			const { output } = await run(
				'createCodes',
				[{ n: 1 }, { n: 2 }, { n: 3 }],
				{
					couponName: (i: number) => ['SPRING10X', 'TINY', 'SPRING10'][i],
					count: 2,
					length: 8,
					options: (i: number) => (i === 1 ? { pattern: '##' } : {}),
				},
				{ continueOnFail: true },
			);
			expect(output.map((item) => item.json.created ?? item.json.error)).toEqual([
				2,
				expect.stringMatching(/^The pattern "##" makes only 64 different codes/),
				2,
			]);
			expect((output[1].json as IDataObject).n).toBe(2);
			const stats = await run('stats', [{}], { couponName: 'SPRING10' });
			// Create Codes made codes of the imported list: statistics say so.
			expect(stats.output[0].json).toMatchObject({ available: 5, source: 'created' });
			await generate(['ann'], 'GENERATED');
			const generated = await nodeFailure(
				run('createCodes', [{}], { couponName: 'GENERATED', count: 1, length: 8, options: {} }),
			);
			expect(generated.message).toMatch(/^Coupon "GENERATED" is a generated coupon/);
		});
	});
});
