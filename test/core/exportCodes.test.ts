import { EXPORT_PAGE, exportCodes } from '../../nodes/shared/core/codes/exportCodes';
import { Turns } from '../../nodes/shared/core/common/turns';
import type { CouponStoreSession, ListedCode } from '../../nodes/shared/core/storeContract';

/** A session holding one coupon of `total` unused codes, listing them as the store would. */
function sessionWith(total: number, failAfter?: number) {
	const reads: Array<string | undefined> = [];
	const keys = Array.from({ length: total }, (_, i) => `C${String(i).padStart(7, '0')}`);
	const session = {
		turns: new Turns(),
		findPool: async () => ({ name: 'LIST', kind: 'imported', codeCount: total, usesPerCode: 1 }),
		countPool: async () => ({ available: total, lapsed: 0, assigned: 0 }),
		hasCodeDetails: async () => false,
		listCodes: async (_name: string, after: string | undefined, limit: number) => {
			reads.push(after);
			if (failAfter !== undefined && reads.length > failAfter) throw new Error('connection lost');
			const from = after === undefined ? 0 : keys.indexOf(after) + 1;
			return keys.slice(from, from + limit).map((key): ListedCode => ({ code: key, key }));
		},
	} as unknown as CouponStoreSession;
	return { session, reads };
}

const sinkOf = (write: (rows: unknown[][]) => Promise<void>) => ({
	maxRows: Infinity,
	tooManyRows: '',
	write,
});

describe('exportCodes', () => {
	it('asks for the next page before writing the one it has, and lists every code once', async () => {
		const { session, reads } = sessionWith(2 * EXPORT_PAGE + 3);
		const written: unknown[][] = [];
		const readsAtWrite: number[] = [];
		const summary = await exportCodes(
			session,
			{ couponName: 'list', status: 'all', timeZone: 'UTC' },
			0,
			sinkOf(async (rows) => {
				readsAtWrite.push(reads.length);
				written.push(...rows);
			}),
		);
		expect(summary.rows).toBe(2 * EXPORT_PAGE + 3);
		expect(written.slice(1).map((row) => row[0])).toEqual(
			Array.from({ length: 2 * EXPORT_PAGE + 3 }, (_, i) => `C${String(i).padStart(7, '0')}`),
		);
		// One read per page, no pass for details' names (none has any); the header comes first, and
		// a page is written once the next one is asked for.
		expect(reads).toHaveLength(3);
		expect(readsAtWrite).toEqual([0, 2, 3, 3]);
	});

	it('leaves no failed read unhandled when writing stops the export', async () => {
		const { session } = sessionWith(2 * EXPORT_PAGE, 1);
		const unhandled = jest.fn();
		process.on('unhandledRejection', unhandled);
		try {
			let pages = 0;
			await expect(
				exportCodes(
					session,
					{ couponName: 'list', status: 'all', timeZone: 'UTC' },
					0,
					sinkOf(async () => {
						if (++pages === 2) throw new Error('disk full');
					}),
				),
			).rejects.toThrow('disk full');
			await new Promise((resolve) => setTimeout(resolve, 50));
			expect(unhandled).not.toHaveBeenCalled();
		} finally {
			process.off('unhandledRejection', unhandled);
		}
	});
});
