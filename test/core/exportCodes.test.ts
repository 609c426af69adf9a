import { EXPORT_PAGE, exportCodes } from '../../nodes/shared/core/codes/exportCodes';
import { Turns } from '../../nodes/shared/core/common/turns';
import type { CouponStoreSession, ListedCode } from '../../nodes/shared/core/storeContract';

/** A session holding one coupon of `total` unused codes, listing them as the store would. */
function sessionWith(total: number) {
	const keys = Array.from({ length: total }, (_, i) => `C${String(i).padStart(7, '0')}`);
	const reads = { passes: 0, pages: 0, ended: 0, counted: 0 };
	const session = {
		turns: new Turns(),
		findPool: async () => ({ name: 'LIST', kind: 'imported', codeCount: total, usesPerCode: 1 }),
		countPool: async () => {
			reads.counted++;
			return { available: total, lapsed: 0, assigned: 0 };
		},
		hasCodeDetails: async () => false,
		async *listCodes(_name: string, pageSize: number) {
			reads.passes++;
			try {
				for (let from = 0; from < keys.length; from += pageSize) {
					reads.pages++;
					yield keys.slice(from, from + pageSize).map((key): ListedCode => ({ code: key, key }));
				}
			} finally {
				reads.ended++;
			}
		},
	} as unknown as CouponStoreSession;
	return { session, reads };
}

const sinkOf = (write: (rows: unknown[][]) => Promise<void>, maxRows = Infinity) => ({
	maxRows,
	tooManyRows: 'the test allows',
	write,
});

const request = { couponName: 'list', status: 'all', timeZone: 'UTC' } as const;

describe('exportCodes', () => {
	it('lists every code once, a page at a time, in one pass when no code has details', async () => {
		const { session, reads } = sessionWith(2 * EXPORT_PAGE + 3);
		const written: unknown[][] = [];
		const pagesAtWrite: number[] = [];
		const summary = await exportCodes(
			session,
			request,
			0,
			sinkOf(async (rows) => {
				pagesAtWrite.push(reads.pages);
				written.push(...rows);
			}),
		);
		expect(summary.rows).toBe(2 * EXPORT_PAGE + 3);
		expect(written.slice(1).map((row) => row[0])).toEqual(
			Array.from({ length: 2 * EXPORT_PAGE + 3 }, (_, i) => `C${String(i).padStart(7, '0')}`),
		);
		// The header first, then each page as it is read: never the coupon at once.
		expect(reads).toMatchObject({ passes: 1, pages: 3, ended: 1 });
		expect(pagesAtWrite).toEqual([0, 1, 2, 3]);
	});

	it('counts the codes first only for a file with a row limit', async () => {
		const unlimited = sessionWith(3);
		await exportCodes(
			unlimited.session,
			request,
			0,
			sinkOf(async () => undefined),
		);
		expect(unlimited.reads.counted).toBe(0);
		const limited = sessionWith(3);
		await expect(
			exportCodes(
				limited.session,
				request,
				0,
				sinkOf(async () => undefined, 2),
			),
		).rejects.toThrow('Coupon "LIST" has 3 codes, more than the test allows');
		expect(limited.reads).toMatchObject({ counted: 1, passes: 0 });
	});

	it('ends the store’s read when writing stops the export', async () => {
		const { session, reads } = sessionWith(3 * EXPORT_PAGE);
		let pages = 0;
		await expect(
			exportCodes(
				session,
				request,
				0,
				sinkOf(async () => {
					if (++pages === 2) throw new Error('disk full');
				}),
			),
		).rejects.toThrow('disk full');
		expect(reads).toMatchObject({ pages: 1, ended: 1 });
	});
});
