import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { IDataObject } from 'n8n-workflow';
import { ContactCoupon } from '../../nodes/ContactCoupon/ContactCoupon.node';
import { UNAMBIGUOUS_CHARACTERS } from '../../nodes/shared/core/codes/codes';
import { assignCoupons } from '../../nodes/shared/core/assign/assign';
import { LocalStore } from '../../nodes/shared/stores/local/LocalStore';
import { closeLocalDatabase, isBusy, localDatabase } from '../../nodes/shared/transport/sqlite';
import { jsonItems, mockExecuteFunctions } from '../helpers/executeFunctions';
import { temporaryLocalFile } from '../helpers/localFiles';
import { HEAVY_TEST_MS } from '../helpers/timeouts';
import {
	assignInProcesses,
	assignmentsOf,
	expectEachCodeOnce,
	importLoadPool,
} from './assignProcesses';
import { describeCheckoutRaces } from './checkoutRaces';

const LOAD = { processes: 6, rounds: 8, uniquePerRound: 40, shared: 12 };
const POOL = 3_000;

describe('the Local storage under concurrent executions and processes', () => {
	let file: string;
	let remove: () => void;

	beforeEach(async () => {
		({ file, remove } = temporaryLocalFile('concurrency'));
		await importLoadPool(new LocalStore(localDatabase(file)), POOL);
	});
	afterEach(() => remove());

	it(`${LOAD.processes} processes assigning from one file at once never give a code twice, lose none, and keep reuse`, async () => {
		const results = await assignInProcesses(`local:${file}`, LOAD);
		const holders = expectEachCodeOnce(results, LOAD);
		// What the processes were told is what the file holds, and the pool fell by exactly that.
		const check = new DatabaseSync(file, { readOnly: true });
		const rows = check
			.prepare('SELECT code, contact_key FROM codes WHERE contact_key IS NOT NULL')
			.all() as Array<{ code: string; contact_key: string }>;
		const { available } = check
			.prepare('SELECT count(*) AS available FROM codes WHERE contact_key IS NULL')
			.get() as { available: number };
		check.close();
		expect(new Map(rows.map((row) => [row.code, row.contact_key]))).toEqual(holders);
		expect(available).toBe(POOL - assignmentsOf(LOAD));
	}, 120_000);

	it('lets executions of one process take turns on the connection, each deciding on what the one before stored', async () => {
		const store = new LocalStore(localDatabase(file));
		const settings = {
			couponName: 'LOAD',
			validDays: 30,
			policy: 'reuse' as const,
			format: { characters: UNAMBIGUOUS_CHARACTERS, length: 8, prefix: '' },
			usesPerCode: 1,
		};
		// Twenty executions at once for the same contact, each pausing inside its transaction.
		const runs = Array.from({ length: 20 }, async () =>
			store.transaction(async (session) => {
				const held = await session.assignmentsOf('LOAD', ['pat@example.com']);
				await new Promise((resolve) => setTimeout(resolve, 5));
				const { outcomes } = await assignCoupons(
					session,
					settings,
					[{ contact: 'pat@example.com', contactKey: 'pat@example.com' }],
					Date.now(),
				);
				return { heldBefore: held.size, outcome: outcomes[0] };
			}),
		);
		const results = await Promise.all(runs);
		const codes = results.map((r) =>
			'value' in r.outcome ? r.outcome.value.code : r.outcome.error.message,
		);
		expect(new Set(codes).size).toBe(1);
		expect(results.filter((r) => r.heldBefore === 0)).toHaveLength(1);
	});
});

/**
 * Another OS process in a long write (writeLockWorker.ts): it holds the file's write lock, with
 * coupon `couponName` created and not committed, until `commit` is called.
 */
async function writerInAnotherProcess(
	file: string,
	couponName: string,
): Promise<{ commit: () => Promise<void> }> {
	const child = spawn(
		process.execPath,
		[
			'-r',
			join(__dirname, '../helpers/tsRegister.js'),
			join(__dirname, 'writeLockWorker.ts'),
			file,
			couponName,
		],
		{ stdio: ['pipe', 'pipe', 'inherit'] },
	);
	const exited = once(child, 'exit');
	const [holding] = await Promise.race([once(child.stdout, 'data'), exited]);
	if (String(holding) !== 'holding\n') throw new Error(`the writing process ended: ${holding}`);
	return {
		commit: async () => {
			child.stdin.end('commit\n');
			const [code] = await exited;
			if (code !== 0) throw new Error(`the writing process failed with code ${code}`);
		},
	};
}

/** Whether some connection holds the file's write lock: a begin that does not wait is refused. */
function writeLockIsHeld(file: string): boolean {
	const probe = new DatabaseSync(file, { timeout: 0 });
	try {
		probe.exec('BEGIN IMMEDIATE; ROLLBACK;');
		return false;
	} catch (error) {
		if (isBusy(error)) return true;
		throw error;
	} finally {
		probe.close();
	}
}

describe('reads on the Local storage while writes are open', () => {
	let file: string;
	let remove: () => void;
	let given: string;

	beforeEach(async () => {
		({ file, remove } = temporaryLocalFile('reads'));
		await importLoadPool(new LocalStore(localDatabase(file)), 3);
		const { outcomes } = await new LocalStore(localDatabase(file)).transaction(
			async (session) =>
				await assignCoupons(
					session,
					{
						couponName: 'LOAD',
						validDays: 30,
						policy: 'reuse',
						format: { characters: UNAMBIGUOUS_CHARACTERS, length: 8, prefix: '' },
						usesPerCode: 1,
					},
					[{ contact: 'ann@example.com', contactKey: 'ann@example.com' }],
					Date.now(),
				),
		);
		given = 'value' in outcomes[0] ? outcomes[0].value.code : '';
	});
	afterEach(() => remove());

	/** One Contact Coupon run on the file, as n8n runs it: its output items' JSON. */
	const contactCoupon = async (parameters: IDataObject): Promise<IDataObject[]> => {
		const { context } = mockExecuteFunctions({
			items: jsonItems({}),
			n8nFolder: dirname(file),
			parameters: { storage: 'local', options: {}, ...parameters },
		});
		const [output] = await new ContactCoupon().execute.call(context);
		return output.map((item) => item.json);
	};

	it(
		'Validate, Statistics, Contact card and Export answer from what was committed while another process holds the write lock',
		async () => {
			const writer = await writerInAnotherProcess(file, 'HELD');
			try {
				// As a process that has not opened the file yet: checking its schema takes no lock either.
				closeLocalDatabase(file);
				const [checked] = await contactCoupon({ operation: 'validate', code: given });
				expect(checked.validation).toMatchObject({ code: given, status: 'valid' });
				const statistics = await contactCoupon({ operation: 'stats', couponName: '' });
				expect(statistics.map((pool) => pool.name)).toEqual(['LOAD']);
				const [card] = await contactCoupon({
					operation: 'getForContact',
					contact: 'ann@example.com',
				});
				expect(card.coupons).toEqual([expect.objectContaining({ code: given, name: 'LOAD' })]);
				const [exported] = await contactCoupon({
					operation: 'exportCodes',
					couponName: 'LOAD',
					status: 'all',
					options: { fileFormat: 'csv' },
				});
				expect(exported).toMatchObject({ couponName: 'LOAD', rows: 3 });
				// The other process held the lock all along.
				expect(writeLockIsHeld(file)).toBe(true);
			} finally {
				await writer.commit();
			}
			const statistics = await contactCoupon({ operation: 'stats', couponName: '' });
			expect(statistics.map((pool) => pool.name)).toEqual(['HELD', 'LOAD']);
		},
		HEAVY_TEST_MS,
	);

	it('answers a read while a write of this process is open, from what was committed before it', async () => {
		const store = new LocalStore(localDatabase(file));
		const poolNames = async () =>
			await store.transaction(async (s) => (await s.listPools()).map((pool) => pool.name), {
				readOnly: true,
			});
		let writeOpened!: () => void;
		let endWrite!: () => void;
		const opened = new Promise<void>((resolve) => (writeOpened = resolve));
		const write = store.transaction(async (s) => {
			await s.createPool('LATER', 'generated');
			writeOpened();
			await new Promise<void>((resolve) => (endWrite = resolve));
		});
		await opened;
		// Behind the write's turn this would wait until the write ends, which it does only after.
		const during = await poolNames();
		endWrite();
		await write;
		expect(during).toEqual(['LOAD']);
		expect(await poolNames()).toEqual(['LATER', 'LOAD']);
	});
});

describeCheckoutRaces('Local (SQLite file)', async () => {
	const { file, remove } = temporaryLocalFile('races');
	return {
		spec: `local:${file}`,
		store: new LocalStore(localDatabase(file)),
		close: async () => remove(),
	};
});
