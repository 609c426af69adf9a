import fc from 'fast-check';
import { planOf } from '../helpers/imports';
import type { Cell, RowBatch, SheetTable } from '../../nodes/shared/core/import/importTypes';
import { HEAVY_TEST_MS } from '../helpers/timeouts';

const columns = {
	withdraw: false,
	nameColumn: 'coupon name',
	valueColumn: 'coupon value',
	maxRows: 40,
	maxNewCoupons: 1000,
	usesPerCode: 1,
	now: 0,
};

const code = fc.constantFrom<Cell>('A1', 'A2', 'B1', 'bad code!', '', undefined, {
	unusable: 'is a date',
	shown: '2027-01-01',
});
const couponOfRow = fc.constantFrom<Cell>('Spring', 'summer', '', undefined);
/** Blank rows, often: a reader leaves them out, and the plan counts them. */
const blank = fc.constantFrom<Cell[] | undefined>(undefined, [], ['']);
/**
 * A sheet as lists come: maybe a title row and blank rows, a header row (or none: one column of
 * codes, once in a while a stray value beside it), then rows of coupon name and code.
 */
const sheet = fc
	.record({
		title: fc.boolean(),
		header: fc.boolean(),
		rows: fc.array(
			fc.oneof(
				{ weight: 3, arbitrary: fc.tuple(couponOfRow, code) },
				{ weight: 1, arbitrary: blank },
				{ weight: 1, arbitrary: code.map((c) => [c]) },
			),
			{ minLength: 8, maxLength: 36 },
		),
	})
	.map(({ title, header, rows }): Array<Cell[] | undefined> => [
		...(title ? [['Spring campaign'], undefined] : []),
		...(header ? [['coupon name', 'coupon value']] : []),
		// Without a header, a list is one column; the name column is a stray value there.
		...rows.map((row) =>
			header || !row ? row : row.length === 2 && row[0] !== 'Spring' ? [row[1]] : row,
		),
	]);

/**
 * The rows as a streaming reader hands them over: in batches split at the given rows, rows
 * without a value left out (holes in a batch, or between batches), as the .xlsx reader leaves them
 * out.
 */
const holdsValue = (row: Cell[] | undefined) => row?.some((c) => c !== undefined && c !== '');

function batchesOf(rows: Array<Cell[] | undefined>, cuts: number[]): RowBatch[] {
	const holds = holdsValue;
	const edges = [...new Set([0, ...cuts.filter((cut) => cut < rows.length), rows.length])].sort(
		(a, b) => a - b,
	);
	const batches: RowBatch[] = [];
	for (let i = 0; i + 1 < edges.length; i++) {
		let from = edges[i];
		let to = edges[i + 1];
		while (from < to && !holds(rows[from])) from++;
		while (to > from && !holds(rows[to - 1])) to--;
		if (from < to)
			batches.push({
				firstRow: from + 1,
				rows: rows.slice(from, to).map((row) => (holds(row) ? row : undefined)),
			});
	}
	return batches;
}

async function outcome(run: Promise<unknown>): Promise<unknown> {
	try {
		return await run;
	} catch (error) {
		return { error: (error as Error).message };
	}
}

describe('planImport of a sheet streamed in batches', () => {
	it(
		'plans exactly what it plans for the same rows read whole, wherever the batches split and however few rows are staged at a time',
		async () => {
			await fc.assert(
				fc.asyncProperty(
					sheet,
					fc.array(fc.nat(40), { maxLength: 8 }),
					fc.constantFrom(undefined, 'List'),
					fc.integer({ min: 0, max: 30 }),
					fc.integer({ min: 1, max: 6 }),
					async (rows, cuts, couponName, valueBeyond, stagedRows) => {
						const settings = { ...columns, ...(couponName ? { couponName } : {}) };
						const beyond = valueBeyond > 25 ? { valueBeyond } : {};
						// A reader's table ends at its last row holding a value.
						let end = rows.length;
						while (end > 0 && !holdsValue(rows[end - 1])) end--;
						const whole: SheetTable = {
							sheetName: 'S',
							rows: rows.slice(0, end),
							cell: (raw) => raw as Cell,
							...beyond,
						};
						const batches = batchesOf(rows, cuts);
						const streamed = planOf(
							{
								sheetName: 'S',
								cell: (raw) => raw as Cell,
								batches: (async function* () {
									yield* batches;
								})(),
								valueBeyond: () => beyond.valueBeyond,
							},
							settings,
							stagedRows,
						);
						expect(await outcome(streamed)).toEqual(await outcome(planOf(whole, settings)));
					},
				),
				{ numRuns: 300 },
			);
		},
		HEAVY_TEST_MS,
	);
});
