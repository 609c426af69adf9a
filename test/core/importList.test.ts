import type { IDataObject } from 'n8n-workflow';
import { importInto, planOf } from '../helpers/imports';
import { CouponError, StoreError } from '../../nodes/shared/core/common/errors';
import { publishSheets, stageSheets } from '../../nodes/shared/core/import/importList';
import { type Cell, type SheetTable } from '../../nodes/shared/core/import/importTypes';
import type { CouponStoreSession, PoolKind } from '../../nodes/shared/core/storeContract';
import { StaticDataStore } from '../../nodes/shared/stores/staticData/StaticDataStore';
import { failureOf } from '../helpers/executeFunctions';

const table = (rows: Array<Cell[] | undefined>, sheetName = 'Sheet1'): SheetTable => ({
	sheetName,
	rows,
	cell: (raw) => raw as Cell,
});
const columns = {
	withdraw: false,
	nameColumn: 'coupon name',
	valueColumn: 'coupon value',
	maxRows: 1000,
	maxNewCoupons: 1000,
	usesPerCode: 1,
	now: 0,
};

describe('planImport', () => {
	it('reads the marketing export layout: any case, extra columns ignored, one pool per name', async () => {
		const plan = await planOf(
			table([
				['Token', 'Coupon Name', 'COUPON VALUE'],
				['t1', 'Spring', 'AAA1'],
				['t2', 'summer', 'BBB2'],
				['t3', 'SPRING', 'CCC3'],
			]),
			columns,
		);
		expect(plan.pools).toEqual([
			{
				name: 'Spring',
				candidates: [
					{ code: 'AAA1', key: 'AAA1', row: 2 },
					{ code: 'CCC3', key: 'CCC3', row: 4 },
				],
				duplicates: 0,
				invalid: 0,
				rejected: [],
			},
			{
				name: 'summer',
				candidates: [{ code: 'BBB2', key: 'BBB2', row: 3 }],
				duplicates: 0,
				invalid: 0,
				rejected: [],
			},
		]);
		expect(plan.file).toMatchObject({ headerRow: 1, blankRows: 0 });
	});

	it('finds the header below title rows', async () => {
		const plan = await planOf(
			table([['Spring campaign export'], undefined, ['coupon name', 'coupon value'], ['S', 'X1']]),
			columns,
		);
		expect(plan.file.headerRow).toBe(3);
		expect(plan.pools[0].candidates).toEqual([{ code: 'X1', key: 'X1', row: 4 }]);
	});

	it('skips blank rows, trims values and rejects duplicates and unusable values with row numbers and reasons', async () => {
		const plan = await planOf(
			table([
				['coupon name', 'coupon value'],
				['P', '  007 '],
				[],
				['P', '0-07'],
				['P', { unusable: 'is a date, not a code', shown: '45000' }],
				['', 'ORPHAN'],
				['bad.name', 'X'],
				['P', 'line\nbreak'],
			]),
			columns,
		);
		expect(plan.pools[0]).toMatchObject({
			name: 'P',
			candidates: [{ code: '007', key: '007', row: 2 }],
			duplicates: 1,
			invalid: 2,
		});
		expect(plan.pools[0].rejected).toEqual([
			{ row: 4, value: '0-07', reason: 'duplicate of row 2' },
			{ row: 5, value: '45000', reason: 'is a date, not a code' },
			{ row: 8, value: 'line\nbreak', reason: 'contains a line break' },
		]);
		expect(plan.file.blankRows).toBe(1);
		expect(plan.file.rowsWithoutCoupon).toBe(2);
		expect(plan.file.rowsWithoutValue).toBe(0);
		expect(plan.file.rejectedRows.map((r) => [r.row, r.reason])).toEqual([
			[6, 'no coupon name in column "coupon name"'],
			[7, expect.stringContaining('contains "."')],
		]);
	});

	it('imports a single-column list without header into the pool named by Coupon Name, and says row 1 was read as a code', async () => {
		const plan = await planOf(table([['X1'], ['X2'], [], ['X3']]), {
			...columns,
			couponName: 'List',
		});
		expect(plan.file).toMatchObject({ headerRow: null, blankRows: 1, rowsWithoutValue: 0 });
		expect(plan.pools[0].candidates.map((c) => c.code)).toEqual(['X1', 'X2', 'X3']);
		expect(plan.notes).toEqual([
			expect.stringContaining(
				'no "coupon value" header, so every row was read as a code, starting with row 1 ("X1")',
			),
		]);
		expect(
			(await planOf(table([['coupon value'], ['X1']]), { ...columns, couponName: 'List' })).notes,
		).toEqual([]);
	});

	it('counts rows with a name but no value apart from blank rows', async () => {
		const plan = await planOf(
			table([
				['coupon name', 'coupon value'],
				['P', ''],
				['', ''],
				['P', 'V1'],
			]),
			columns,
		);
		expect(plan.file).toMatchObject({
			blankRows: 1,
			rowsWithoutValue: 1,
			rejectedRows: [{ row: 2, value: '', reason: 'no value in column "coupon value"' }],
		});
	});

	it('counts Max Rows below the header, not the title rows above it', async () => {
		const rows = (n: number) =>
			table([['Title'], [], ['coupon value'], ...Array.from({ length: n }, (_, i) => [`C${i}`])]);
		expect(
			(await planOf(rows(5), { ...columns, couponName: 'L', maxRows: 5 })).pools[0].candidates,
		).toHaveLength(5);
		await expect(planOf(rows(6), { ...columns, couponName: 'L', maxRows: 5 })).rejects.toThrow(
			'Sheet "Sheet1" has more than 5 rows below its header, the limit set in Max Rows',
		);
	});

	it('refuses a sheet with a value below the rows read, however many blank rows come before it', async () => {
		const read = { ...table([['coupon value'], ['C1']]), valueBeyond: 50 };
		await expect(planOf(read, { ...columns, couponName: 'L', maxRows: 10 })).rejects.toThrow(
			'Sheet "Sheet1" has more than 10 rows below its header, the limit set in Max Rows (it has a value in row 50)',
		);
	});

	it('puts every value into Coupon Name when it is set, even with a name column', async () => {
		const plan = await planOf(
			table([
				['coupon name', 'coupon value'],
				['A', 'X1'],
				['B', 'X2'],
			]),
			{ ...columns, couponName: 'Override' },
		);
		expect(plan.pools.map((p) => [p.name, p.candidates.length])).toEqual([['Override', 2]]);
	});

	it('says which headers it found when the value column is missing', async () => {
		await expect(
			planOf(
				table([
					['Email', 'Code'],
					['a@x', 'C1'],
				]),
				columns,
			),
		).rejects.toThrow('No "coupon value" column in sheet "Sheet1". Found row 1: "Email", "Code"');
	});

	it('asks for Coupon Name when a value column has no name column beside it', async () => {
		await expect(planOf(table([['coupon value'], ['C1']]), columns)).rejects.toThrow(
			/no "coupon name" column/,
		);
	});

	it('uses configured column names', async () => {
		const plan = await planOf(
			table([
				['Campaign', 'Voucher'],
				['X', 'V1'],
			]),
			{
				...columns,
				nameColumn: 'campaign',
				valueColumn: 'voucher',
				maxRows: 10,
				maxNewCoupons: 10,
			},
		);
		expect(plan.pools[0]).toMatchObject({
			name: 'X',
			candidates: [{ code: 'V1', key: 'V1', row: 2 }],
		});
	});
});

describe('importSheet', () => {
	it('looks up the coupons of a file one after another: a session is one database connection', async () => {
		let running = 0;
		let mostAtOnce = 0;
		await importInto(
			new StaticDataStore({}),
			table([
				['coupon name', 'coupon value'],
				['A', 'A1'],
				['B', 'B1'],
				['C', 'C1'],
			]),
			columns,
			{
				session: (session) => {
					const findPool = session.findPool.bind(session);
					session.findPool = async (name) => {
						mostAtOnce = Math.max(mostAtOnce, ++running);
						await new Promise((resolve) => setTimeout(resolve, 5));
						running--;
						return await findPool(name);
					};
					return session;
				},
			},
		);
		expect(mostAtOnce).toBe(1);
	});

	it('adds new values, counts those already in the pool, and reports the pool size', async () => {
		const data: IDataObject = {};
		const sheet = table([
			['coupon name', 'coupon value'],
			['P', 'A1'],
			['P', 'B2'],
		]);
		const run = async (t: SheetTable) => await importInto(new StaticDataStore(data), t, columns);
		await run(sheet);
		const second = await run(
			table([
				['coupon name', 'coupon value'],
				['p', 'a-1'],
				['P', 'C3'],
			]),
		);
		expect(second.pools).toEqual([
			{
				couponName: 'P',
				added: 1,
				duplicates: 1,
				invalid: 0,
				withdrawn: 0,
				poolSize: 3,
				available: 3,
				rejectedRows: [{ row: 2, value: 'a-1', reason: 'already in this coupon' }],
			},
		]);
	});

	it('refuses to import into a generated coupon and changes no pool', async () => {
		const data: IDataObject = {};
		const store = () => new StaticDataStore(data);
		await store().transaction(async (s) => await s.createPool('Gen', 'generated'));
		const sheet = table([
			['coupon name', 'coupon value'],
			['Fresh', 'A1'],
			['gen', 'B2'],
		]);
		await expect(importInto(store(), sheet, columns)).rejects.toThrow(
			/Coupon "Gen" is a generated coupon/,
		);
		expect(await store().transaction(async (s) => await s.findPool('Fresh'))).toBeUndefined();
	});

	it('refuses a sheet with no values', async () => {
		const run = importInto(
			new StaticDataStore({}),
			table([['coupon name', 'coupon value'], [], ['', '']]),
			columns,
		);
		await expect(run).rejects.toThrow(
			'Sheet "Sheet1" has no coupon values to import (2 blank rows, 0 rows without a value, 0 rows without a coupon name)',
		);
	});
});

describe('importSheets', () => {
	const good = (name: string) =>
		table([
			['coupon name', 'coupon value'],
			[name, `${name}-1`],
		]);
	const unreadable = async (): Promise<SheetTable> => {
		throw new CouponError(
			'FILE_EMPTY',
			'The file is empty (0 bytes)',
			'Check the node before this one.',
		);
	};

	it.each([
		[false, ['value', 'error', 'value'], ['A', 'C']],
		[true, ['value', 'error', 'error'], ['A']],
	])(
		'with stopAtFailure %s, reads the files after a failed one only when the run goes on',
		async (stopAtFailure, kinds, imported) => {
			const data: IDataObject = {};
			const readC = jest.fn(async () => good('C'));
			const outcomes = await new StaticDataStore(data).withStaging(async (staging) => {
				const staged = await stageSheets(
					staging,
					[
						{ settings: columns, readTable: async () => good('A') },
						{ settings: columns, readTable: unreadable },
						{ settings: columns, readTable: readC },
					],
					{ stopAtFailure },
				);
				await staging.transaction(
					async (s) =>
						await publishSheets(
							s,
							staged.flatMap((outcome) => ('value' in outcome ? [outcome.value] : [])),
							{ stopAtFailure },
						),
				);
				return staged;
			});
			expect(outcomes.map((outcome) => Object.keys(outcome)[0])).toEqual(kinds);
			expect(readC).toHaveBeenCalledTimes(stopAtFailure ? 0 : 1);
			const pools = await new StaticDataStore(data).transaction(async (s) => await s.listPools());
			expect(pools.map((pool) => pool.name)).toEqual(imported);
		},
	);

	it('stops the whole run when another run creates a generated coupon of a name meanwhile', async () => {
		const data: IDataObject = {};
		const store = new StaticDataStore(data);
		// The other run's generated coupon "B" appears between this file's check and its creation.
		const racing = (session: CouponStoreSession): CouponStoreSession =>
			Object.assign(Object.create(session) as CouponStoreSession, {
				findPool: async (name: string) => (name === 'B' ? undefined : await session.findPool(name)),
				createPool: async (name: string, kind: PoolKind) =>
					await session.createPool(name, name === 'B' ? 'generated' : kind),
			});
		const sheet = table([
			['coupon name', 'coupon value'],
			['A', 'A-1'],
			['B', 'B-1'],
		]);
		const error = await failureOf(
			importInto(store, sheet, columns, { session: racing }),
			StoreError,
		);
		expect(error.message).toBe(
			'Another run created a generated coupon "B" while this file was being imported, so the list cannot go into it',
		);
		expect(data).toEqual({});
	});
});
