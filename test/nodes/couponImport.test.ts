import { type IDataObject, type INodeExecutionData } from 'n8n-workflow';
import { CouponImport } from '../../nodes/CouponImport/CouponImport.node';
import { StaticDataStore } from '../../nodes/shared/stores/staticData/StaticDataStore';
import {
	fileItem,
	mockExecuteFunctions,
	nodeFailure,
	storedFileItem,
	type StoredFiles,
} from '../helpers/executeFunctions';
import { sheetXml, workbookParts, xlsx, zip } from '../helpers/spreadsheets';
import { listedCodes } from '../store/contract';

const parameters = {
	storage: 'staticData',
	binaryPropertyName: 'data',
	couponName: '',
	options: {},
};

async function runImport(
	staticData: IDataObject,
	items: INodeExecutionData[],
	overrides: Record<string, unknown> = {},
	continueOnFail = false,
	mode: 'manual' | 'trigger' = 'trigger',
) {
	const mock = mockExecuteFunctions({
		items,
		staticData,
		parameters: { ...parameters, ...overrides },
		continueOnFail,
		mode,
	});
	const [output] = await new CouponImport().execute.call(mock.context);
	return { output, hints: mock.hints };
}

const exportSheet = xlsx({
	Export: [
		['Coupon Name', 'Coupon Value', 'Token'],
		['Spring', '00123', 'a1'],
		['Spring', 'SPR-2', 'a2'],
		[],
		['Autumn', 'AUT-1', 'a3'],
		['spring', '00123', 'a4'],
	],
});

const poolCounts = async (staticData: IDataObject, name: string) =>
	await new StaticDataStore(staticData).transaction(async (s) =>
		(await s.findPool(name)) ? await s.countPool(name, Date.now(), 0) : undefined,
	);

describe('Coupon Import', () => {
	let staticData: IDataObject;
	beforeEach(() => (staticData = {}));

	it('imports the marketing export layout into one pool per coupon name, with a summary item each', async () => {
		const { output } = await runImport(staticData, [fileItem(exportSheet, 'export.xlsx')]);
		expect(output.map((item) => item.json)).toEqual([
			{
				couponName: 'Spring',
				added: 2,
				duplicates: 1,
				invalid: 0,
				withdrawn: 0,
				poolSize: 2,
				available: 2,
				rejectedRows: [{ row: 6, value: '00123', reason: 'duplicate of row 2' }],
				mode: 'add',
				file: {
					fileName: 'export.xlsx',
					sheet: 'Export',
					headerRow: 1,
					blankRows: 1,
					rowsWithoutValue: 0,
					rowsWithoutCoupon: 0,
					rejectedRows: [],
				},
			},
			expect.objectContaining({ couponName: 'Autumn', added: 1, poolSize: 1 }),
		]);
		expect(output.map((item) => item.pairedItem)).toEqual([{ item: 0 }, { item: 0 }]);
	});

	it('imports a CSV file as a sheet: detected from its content, with the same header, rules and errors', async () => {
		const staticData: IDataObject = {};
		const csv = Buffer.from(
			'\ufeffTitle line;;\r\nCoupon Name;Coupon Value;Token\r\nSpring;"00123";a1\r\nSpring;"bad\u0007code";a2\r\nSpring;00123;a3\r\n;;\r\nAutumn;AUT-1;a4\r\n',
			'utf8',
		);
		const { output } = await runImport(staticData, [fileItem(csv, 'export.csv')], {
			options: { keepColumns: 'token' },
		});
		expect(output.map((item) => item.json)).toEqual([
			expect.objectContaining({
				couponName: 'Spring',
				added: 1,
				duplicates: 1,
				invalid: 1,
				rejectedRows: [
					{ row: 4, value: 'bad\u0007code', reason: 'contains the control character U+0007' },
					{ row: 5, value: '00123', reason: 'duplicate of row 3' },
				],
				file: expect.objectContaining({ fileName: 'export.csv', sheet: 'CSV', headerRow: 2 }),
			}),
			expect.objectContaining({ couponName: 'Autumn', added: 1 }),
		]);
		const [found] = await new StaticDataStore(staticData).transaction(
			async (s) => await s.findCodes(['00123'], false),
		);
		expect(found).toMatchObject({ couponName: 'Spring', code: '00123' });
	});

	describe('modes', () => {
		const list = (codes: string[]) =>
			xlsx({ S: [['coupon value'], ...codes.map((code) => [code])] });
		const importList = async (
			staticData: IDataObject,
			codes: string[],
			mode?: string,
		): Promise<{ output: INodeExecutionData[]; hints: string[] }> => {
			const { output, hints } = await runImport(staticData, [fileItem(list(codes))], {
				couponName: 'SPRING',
				...(mode ? { mode } : {}),
			});
			return { output, hints: hints.map((hint) => hint.message) };
		};
		const codesOf = async (staticData: IDataObject) =>
			(
				await new StaticDataStore(staticData).transaction(
					async (s) => (await listedCodes(s, 'SPRING')).codes,
				)
			).map((code) => [code.code, code.assignment?.contactKey ?? null]);

		it('Replace withdraws the unused codes the file does not list, and keeps the ones contacts hold', async () => {
			const staticData: IDataObject = {};
			await importList(staticData, ['A-1', 'A-2', 'A-3']);
			const [held] = await new StaticDataStore(staticData).transaction(
				async (s) =>
					await s.assignImported('SPRING', [
						{ contactKey: 'ann', assignedAt: 0, validUntil: 1e15 },
					]),
			);
			const { output } = await importList(staticData, ['A-1', 'B-1'], 'replace');
			const withdrawn = ['A-2', 'A-3'].filter((code) => code !== held.code).length;
			expect(output[0].json).toMatchObject({
				couponName: 'SPRING',
				mode: 'replace',
				added: 1,
				duplicates: 1,
				withdrawn,
			});
			expect((await codesOf(staticData)).sort()).toEqual(
				[
					['A-1', held.code === 'A-1' ? 'ann' : null],
					['B-1', null],
					...(held.code === 'A-1' ? [] : [[held.code, 'ann']]),
				].sort(),
			);
		});

		it('Dry Run changes nothing and says what Add would add and Replace would withdraw', async () => {
			const staticData: IDataObject = {};
			await importList(staticData, ['A-1', 'A-2', 'A-3']);
			const before = JSON.stringify(staticData);
			const { output, hints } = await importList(staticData, ['A-1', 'B-1', 'B-2'], 'dryRun');
			expect(output[0].json).toMatchObject({
				couponName: 'SPRING',
				mode: 'dryRun',
				added: 2,
				duplicates: 1,
				withdrawn: 2,
				poolSize: 3,
				available: 3,
			});
			expect(hints).toContain(
				'Dry Run: nothing was changed. "added" is what Add (or Replace) would add, "withdrawn" what Replace would withdraw.',
			);
			expect(JSON.stringify(staticData)).toBe(before);
			const { output: added } = await importList(staticData, ['A-1', 'B-1', 'B-2']);
			expect(added[0].json).toMatchObject({ mode: 'add', added: 2, withdrawn: 0, poolSize: 5 });
		});

		it('Replace refuses a file with no usable code for a coupon, changing nothing', async () => {
			const staticData: IDataObject = {};
			await importList(staticData, ['A-1', 'A-2']);
			const before = JSON.stringify(staticData);
			const error = await nodeFailure(importList(staticData, ['bad\u0007', '--'], 'replace'));
			expect(error.message).toBe(
				'Replace would leave coupon "SPRING" with no code to assign: it would withdraw 2 codes nobody holds, leaving it no code, and sheet "S" lists no usable code for it',
			);
			expect(error.description).toMatch(/^Nothing was changed\./);
			expect(JSON.stringify(staticData)).toBe(before);
		});

		it('Replace refuses a file of codes contacts hold only, and Dry Run says so too', async () => {
			const staticData: IDataObject = {};
			await importList(staticData, ['A-1', 'A-2', 'A-3']);
			const [held] = await new StaticDataStore(staticData).transaction(
				async (s) =>
					await s.assignImported('SPRING', [
						{ contactKey: 'ann', assignedAt: 0, validUntil: 1e15 },
					]),
			);
			const before = JSON.stringify(staticData);
			for (const mode of ['replace', 'dryRun']) {
				const error = await nodeFailure(importList(staticData, [held.code], mode));
				expect(error.message).toBe(
					'Replace would leave coupon "SPRING" with no code to assign: it would withdraw 2 codes nobody holds and keep only 1 that cannot be assigned, and of the 1 code sheet "S" lists for it, 1 is held by contacts',
				);
			}
			expect(JSON.stringify(staticData)).toBe(before);
		});
	});

	it('does not import values twice when the same file comes again', async () => {
		await runImport(staticData, [fileItem(exportSheet)]);
		const { output } = await runImport(staticData, [fileItem(exportSheet)]);
		expect(
			output.map((item) => [
				item.json.couponName,
				item.json.added,
				item.json.duplicates,
				item.json.poolSize,
			]),
		).toEqual([
			['Spring', 0, 3, 2],
			['Autumn', 0, 1, 1],
		]);
	});

	it('imports a single-column list into the coupon named in Coupon Name, from another binary field, with a hint that row 1 was a code', async () => {
		const file = xlsx({ S: [['X-1'], ['X-2'], ['X-3']] });
		const { output, hints } = await runImport(staticData, [fileItem(file, 'list.xlsx', 'upload')], {
			couponName: 'Black Friday',
			binaryPropertyName: 'upload',
		});
		expect(output[0].json).toMatchObject({
			couponName: 'Black Friday',
			added: 3,
			poolSize: 3,
			file: { headerRow: null },
		});
		expect(hints.map((h) => h.message)).toEqual([
			expect.stringContaining('starting with row 1 ("X-1")'),
		]);
	});

	it('without Continue on Fail, a bad file keeps nothing of the files before it', async () => {
		const error = await nodeFailure(
			runImport(staticData, [fileItem(exportSheet), fileItem(Buffer.from('not a spreadsheet'))]),
		);
		expect(error.context.itemIndex).toBe(1);
		expect(staticData).toEqual({});
	});

	it('reads each file only when its turn comes, and none after a failed one without Continue on Fail', async () => {
		const mock = mockExecuteFunctions({
			items: [fileItem(Buffer.from('not a spreadsheet')), fileItem(exportSheet)],
			staticData,
			parameters,
		});
		const read = jest.spyOn(mock.context.helpers, 'getBinaryDataBuffer');
		await nodeFailure(new CouponImport().execute.call(mock.context));
		expect(read.mock.calls.map(([itemIndex]) => itemIndex)).toEqual([0]);
	});

	it('treats __proto__ as a plain coupon name', async () => {
		const file = xlsx({
			S: [
				['coupon name', 'coupon value'],
				['__proto__', 'P1'],
				['constructor', 'C1'],
			],
		});
		const { output } = await runImport(staticData, [fileItem(file)]);
		expect(output.map((item) => item.json.couponName)).toEqual(['__proto__', 'constructor']);
		expect(({} as IDataObject).available).toBeUndefined();
		expect(await poolCounts(staticData, '__proto__')).toMatchObject({ available: 1 });
	});

	describe('bad input: a clear error, and nothing changes', () => {
		const bombParts = workbookParts(sheetXml([['coupon value'], ['X1']], 30 * 1024 * 1024));
		it.each<[string, INodeExecutionData, Record<string, unknown>, RegExp]>([
			[
				'a missing binary field',
				{ json: {} },
				{},
				/expects the node's input data to contain a binary file 'data'/,
			],
			[
				'a file that is neither .xlsx nor CSV',
				fileItem(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]), 'codes.png'),
				{},
				/not an \.xlsx spreadsheet \(it starts with the bytes 89504e47\)/,
			],
			[
				'a CSV file without the value column',
				fileItem(Buffer.from('a,b\n1,2\n'), 'codes.csv'),
				{},
				/^No "coupon value" column in sheet "CSV". Found row 1: "a", "b"; row 2: "1", "2"/,
			],
			[
				'a corrupt file',
				fileItem(exportSheet.subarray(0, exportSheet.length - 30)),
				{},
				/zip structure is damaged/,
			],
			[
				'no matching header',
				fileItem(
					xlsx({
						S: [
							['Email', 'Voucher'],
							['a', 'b'],
						],
					}),
				),
				{},
				/No "coupon value" column in sheet "S". Found row 1: "Email", "Voucher"/,
			],
			[
				'a file over the row cap',
				fileItem(exportSheet),
				{ options: { maxRows: 3 } },
				/more than 3 rows below its header/,
			],
			[
				'a value after a gap of blank rows, past the rows Max Rows lets it read',
				fileItem(
					xlsx({
						S: [
							['coupon name', 'coupon value'],
							['Gap', 'G1'],
							...Array(47).fill([]),
							['Gap', 'G50'],
						],
					}),
				),
				{ options: { maxRows: 10 } },
				/more than 10 rows below its header, the limit set in Max Rows/,
			],
			['a zip bomb', fileItem(zip(bombParts)), { couponName: 'X' }, /possible zip bomb/],
			['an unusable Coupon Name', fileItem(exportSheet), { couponName: 'a.b' }, /contains "\."/],
		])('%s', async (_label, item, overrides, message) => {
			await runImport(staticData, [
				fileItem(
					xlsx({
						S: [
							['coupon name', 'coupon value'],
							['Keep', 'K1'],
						],
					}),
				),
			]);
			const before = JSON.stringify(staticData);
			const error = await nodeFailure(runImport(staticData, [item], overrides));
			expect(error.message).toMatch(message);
			expect(error.context.itemIndex).toBe(0);
			expect(JSON.stringify(staticData)).toBe(before);
		});
	});

	it('with Continue on Fail, outputs the failed file as an error item keeping its input data, and imports the others', async () => {
		const { output } = await runImport(
			staticData,
			[fileItem(Buffer.from([0, 1, 2, 3])), fileItem(exportSheet)],
			{},
			true,
		);
		expect(output[0]).toEqual({
			json: {
				fileName: 'coupons.xlsx',
				error: expect.stringMatching(/not an \.xlsx/),
				errorCode: 'FILE_NOT_SPREADSHEET',
				errorDescription: expect.any(String),
			},
			pairedItem: { item: 0 },
		});
		expect(output.slice(1).map((item) => [item.json.couponName, item.pairedItem])).toEqual([
			['Spring', { item: 1 }],
			['Autumn', { item: 1 }],
		]);
	});

	it('with On Error "Continue (using error output)", outputs the failed file as n8n routes it to the error output', async () => {
		const mock = mockExecuteFunctions({
			items: [fileItem(Buffer.from([0, 1, 2, 3])), fileItem(exportSheet)],
			staticData,
			onError: 'continueErrorOutput',
			parameters: {
				storage: 'staticData',
				binaryPropertyName: 'data',
				couponName: '',
				options: {},
			},
		});
		const [output] = await new CouponImport().execute.call(mock.context);
		// Only error and details (the code and what to do): n8n sends such an item to the error output and adds the
		// input item's data to it itself.
		expect(output[0]).toEqual({
			json: {
				error: expect.stringMatching(/not an \.xlsx/),
				details: {
					errorCode: 'FILE_NOT_SPREADSHEET',
					fix: expect.stringMatching(/Open the file in Excel/),
				},
			},
			pairedItem: { item: 0 },
		});
		expect(output.slice(1).map((item) => item.json.couponName)).toEqual(['Spring', 'Autumn']);
	});

	it('with Continue on Fail, keeps nothing of a file refused for naming a generated coupon, in the same run as the files it keeps', async () => {
		await new StaticDataStore(staticData).transaction(
			async (s) => await s.createPool('Gen', 'generated'),
		);
		const mixed = xlsx({
			S: [
				['coupon name', 'coupon value'],
				['Fresh', 'F1'],
				['Gen', 'G1'],
			],
		});
		const { output } = await runImport(
			staticData,
			[fileItem(exportSheet), fileItem(mixed, 'mixed.xlsx')],
			{},
			true,
		);
		expect(output.map((item) => item.json.couponName ?? item.json.error)).toEqual([
			'Spring',
			'Autumn',
			'Coupon "Gen" is a generated coupon (0 codes generated), so a list cannot be imported into it',
		]);
		expect(await poolCounts(staticData, 'Spring')).toMatchObject({ available: 2 });
		expect(await poolCounts(staticData, 'Fresh')).toBeUndefined();
	});

	it('warns that a test run from the editor does not keep the imported codes', async () => {
		const { hints } = await runImport(staticData, [fileItem(exportSheet)], {}, false, 'manual');
		expect(hints[0].message).toMatch(
			/^Test run on workflow static data, which n8n does not save for runs started from the editor: .*Contact Coupon will not find them.* Publish the workflow .* or choose the Local storage/,
		);
	});

	describe('details', () => {
		const dealSheet = xlsx({
			Deals: [
				['Coupon Name', 'Coupon Value', 'Token', 'Minimum Order', '__proto__', 'Note'],
				['Deal', 'D-1', 'tk-1', '50', 'p', ''],
				['Deal', 'D-2', 'tk-2', '', 'q', 'x'],
			],
		});
		const codesOf = async () =>
			await new StaticDataStore(staticData).transaction(
				async (s) => await s.findCodes(['D1', 'D2'], false),
			);
		const assignAll = async () =>
			await new StaticDataStore(staticData).transaction(
				async (s) =>
					await s.assignImported('Deal', [
						{ contactKey: 'a', assignedAt: 0, validUntil: 1 },
						{ contactKey: 'b', assignedAt: 0, validUntil: 1 },
					]),
			);

		it("keeps the named columns of each row as its code's details, and sets the coupon's details", async () => {
			await runImport(staticData, [fileItem(dealSheet, 'deals.xlsx')], {
				options: {
					keepColumns: 'token, minimum order',
					couponDetails: '{ "discount": "15%" }',
					usesPerCode: 3,
				},
			});
			const assigned = await assignAll();
			expect(new Map(assigned.map((a) => [a.code, a.details]))).toEqual(
				new Map([
					['D-1', { Token: 'tk-1', 'Minimum Order': '50' }],
					['D-2', { Token: 'tk-2' }],
				]),
			);
			const [found] = await codesOf();
			expect(found.terms).toEqual({ usesPerCode: 3, details: { discount: '15%' } });
		});

		it('keeps every other column with "all", a header "__proto__" as an ordinary detail', async () => {
			await runImport(staticData, [fileItem(dealSheet, 'deals.xlsx')], {
				options: { keepColumns: 'ALL' },
			});
			const assigned = await assignAll();
			const d1 = assigned.find((a) => a.code === 'D-1')!.details!;
			expect(Object.getPrototypeOf(d1)).toBe(Object.prototype);
			expect(Object.entries(d1)).toEqual([
				['Token', 'tk-1'],
				['Minimum Order', '50'],
				['__proto__', 'p'],
			]);
		});

		it('refuses a column to keep that the sheet does not have, and details that are not a flat object, changing nothing', async () => {
			const missing = await nodeFailure(
				runImport(staticData, [fileItem(dealSheet, 'deals.xlsx')], {
					options: { keepColumns: 'token, discount' },
				}),
			);
			expect(missing.message).toBe(
				'Sheet "Deals" has no "discount" column in its header row (row 1) to keep as a detail',
			);
			const nested = await nodeFailure(
				runImport(staticData, [fileItem(dealSheet, 'deals.xlsx')], {
					options: { couponDetails: { tiers: [1, 2] } },
				}),
			);
			expect(nested.message).toBe(
				'Coupon Details: detail "tiers" is a list; details are flat: text, numbers, true/false or null',
			);
			expect(nested.context.itemIndex).toBe(0);
			expect(await poolCounts(staticData, 'Deal')).toBeUndefined();
		});
	});
	it('streams a file n8n keeps outside the item: a CSV is read as its rows come, never whole', async () => {
		const csv = Buffer.from(
			`coupon name,coupon value\n${Array.from({ length: 60_000 }, (_, i) => `Stream,S-${i}\n`).join('')}`,
		);
		const storedFiles: StoredFiles = {
			files: new Map([
				['filesystem-v2:list.csv', csv],
				['filesystem-v2:export.xlsx', exportSheet],
			]),
			bytesStreamed: 0,
			wholeReads: 0,
		};
		const mock = mockExecuteFunctions({
			items: [
				storedFileItem('filesystem-v2:list.csv', 'list.csv'),
				storedFileItem('filesystem-v2:export.xlsx', 'export.xlsx'),
			],
			staticData,
			parameters: { ...parameters, options: { maxRows: 100_000 } },
			storedFiles,
		});
		const [output] = await new CouponImport().execute.call(mock.context);
		expect(output.map((item) => [item.json.couponName, item.json.added])).toEqual([
			['Stream', 60_000],
			['Spring', 2],
			['Autumn', 1],
		]);
		expect(storedFiles.bytesStreamed).toBe(csv.length + exportSheet.length);
		expect(storedFiles.wholeReads).toBe(0);
	});
});
