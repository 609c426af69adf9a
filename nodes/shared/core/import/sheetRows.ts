import type { SheetRows, SheetTable } from './importTypes';

/** A whole table as one batch. */
export function sheetRowsOf({ rows, valueBeyond, ...table }: SheetTable): SheetRows {
	return {
		...table,
		batches: (async function* () {
			yield { firstRow: 1, rows };
		})(),
		valueBeyond: () => valueBeyond,
	};
}

/** Every batch gathered into one table: for small files and tests. */
export async function wholeTable({
	batches,
	valueBeyond,
	...sheet
}: SheetRows): Promise<SheetTable> {
	const rows: Array<unknown[] | undefined> = [];
	for await (const batch of batches)
		batch.rows.forEach((row, i) => {
			rows[batch.firstRow - 1 + i] = row;
		});
	const beyond = valueBeyond();
	return { ...sheet, rows, ...(beyond === undefined ? {} : { valueBeyond: beyond }) };
}
