import { isShared } from '../codes/sharedCodes';
import type {
	CouponStore,
	CouponStoreSession,
	EventPosition,
	EventRead,
	EventStream,
	StoredEvent,
} from '../storeContract';
import { viewAssignment, type AssignmentView } from '../assign/assignmentView';
import { CouponError } from '../common/errors';
import {
	couponNameKey,
	echo,
	MAX_COUPON_NAME_LENGTH,
	parseChoice,
	parseCouponName,
} from '../common/names';
import { numberParameter } from '../common/limits';
import { DAY_MS, redemptionsOf } from '../common/validity';
import { statisticsOf, type PoolStatistics } from '../pool/statistics';
import { startOf } from './positions';

/** What the Coupon Trigger watches for: its Event parameter. */
export const COUPON_EVENTS = [
	'lowStock',
	'expiringSoon',
	'redeemed',
	'undone',
	'holdLapsed',
] as const;
export type CouponEventName = (typeof COUPON_EVENTS)[number];

/**
 * How long after it happened an event is read. A checkout takes its time before it commits (on
 * PostgreSQL it may wait a minute for a lock): a poll that read right up to its own clock could pass
 * over a use committed a moment later with an earlier time, and never see it.
 */
export const EVENT_SETTLE_MS = 2 * 60_000;
export const MAX_EVENTS_LIMIT = 1_000;
/** Coupons one trigger names at most, and the length of the field that names them. */
export const MAX_WATCHED_COUPONS = 100;
/** The longest Coupon Names that names the most coupons, each of the longest name, with separators. */
const MAX_WATCHED_TEXT = MAX_WATCHED_COUPONS * (MAX_COUPON_NAME_LENGTH + 2);

export interface TriggerSettings {
	event: CouponEventName;
	/** Name keys of the coupons watched; every coupon when missing. */
	couponKeys?: string[];
	/** Low Stock: fewer available codes than this. */
	availableBelow: number;
	/** Low Stock: fewer days of stock left than this; 0 for no such test. */
	daysLeftBelow: number;
	/** Expiring Soon: coupons ending within this many days. */
	withinDays: number;
	maxEvents: number;
}

/**
 * How events settle in a poll: `settleMs` after they happened, and not after the oldest run still
 * open began (`openSince`), read before the poll's snapshot so that a run committing meanwhile is
 * either in the snapshot or still counted as open.
 */
export interface Settling {
	settleMs: number;
	openSince?: number;
}

/** The bounds of one round of reads: every stream read up to them before the next round starts. */
interface RoundBounds {
	/** Events up to this time (a settled time, EVENT_SETTLE_MS before the poll). */
	settledAt: number;
	/** Expiring Soon: coupons ending up to this time. */
	horizon: number;
}

/** What the trigger keeps between polls: plain JSON, in the coupon store (`TriggerEvents.readCursor`). */
export interface TriggerCursor {
	version: 1;
	event: CouponEventName;
	/** The round read before: where the current round's ranges start. */
	previous: RoundBounds;
	/** The round under way, when the last poll stopped at Max Events. */
	round?: RoundBounds;
	/** How far the round under way read each stream; `done` when read to its end. */
	positions: Partial<Record<EventStream, EventPosition | 'done'>>;
	/** Low Stock: the coupons (name keys) that were low at the last poll. */
	low?: string[];
	/**
	 * When the poll that kept it ran: a cursor never comes back as it was, so that a poll that read
	 * it long ago cannot move it (Low Stock's state can: low, not low, low again).
	 */
	polledAt?: number;
}

/** A code's event as the trigger outputs it. */
export interface CodeEvent {
	event: Exclude<CouponEventName, 'lowStock'>;
	couponName: string;
	code: string;
	contact: string;
	/** The use's order (Redeemed, Undone), the hold's (Hold Lapsed); null otherwise or when none was given. */
	orderReference: string | null;
	/** When it happened: the use, its undoing, the hold's end; for Expiring Soon, the coupon's end. */
	at: string;
	validUntil: string;
	/** Expiring Soon: whole days left before `validUntil`, rounded down. */
	daysLeft?: number;
	/** Redeemed and Undone: the use's number, 1 for the code's first. */
	use?: number;
	/** Undone: the reason given. */
	undoReason?: string | null;
	/** The contact's coupon as Get Contact Coupons shows it, without its history of uses. */
	coupon: Omit<AssignmentView, 'redemptions'>;
}

export interface LowStockEvent extends PoolStatistics {
	event: 'lowStock';
	couponName: string;
	/** Which limit the coupon fell below: `available` codes, or `daysLeft` of stock. */
	below: 'available' | 'daysLeft';
}

export type CouponEvent = CodeEvent | LowStockEvent;

export interface Poll {
	events: CouponEvent[];
	cursor: TriggerCursor;
}

const wholeNumber = (raw: unknown, label: string, least: number, most: number): number => {
	const value = numberParameter(raw);
	if (typeof value !== 'number' || !Number.isInteger(value) || value < least || value > most)
		throw new CouponError(
			'NUMBER_INVALID',
			`${label} must be a whole number from ${least} to ${most}; got ${echo(raw)}`,
			`Enter a whole number from ${least} to ${most} in ${label}.`,
		);
	return value;
};

/** Coupon Names as name keys (none for every coupon), or a CouponError naming the bad one. */
export function parseWatchedCoupons(raw: unknown): string[] | undefined {
	if (raw === undefined || raw === null || raw === '') return undefined;
	if (typeof raw !== 'string')
		throw new CouponError(
			'NAME_INVALID',
			`Coupon Names must be text, such as "SPRING10, VIP"; got ${echo(raw)}`,
			'Enter coupon names separated by commas, or leave the field empty for every coupon.',
		);
	if (raw.length > MAX_WATCHED_TEXT)
		throw new CouponError(
			'NAME_INVALID',
			`Coupon Names is ${raw.length.toLocaleString('en-US')} characters long, over the limit of ${MAX_WATCHED_TEXT.toLocaleString('en-US')}`,
			`Name at most ${MAX_WATCHED_COUPONS} coupons, or leave the field empty for every coupon.`,
		);
	const names = raw
		.split(',')
		.map((name) => name.trim())
		.filter((name) => name !== '');
	if (names.length === 0) return undefined;
	const keys = [...new Set(names.map((name) => couponNameKey(parseCouponName(name))))];
	if (keys.length > MAX_WATCHED_COUPONS)
		throw new CouponError(
			'NAME_INVALID',
			`Coupon Names names ${keys.length} coupons, over the limit of ${MAX_WATCHED_COUPONS}`,
			'Leave the field empty to watch every coupon, or use one trigger per group of coupons.',
		);
	return keys;
}

/** The trigger's parameters as settings, or a CouponError that names the one to fix. */
export function parseTriggerSettings(raw: {
	event: unknown;
	couponNames: unknown;
	availableBelow: unknown;
	daysLeftBelow: unknown;
	withinDays: unknown;
	maxEvents: unknown;
}): TriggerSettings {
	const event = parseChoice(raw.event, COUPON_EVENTS, 'Event', 'redeemed');
	const couponKeys = parseWatchedCoupons(raw.couponNames);
	const settings: TriggerSettings = {
		event,
		...(couponKeys ? { couponKeys } : {}),
		availableBelow:
			event === 'lowStock'
				? wholeNumber(raw.availableBelow, 'Fewer Available Codes Than', 0, 1e9)
				: 0,
		daysLeftBelow:
			event === 'lowStock'
				? wholeNumber(raw.daysLeftBelow, 'Fewer Days of Stock Than', 0, 3650)
				: 0,
		withinDays:
			event === 'expiringSoon' ? wholeNumber(raw.withinDays, 'Days Before the End', 1, 365) : 0,
		maxEvents: wholeNumber(raw.maxEvents, 'Max Events per Poll', 1, MAX_EVENTS_LIMIT),
	};
	if (event === 'lowStock' && settings.availableBelow === 0 && settings.daysLeftBelow === 0)
		throw new CouponError(
			'NUMBER_INVALID',
			'Fewer Available Codes Than and Fewer Days of Stock Than are both 0: no list can fall below them',
			'Set Fewer Available Codes Than (such as 100), Fewer Days of Stock Than (such as 7), or both.',
		);
	return settings;
}

/** The cursor a stored value holds, or undefined when it is missing or of another event. */
function storedCursor(raw: unknown, event: CouponEventName): TriggerCursor | undefined {
	if (typeof raw !== 'object' || raw === null) return undefined;
	const cursor = raw as Partial<TriggerCursor>;
	return cursor.version === 1 && cursor.event === event && cursor.previous
		? (cursor as TriggerCursor)
		: undefined;
}

/**
 * The bounds of a new round. They never go back (a clock set back, fewer Days Before the End), or
 * the ranges read before would be read again. Events are settled `settleMs` before now, and before
 * the oldest transaction of another process still open (`openSince`): a long run may commit events
 * stamped when it began.
 */
function boundsAt(
	now: number,
	settings: TriggerSettings,
	previous: RoundBounds,
	{ settleMs, openSince }: Settling,
): RoundBounds {
	const settled = Math.min(now, openSince ?? now) - settleMs;
	return {
		settledAt: Math.max(previous.settledAt, settled),
		horizon: Math.max(previous.horizon, now + settings.withinDays * DAY_MS),
	};
}

/**
 * The cursor of a trigger that never polled: events from now on. For Expiring Soon every active
 * coupon that ends within the days asked for is still to come, as none was reminded yet.
 */
function firstCursor(now: number, settings: TriggerSettings): TriggerCursor {
	return {
		version: 1,
		event: settings.event,
		previous: { settledAt: now - EVENT_SETTLE_MS, horizon: now },
		positions: {},
	};
}

/** After every event of time `at`. */
const after = (at: number) => startOf(at + 1);

/**
 * The reads of a round, in order. Expiring Soon reads two streams so that each coupon fires once,
 * in the first round that has it both settled (assigned before `settledAt`) and ending before
 * `horizon`: the coupons reaching the horizon this round, then those assigned this round that
 * end before the round's start (a coupon valid for fewer days than the trigger looks ahead).
 */
function roundReads(
	settings: TriggerSettings,
	previous: RoundBounds,
	round: RoundBounds,
	now: number,
): Array<Omit<EventRead, 'after' | 'limit'> & { from: number }> {
	const couponKeys = settings.couponKeys ? { couponKeys: settings.couponKeys } : {};
	const settled = { from: previous.settledAt, upTo: round.settledAt, ...couponKeys };
	switch (settings.event) {
		case 'redeemed':
		case 'undone':
		case 'holdLapsed':
			return [{ stream: settings.event, ...settled }];
		case 'expiringSoon':
			return [
				{
					stream: 'expiring',
					from: previous.horizon,
					upTo: round.horizon,
					activeAt: now,
					assignedAtMost: round.settledAt,
					...couponKeys,
				},
				{
					stream: 'assignedExpiring',
					...settled,
					activeAt: now,
					validUntilAtMost: previous.horizon,
				},
			];
		case 'lowStock':
			return [];
	}
}

/**
 * Reads the events since the cursor, at most Max Events, and the cursor to keep. Each event comes
 * once: a poll that stops at Max Events goes on from there at the next, and the round's bounds
 * stay fixed until all of it is read. Only reads: the caller keeps the cursor, or, for a test run,
 * does not.
 */
export async function pollEvents(
	session: CouponStoreSession,
	settings: TriggerSettings,
	stored: TriggerCursor | undefined,
	now: number,
	settling: Settling,
): Promise<Poll> {
	const cursor = stored ?? firstCursor(now, settings);
	if (settings.event === 'lowStock') return await pollLowStock(session, settings, cursor, now);
	const round = cursor.round ?? boundsAt(now, settings, cursor.previous, settling);
	const positions = { ...(cursor.round ? cursor.positions : {}) };
	const events: CouponEvent[] = [];
	for (const read of roundReads(settings, cursor.previous, round, now)) {
		const position = positions[read.stream];
		if (position === 'done') continue;
		const limit = settings.maxEvents - events.length;
		const { from, ...range } = read;
		const found =
			limit === 0
				? []
				: await session.events.read({ ...range, after: position ?? after(from), limit });
		for (const stored of found)
			// A shared code belongs to nobody: nobody is reminded that it ends; its uses are events.
			if (settings.event !== 'expiringSoon' || !isShared(stored.terms))
				events.push(codeEvent(settings.event, stored, now));
		if (found.length === limit) {
			if (found.length > 0) positions[read.stream] = found[found.length - 1].position;
			return { events, cursor: { ...cursor, round, positions, polledAt: now } };
		}
		positions[read.stream] = 'done';
	}
	const next: TriggerCursor = {
		version: 1,
		event: settings.event,
		previous: round,
		positions: {},
		polledAt: now,
	};
	return { events, cursor: next };
}

/** How far back a test run looks for sample events. */
export const TEST_LOOK_BACK_DAYS = 30;

/**
 * The events of one poll of the trigger kept under `key`, its cursor moved past them. The events
 * are read in a transaction that only reads, and the cursor moved in a short one after, only if it
 * is still the one read: of two polls of one trigger that overlap, one fires the events and the
 * other fires none. A test run (the editor's Fetch Test Event) shows the events of the last
 * TEST_LOOK_BACK_DAYS days instead, up to the moment, and moves nothing.
 */
export async function pollTrigger(
	store: CouponStore,
	key: string,
	settings: TriggerSettings,
	now: number,
	test: boolean,
): Promise<CouponEvent[]> {
	if (test) {
		const lookBack: TriggerCursor = {
			...firstCursor(now, settings),
			previous: { settledAt: now - TEST_LOOK_BACK_DAYS * DAY_MS, horizon: now },
		};
		// Up to the moment: a test run keeps no cursor that a late commit could slip behind.
		const poll = await store.transaction(
			async (session) => await pollEvents(session, settings, lookBack, now, { settleMs: 0 }),
			{ readOnly: true },
		);
		return poll.events;
	}
	const openSince = await store.transaction(async (session) => await session.events.openSince(), {
		readOnly: true,
	});
	const settling = { settleMs: EVENT_SETTLE_MS, ...(openSince === undefined ? {} : { openSince }) };
	const { kept, poll } = await store.transaction(
		async (session) => {
			const kept = await session.events.readCursor(key);
			const stored = storedCursor(kept, settings.event);
			return { kept, poll: await pollEvents(session, settings, stored, now, settling) };
		},
		{ readOnly: true },
	);
	const moved = await store.transaction(
		async (session) => await session.events.replaceCursor(key, kept, poll.cursor),
	);
	return moved ? poll.events : [];
}

const iso = (ms: number) => new Date(ms).toISOString();

function codeEvent(event: CouponEventName, stored: StoredEvent, now: number): CodeEvent {
	const { assignment, position } = stored;
	// The history of a code of many uses would repeat in every event of it: the view reads only
	// its latest use that stands (the coupon's orderReference). A shared code's view shows no
	// customer's uses: the event names its own customer and order.
	const latest = redemptionsOf(assignment)
		.filter((entry) => entry.undoneAt === undefined)
		.at(-1);
	const { redemptions: _, ...coupon } = viewAssignment(
		stored,
		{ ...assignment, redemptions: latest ? [latest] : [] },
		now,
	);
	const use = assignment.redemptions?.find((entry) => entry.n === position.n);
	const common = {
		couponName: stored.couponName,
		code: assignment.code,
		// A use of a shared code is its customer's.
		contact: use?.contactKey ?? assignment.contactKey,
		at: iso(position.at),
		validUntil: coupon.validUntil,
	};
	switch (event) {
		case 'redeemed':
		case 'undone':
			return {
				event,
				...common,
				orderReference: use?.orderReference ?? null,
				use: position.n,
				...(event === 'undone' ? { undoReason: use?.undoReason ?? null } : {}),
				coupon,
			};
		case 'holdLapsed':
			return { event, ...common, orderReference: assignment.hold?.orderReference ?? null, coupon };
		default:
			return {
				event: 'expiringSoon',
				...common,
				orderReference: null,
				daysLeft: Math.max(0, Math.floor((assignment.validUntil - now) / DAY_MS)),
				coupon,
			};
	}
}

/** Why a coupon is low, or undefined when it is not. Generated coupons never run low. */
function lowBy(
	statistics: PoolStatistics,
	settings: TriggerSettings,
): LowStockEvent['below'] | undefined {
	if (statistics.source === 'generated') return undefined;
	if (statistics.available < settings.availableBelow) return 'available';
	const { daysLeft } = statistics;
	if (settings.daysLeftBelow > 0 && daysLeft !== null && daysLeft < settings.daysLeftBelow)
		return 'daysLeft';
	return undefined;
}

/**
 * Low Stock: a coupon fires when it falls below a limit, once; it fires again only after it was
 * above both limits at a poll (restocked) and fell again.
 */
async function pollLowStock(
	session: CouponStoreSession,
	settings: TriggerSettings,
	cursor: TriggerCursor,
	now: number,
): Promise<Poll> {
	const wasLow = new Set(cursor.low ?? []);
	const watched = settings.couponKeys ? new Set(settings.couponKeys) : undefined;
	const low: string[] = [];
	const events: CouponEvent[] = [];
	// A shared coupon's codes are never assigned, so its stock never falls.
	const pools = (await session.listPools()).filter(
		(pool) => !isShared(pool) && (!watched || watched.has(couponNameKey(pool.name))),
	);
	for (const statistics of await statisticsOf(session, pools, now)) {
		const key = couponNameKey(statistics.name);
		const below = lowBy(statistics, settings);
		if (!below) continue;
		if (wasLow.has(key)) low.push(key);
		else if (events.length < settings.maxEvents) {
			events.push({ event: 'lowStock', couponName: statistics.name, below, ...statistics });
			low.push(key);
		}
	}
	return {
		events,
		cursor: {
			version: 1,
			event: 'lowStock',
			previous: cursor.previous,
			positions: {},
			low,
			polledAt: now,
		},
	};
}
