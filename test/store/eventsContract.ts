import { redeemCodes, type CodeRequest } from '../../nodes/shared/core/checkout/checkout';
import { releaseCodes, reserveCodes } from '../../nodes/shared/core/checkout/holds';
import { undoRedemptions } from '../../nodes/shared/core/checkout/undo';
import { codeKey, UNAMBIGUOUS_CHARACTERS } from '../../nodes/shared/core/codes/codes';
import { assignCoupons } from '../../nodes/shared/core/assign/assign';
import type { Outcome } from '../../nodes/shared/core/common/errors';
import { DAY_MS } from '../../nodes/shared/core/common/validity';
import {
	EVENT_SETTLE_MS,
	pollTrigger,
	type CodeEvent,
	type CouponEvent,
	type TriggerSettings,
} from '../../nodes/shared/core/events/couponEvents';
import type { CouponStoreSession } from '../../nodes/shared/core/storeContract';
import type { StoreFixture } from './contract';

const T0 = Date.UTC(2026, 5, 1, 12);
const MINUTE = 60_000;
const FORMAT = { characters: UNAMBIGUOUS_CHARACTERS, length: 8, prefix: '' };
const TRIGGER = 'workflow-1/node-1';

const settingsFor = (
	event: TriggerSettings['event'],
	extra: Partial<TriggerSettings> = {},
): TriggerSettings => ({
	event,
	availableBelow: 0,
	daysLeftBelow: 0,
	withinDays: 3,
	maxEvents: 100,
	...extra,
});

function value<T>(outcome: Outcome<T>): T {
	if ('error' in outcome) throw outcome.error;
	return outcome.value;
}

const codesOf = (events: CouponEvent[]) => events.map((event) => (event as CodeEvent).code);

/**
 * The Coupon Trigger's rule (pollTrigger) on a store: what each event fires, once, across polls
 * and reopened stores. Each store's test file runs this suite unchanged.
 */
export function describeTriggerEventsContract(
	label: string,
	makeFixture: () => Promise<StoreFixture>,
	/** Whether two transactions of the store can overlap in one process (not static data). */
	{ overlapping = true } = {},
): void {
	describe(`Coupon Trigger events: ${label}`, () => {
		let fixture: StoreFixture;
		beforeEach(async () => (fixture = await makeFixture()));
		afterEach(async () => await fixture.close());

		const run = <T>(work: (session: CouponStoreSession) => Promise<T>): Promise<T> =>
			fixture.open().transaction(work);
		const poll = async (settings: TriggerSettings, at: number, test = false) =>
			// One trigger per event, as a trigger whose Event changes starts again from its first poll.
			await pollTrigger(fixture.open(), `${TRIGGER}:${settings.event}`, settings, at, test);
		const importList = async (name: string, codes: string[], usesPerCode = 1) =>
			await run(async (s) => {
				await s.createPool(name, 'imported', { usesPerCode });
				await s.addImported(
					name,
					codes.map((code, i) => ({ code, key: codeKey(code), row: i + 2 })),
				);
			});
		const give = async (couponName: string, contacts: string[], at: number, validDays = 30) =>
			(
				await run(
					async (s) =>
						await assignCoupons(
							s,
							{ couponName, validDays, policy: 'reuse', format: FORMAT, usesPerCode: 1 },
							contacts.map((contact) => ({ contact, contactKey: contact })),
							at,
						),
				)
			).outcomes.map((outcome) => value(outcome).code);
		const request = (code: string, extra: Partial<CodeRequest> = {}): CodeRequest => ({
			code,
			key: codeKey(code),
			...extra,
		});
		const redeem = async (code: string, order: string, at: number) =>
			value(
				(
					await run(
						async (s) => await redeemCodes(s, [request(code, { orderReference: order })], at),
					)
				)[0],
			);

		it('fires each redemption once, settled, in order, with its order and contact; none from before the first poll', async () => {
			await importList('SPRING', ['S-1', 'S-2', 'S-3']);
			const [ann, bob, cy] = await give('SPRING', ['ann', 'bob', 'cy'], T0 - DAY_MS);
			await redeem(cy, 'ORDER-0', T0 - 10 * MINUTE);
			const redeemed = settingsFor('redeemed');
			expect(await poll(redeemed, T0)).toEqual([]);
			await redeem(ann, 'ORDER-1', T0 + MINUTE);
			await redeem(bob, 'ORDER-2', T0 + 2 * MINUTE);
			// Only what is settled: bob's use is too recent at this poll.
			const first = await poll(redeemed, T0 + MINUTE + EVENT_SETTLE_MS);
			expect(first).toEqual([
				expect.objectContaining({
					event: 'redeemed',
					couponName: 'SPRING',
					code: ann,
					contact: 'ann',
					orderReference: 'ORDER-1',
					use: 1,
					at: new Date(T0 + MINUTE).toISOString(),
					coupon: expect.objectContaining({ status: 'redeemed', code: ann }),
				}),
			]);
			expect(codesOf(await poll(redeemed, T0 + 10 * MINUTE))).toEqual([bob]);
			expect(await poll(redeemed, T0 + 20 * MINUTE)).toEqual([]);
		});

		it('stops at Max Events and goes on at the next poll, never twice, never skipping uses of one moment', async () => {
			const codes = ['M-1', 'M-2', 'M-3', 'M-4', 'M-5'];
			await importList('MANY', codes);
			const given = await give('MANY', ['a', 'b', 'c', 'd', 'e'], T0 - DAY_MS);
			const redeemed = settingsFor('redeemed', { maxEvents: 2 });
			await poll(redeemed, T0);
			await run(
				async (s) =>
					await redeemCodes(
						s,
						given.map((code, i) => request(code, { orderReference: `O-${i}` })),
						T0 + MINUTE,
					),
			);
			const later = T0 + 10 * MINUTE;
			const polls = [
				await poll(redeemed, later),
				await poll(redeemed, later + MINUTE),
				await poll(redeemed, later + 2 * MINUTE),
				await poll(redeemed, later + 3 * MINUTE),
			];
			expect(polls.map((events) => events.length)).toEqual([2, 2, 1, 0]);
			expect(codesOf(polls.flat()).sort()).toEqual([...given].sort());
		});

		it('fires an undone use as Redemption Undone, once, with its reason, and not again as Redeemed', async () => {
			await importList('UNDO', ['U-1']);
			const [code] = await give('UNDO', ['ann'], T0 - DAY_MS);
			const redeemed = settingsFor('redeemed');
			const undone = settingsFor('undone');
			await poll(redeemed, T0);
			await poll(undone, T0);
			await redeem(code, 'ORDER-1', T0 + MINUTE);
			await run(
				async (s) =>
					await undoRedemptions(
						s,
						[{ ...request(code, { orderReference: 'ORDER-1' }), reason: 'refunded' }],
						T0 + 2 * MINUTE,
					),
			);
			const later = T0 + 10 * MINUTE;
			expect(codesOf(await poll(redeemed, later))).toEqual([code]);
			expect(await poll(undone, later)).toEqual([
				expect.objectContaining({
					event: 'undone',
					code,
					orderReference: 'ORDER-1',
					undoReason: 'refunded',
					use: 1,
				}),
			]);
			expect(await poll(undone, later + MINUTE)).toEqual([]);
			expect(await poll(redeemed, later + MINUTE)).toEqual([]);
		});

		it('fires a hold that ran out unused, once; a released or confirmed hold never', async () => {
			await importList('HOLD', ['H-1', 'H-2', 'H-3']);
			const [lapsed, released, confirmed] = await give('HOLD', ['a', 'b', 'c'], T0 - DAY_MS);
			const holdLapsed = settingsFor('holdLapsed');
			await poll(holdLapsed, T0);
			await run(async (s) => {
				for (const [code, order] of [
					[lapsed, 'CART-1'],
					[released, 'CART-2'],
					[confirmed, 'CART-3'],
				])
					value(
						(
							await reserveCodes(
								s,
								[{ ...request(code), orderReference: order, holdMinutes: 15 }],
								T0 + MINUTE,
							)
						)[0],
					);
			});
			await run(
				async (s) =>
					await releaseCodes(
						s,
						[{ ...request(released), orderReference: 'CART-2' }],
						T0 + 2 * MINUTE,
					),
			);
			await redeem(confirmed, 'CART-3', T0 + 3 * MINUTE);
			// Not yet: the hold runs until T0 + 16 minutes.
			expect(await poll(holdLapsed, T0 + 10 * MINUTE)).toEqual([]);
			const events = await poll(holdLapsed, T0 + 16 * MINUTE + EVENT_SETTLE_MS);
			expect(events).toEqual([
				expect.objectContaining({
					event: 'holdLapsed',
					code: lapsed,
					contact: 'a',
					orderReference: 'CART-1',
					at: new Date(T0 + 16 * MINUTE).toISOString(),
				}),
			]);
			expect(await poll(holdLapsed, T0 + 60 * MINUTE)).toEqual([]);
		});

		it('fires each active coupon once as it comes within the days asked for; used ones never; short ones once, when assigned', async () => {
			await importList('END', ['E-1', 'E-2', 'E-3', 'E-4', 'E-5']);
			const [soon] = await give('END', ['soon'], T0 - DAY_MS, 3); // ends T0 + 2 days
			const [later] = await give('END', ['later'], T0 - DAY_MS, 11); // ends T0 + 10 days
			const [used] = await give('END', ['used'], T0 - DAY_MS, 11);
			const expiring = settingsFor('expiringSoon', { withinDays: 3 });
			const first = await poll(expiring, T0);
			expect(first).toEqual([
				expect.objectContaining({
					event: 'expiringSoon',
					code: soon,
					contact: 'soon',
					daysLeft: 2,
					validUntil: new Date(T0 + 2 * DAY_MS).toISOString(),
				}),
			]);
			await redeem(used, 'ORDER-9', T0 + DAY_MS);
			// A coupon of one day, assigned after the first poll: it ends before the range read next.
			const [short] = await give('END', ['short'], T0 + MINUTE, 1);
			expect(codesOf(await poll(expiring, T0 + 60 * MINUTE))).toEqual([short]);
			expect(await poll(expiring, T0 + 3 * DAY_MS)).toEqual([]);
			expect(codesOf(await poll(expiring, T0 + 7 * DAY_MS + MINUTE))).toEqual([later]);
			expect(await poll(expiring, T0 + 8 * DAY_MS)).toEqual([]);
		});

		it('fires Low Stock once per fall below the limit, again only after a restock; generated coupons never', async () => {
			await importList('LIST', ['L-1', 'L-2', 'L-3', 'L-4', 'L-5']);
			await give('GENERATED', ['g'], T0);
			const lowStock = settingsFor('lowStock', { availableBelow: 3 });
			expect(await poll(lowStock, T0)).toEqual([]);
			await give('LIST', ['a', 'b', 'c'], T0 + MINUTE);
			expect(await poll(lowStock, T0 + 2 * MINUTE)).toEqual([
				expect.objectContaining({
					event: 'lowStock',
					couponName: 'LIST',
					below: 'available',
					available: 2,
				}),
			]);
			expect(await poll(lowStock, T0 + 3 * MINUTE)).toEqual([]);
			await run(
				async (s) =>
					await s.addImported('LIST', [
						{ code: 'L-6', key: codeKey('L-6'), row: 2 },
						{ code: 'L-7', key: codeKey('L-7'), row: 3 },
					]),
			);
			expect(await poll(lowStock, T0 + 4 * MINUTE)).toEqual([]);
			await give('LIST', ['d', 'e'], T0 + 5 * MINUTE);
			expect((await poll(lowStock, T0 + 6 * MINUTE)).map((event) => event.couponName)).toEqual([
				'LIST',
			]);
		});

		it('watches only the lists named for Low Stock', async () => {
			await importList('WATCHED', ['W-1', 'W-2']);
			await importList('OTHER', ['O-1', 'O-2']);
			await give('WATCHED', ['a'], T0);
			await give('OTHER', ['b'], T0);
			const lowStock = settingsFor('lowStock', { availableBelow: 2, couponKeys: ['watched'] });
			expect((await poll(lowStock, T0 + MINUTE)).map((event) => event.couponName)).toEqual([
				'WATCHED',
			]);
		});

		it('watches only the coupons named', async () => {
			await importList('A', ['A-1']);
			await importList('B', ['B-1']);
			const [a] = await give('A', ['ann'], T0 - DAY_MS);
			const [b] = await give('B', ['ann'], T0 - DAY_MS);
			const redeemed = settingsFor('redeemed', { couponKeys: ['b'] });
			await poll(redeemed, T0);
			await redeem(a, 'O-A', T0 + MINUTE);
			await redeem(b, 'O-B', T0 + MINUTE);
			expect(codesOf(await poll(redeemed, T0 + 10 * MINUTE))).toEqual([b]);
		});

		it('a test run shows the last days’ events and moves nothing', async () => {
			await importList('TEST', ['T-1']);
			const [code] = await give('TEST', ['ann'], T0 - DAY_MS);
			const redeemed = settingsFor('redeemed');
			await poll(redeemed, T0);
			await redeem(code, 'ORDER-1', T0 + MINUTE);
			// Right away, without the settling time, and again: nothing moved.
			expect(codesOf(await poll(redeemed, T0 + 2 * MINUTE, true))).toEqual([code]);
			expect(codesOf(await poll(redeemed, T0 + 2 * MINUTE, true))).toEqual([code]);
			expect(codesOf(await poll(redeemed, T0 + 10 * MINUTE))).toEqual([code]);
		});

		it('gives each event of a code of several uses its own use, and its history once', async () => {
			await importList('TEAM', ['TEAM-1'], 3);
			const [code] = await give('TEAM', ['team'], T0 - DAY_MS);
			const redeemed = settingsFor('redeemed');
			await poll(redeemed, T0);
			for (const order of ['A', 'B', 'C']) await redeem(code, `ORDER-${order}`, T0 + MINUTE);
			const events = (await poll(redeemed, T0 + 10 * MINUTE)) as CodeEvent[];
			expect(events.map((event) => [event.use, event.orderReference])).toEqual([
				[1, 'ORDER-A'],
				[2, 'ORDER-B'],
				[3, 'ORDER-C'],
			]);
			expect(events[0].coupon).not.toHaveProperty('redemptions');
			const read = await run(
				async (s) =>
					await s.events.read({
						stream: 'redeemed',
						after: { at: 0, couponKey: '', codeKey: '', n: 0 },
						upTo: T0 + DAY_MS,
						limit: 10,
					}),
			);
			expect(read.map((event) => event.assignment.redemptions?.length)).toEqual([3, 3, 3]);
		});

		it('keeps a round’s bounds until all of it is read, so a coupon that comes within the days meanwhile fires at the next round', async () => {
			const HOUR = 60 * MINUTE;
			await importList('ROUND', ['R-1', 'R-2', 'R-3']);
			const expiring = settingsFor('expiringSoon', { withinDays: 3, maxEvents: 1 });
			await poll(expiring, T0 - 36 * HOUR);
			// Two coupons of one day: one poll each (Max Events 1), then one that finds the round read.
			const short = await give('ROUND', ['s1', 's2'], T0 - 36 * HOUR + MINUTE, 1);
			// Ends after the horizon of the round those polls read, before that of the poll ending it.
			const [middle] = await give('ROUND', ['middle'], T0 - 35 * HOUR + 30 * MINUTE, 3);
			const fired = [];
			for (const at of [-35, -34, -33, 1, 2])
				fired.push(codesOf(await poll(expiring, T0 + at * HOUR)));
			expect(fired.map((codes) => codes.length)).toEqual([1, 1, 0, 1, 0]);
			expect(fired.slice(0, 2).flat().sort()).toEqual([...short].sort());
			expect(fired[3]).toEqual([middle]);
		});

		it('never reads a range again: fewer days before the end, or a clock set back', async () => {
			await importList('BACK', ['B-1', 'B-2']);
			// Ends 8 days and 30 minutes after T0.
			const [ending] = await give('BACK', ['ann'], T0 - DAY_MS + 30 * MINUTE, 9);
			const [used] = await give('BACK', ['bob'], T0 - DAY_MS);
			expect(codesOf(await poll(settingsFor('expiringSoon', { withinDays: 10 }), T0))).toEqual([
				ending,
			]);
			const fewerDays = settingsFor('expiringSoon', { withinDays: 3 });
			expect(await poll(fewerDays, T0 + 5 * DAY_MS)).toEqual([]);
			expect(await poll(fewerDays, T0 + 5 * DAY_MS + 60 * MINUTE)).toEqual([]);
			const redeemed = settingsFor('redeemed');
			await poll(redeemed, T0);
			await redeem(used, 'ORDER-1', T0 + 5 * MINUTE);
			expect(codesOf(await poll(redeemed, T0 + 10 * MINUTE))).toEqual([used]);
			// The clock set back six minutes, then on again.
			expect(await poll(redeemed, T0 + 4 * MINUTE)).toEqual([]);
			expect(await poll(redeemed, T0 + 11 * MINUTE)).toEqual([]);
		});

		it('moves a cursor only from the one read: of two polls that read it, one moves it on', async () => {
			const key = 'workflow-2/node-9';
			const cursorOf = async () => await run(async (s) => await s.events.readCursor(key));
			const replace = async (expected: unknown, cursor: unknown) =>
				await run(async (s) => await s.events.replaceCursor(key, expected, cursor));
			expect(await cursorOf()).toBeUndefined();
			expect(await replace(undefined, { round: 1, keys: ['a', 'b'] })).toBe(true);
			expect(await replace(undefined, { round: 2 })).toBe(false);
			const kept = await cursorOf();
			expect(kept).toEqual({ round: 1, keys: ['a', 'b'] });
			expect(await replace(kept, { round: 2 })).toBe(true);
			expect(await replace(kept, { round: 3 })).toBe(false);
			expect(await cursorOf()).toEqual({ round: 2 });
		});

		if (overlapping)
			it('fires an event once when two polls of one trigger overlap', async () => {
				await importList('BOTH', ['BOTH-1', 'BOTH-2']);
				const given = await give('BOTH', ['ann', 'bob'], T0 - DAY_MS);
				const redeemed = settingsFor('redeemed');
				await poll(redeemed, T0);
				for (const [i, code] of given.entries()) await redeem(code, `ORDER-${i}`, T0 + MINUTE);
				const both = await Promise.all([
					poll(redeemed, T0 + 10 * MINUTE),
					poll(redeemed, T0 + 10 * MINUTE),
				]);
				expect(codesOf(both.flat()).sort()).toEqual([...given].sort());
				expect(await poll(redeemed, T0 + 20 * MINUTE)).toEqual([]);
			});
	});
}
