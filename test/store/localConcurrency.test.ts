import { DatabaseSync } from 'node:sqlite';
import { UNAMBIGUOUS_CHARACTERS } from '../../nodes/shared/core/codes';
import { assignCoupons } from '../../nodes/shared/core/assign';
import { LocalStore } from '../../nodes/shared/store/local/LocalStore';
import { localDatabase } from '../../nodes/shared/transport/sqlite';
import { temporaryLocalFile } from '../helpers/localFiles';
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

describeCheckoutRaces('Local (SQLite file)', async () => {
	const { file, remove } = temporaryLocalFile('races');
	return {
		spec: `local:${file}`,
		store: new LocalStore(localDatabase(file)),
		close: async () => remove(),
	};
});
