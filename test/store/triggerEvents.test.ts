import { DatabaseSync } from 'node:sqlite';
import { Client } from 'pg';
import { assignCoupons } from '../../nodes/shared/core/assign/assign';
import { redeemCodes } from '../../nodes/shared/core/checkout/checkout';
import { codeKey, UNAMBIGUOUS_CHARACTERS } from '../../nodes/shared/core/codes/codes';
import { DAY_MS } from '../../nodes/shared/core/common/validity';
import { pollTrigger, type CodeEvent } from '../../nodes/shared/core/events/couponEvents';
import type { EventRead, EventStream } from '../../nodes/shared/core/storeContract';
import { LocalStore } from '../../nodes/shared/stores/local/LocalStore';
import { PostgresEvents } from '../../nodes/shared/stores/postgres/PostgresEvents';
import { PostgresStore } from '../../nodes/shared/stores/postgres/PostgresStore';
import { eventQuery, postgresEvents, SQLITE_EVENTS } from '../../nodes/shared/stores/triggerSql';
import { databaseFor } from '../../nodes/shared/transport/postgres';
import { localDatabase } from '../../nodes/shared/transport/sqlite';
import { temporaryLocalFile } from '../helpers/localFiles';
import {
	DATABASE_URL,
	describeWithDatabase,
	dropSchema,
	testCredentials,
	uniqueSchema,
} from '../helpers/postgres';

const T0 = Date.UTC(2026, 5, 1, 12);
const MINUTE = 60_000;

/** The index each stream reads a range of (the "event indexes" migrations). */
const INDEXES: Record<EventStream, string> = {
	redeemed: 'redemptions_by_time',
	undone: 'redemptions_by_undo',
	holdLapsed: 'codes_by_hold_end',
	expiring: 'codes_by_end',
	assignedExpiring: 'codes_by_assignment',
};

/** A read of each stream, with and without coupon names. */
const reads = (): Array<{ label: string; read: EventRead }> =>
	(Object.keys(INDEXES) as EventStream[]).flatMap((stream) =>
		[undefined, ['spring', 'vip']].map((couponKeys) => ({
			label: `${stream}${couponKeys ? ' of some coupons' : ''}`,
			read: {
				stream,
				after: { at: T0, couponKey: '', codeKey: '', n: 0 },
				upTo: T0 + DAY_MS,
				activeAt: T0,
				assignedAtMost: T0,
				validUntilAtMost: T0,
				limit: 100,
				...(couponKeys ? { couponKeys } : {}),
			},
		})),
	);

describe('Coupon Trigger reads on the Local file', () => {
	it('reads a range of the stream’s time index, with coupon names too', async () => {
		const local = temporaryLocalFile('plans');
		try {
			// Opening the store migrates the file.
			await new LocalStore(localDatabase(local.file)).transaction(async (s) => await s.listPools());
			const database = new DatabaseSync(local.file, { readOnly: true });
			for (const { label, read } of reads()) {
				const { sql: text, params } = eventQuery(read, SQLITE_EVENTS);
				const plan = database
					.prepare(`EXPLAIN QUERY PLAN ${text}`)
					.all(...(params as never[]))
					.map((row) => String(row.detail));
				expect({ label, first: plan[0] }).toEqual({
					label,
					first: expect.stringContaining(`INDEX ${INDEXES[read.stream]} (`),
				});
			}
			database.close();
		} finally {
			local.remove();
		}
	});
});

describeWithDatabase('Coupon Trigger reads on PostgreSQL', () => {
	const schema = uniqueSchema('events');
	const database = databaseFor(testCredentials(schema));
	const store = () => new PostgresStore(database);
	beforeAll(async () => await store().transaction(async (s) => await s.listPools()));
	afterAll(async () => {
		await database.close();
		await dropSchema(schema);
	});

	// With coupon names PostgreSQL chooses by its statistics (on empty tables it starts at the pools).
	it('can read each stream through its index', async () => {
		const client = new Client({ connectionString: DATABASE_URL });
		await client.connect();
		try {
			// Tables this small are read whole: without that choice, the index must serve.
			await client.query('SET enable_seqscan = off');
			for (const { label, read } of reads().filter(({ read }) => !read.couponKeys)) {
				const { sql: text, params } = eventQuery(read, postgresEvents(`"${schema}"`));
				const { rows } = await client.query(`EXPLAIN (FORMAT JSON) ${text}`, params);
				expect({ label, plan: JSON.stringify(rows[0]['QUERY PLAN']) }).toEqual({
					label,
					plan: expect.stringContaining(`"Index Name":"${INDEXES[read.stream]}"`),
				});
			}
		} finally {
			await client.end();
		}
	});

	/** One code of a new coupon, given a day ago to a contact. */
	const giveOne = async (couponName: string) =>
		await store().transaction(async (s) => {
			const { outcomes } = await assignCoupons(
				s,
				{
					couponName,
					validDays: 30,
					policy: 'reuse',
					format: { characters: UNAMBIGUOUS_CHARACTERS, length: 8, prefix: '' },
					usesPerCode: 1,
				},
				[{ contact: 'ann', contactKey: 'ann' }],
				Date.now() - DAY_MS,
			);
			return outcomes.map((outcome) => ('value' in outcome ? outcome.value.code : ''));
		});
	/** A run that redeems `code` for `order` now and commits when asked. */
	const openRun = async (code: string, order: string) => {
		let commit!: () => void;
		const committed = new Promise<void>((resolve) => (commit = resolve));
		let redeemed!: () => void;
		const hasRedeemed = new Promise<void>((resolve) => (redeemed = resolve));
		const run = store().transaction(async (s) => {
			await redeemCodes(s, [{ code, key: codeKey(code), orderReference: order }], Date.now());
			redeemed();
			await committed;
		});
		await hasRedeemed;
		return {
			commit: async () => {
				commit();
				await run;
			},
		};
	};
	/** Redeemed, of that coupon only: the tests share a schema. */
	const redeemedSettings = (couponName: string) => ({
		couponKeys: [couponName.toLowerCase()],
		event: 'redeemed' as const,
		availableBelow: 0,
		daysLeftBelow: 0,
		withinDays: 3,
		maxEvents: 100,
	});

	it('does not settle what a run still open may commit: its event comes at a later poll, not never', async () => {
		const [code] = await giveOne('OPEN');
		const settings = redeemedSettings('OPEN');
		const poll = async (at: number) =>
			((await pollTrigger(store(), 'open/trigger', settings, at, false)) as CodeEvent[]).map(
				(event) => event.code,
			);
		await poll(Date.now() - 10 * MINUTE);
		// A run that redeems at once and commits late: open while the next poll, ten minutes on, reads.
		const run = await openRun(code, 'LATE');
		expect(await poll(Date.now() + 10 * MINUTE)).toEqual([]);
		await run.commit();
		// Polls go on; once no run on these coupons is open the use is settled and fires, once.
		const fired: string[] = [];
		for (let i = 0; i < 100 && fired.length === 0; i++) {
			fired.push(...(await poll(Date.now() + 20 * MINUTE)));
			if (fired.length === 0) await new Promise((resolve) => setTimeout(resolve, 200));
		}
		expect(fired).toEqual([code]);
		expect(await poll(Date.now() + 30 * MINUTE)).toEqual([]);
	}, 60_000);

	it('counts a run that commits as a poll begins: it is open to the poll, or in what the poll reads', async () => {
		const [code] = await giveOne('BEGIN');
		const settings = redeemedSettings('BEGIN');
		const poll = async (at: number) =>
			((await pollTrigger(store(), 'begin/trigger', settings, at, false)) as CodeEvent[]).map(
				(event) => event.code,
			);
		await poll(Date.now() - 10 * MINUTE);
		const run = await openRun(code, 'EDGE');
		// The run commits just as the poll asks which runs are open.
		const openSince = PostgresEvents.prototype.openSince;
		const spy = jest
			.spyOn(PostgresEvents.prototype, 'openSince')
			.mockImplementationOnce(async function (this: PostgresEvents) {
				await run.commit();
				return await openSince.call(this);
			});
		try {
			expect(await poll(Date.now() + 10 * MINUTE)).toEqual([code]);
		} finally {
			spy.mockRestore();
		}
		expect(await poll(Date.now() + 20 * MINUTE)).toEqual([]);
	});
});
