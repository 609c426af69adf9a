import type { Turns } from './common/turns';

/**
 * Storage behind both nodes. A store keeps pools, their codes and who holds which; it enforces
 * uniqueness (one holder per code, one code per `codeKey` in a pool) but decides nothing else:
 * validity, reuse and code generation live in `core/` so every store obeys the same rules.
 * Pool names are matched by `couponNameKey`, codes by `codeKey`.
 */
export interface CouponStore {
	/**
	 * Runs `work` atomically: everything it changed is kept if it resolves, nothing if it throws.
	 * With `rollBack`, nothing is kept either way: a dry run sees its own changes, then they go.
	 */
	transaction<T>(
		work: (session: CouponStoreSession) => Promise<T>,
		options?: TransactionOptions,
	): Promise<T>;
	/**
	 * Gives `use` a staging area for an import, gone when `use` ends (and when the process ends
	 * half way). What it stages is seen by no assignment, count or export, and staging holds no lock
	 * a checkout waits for; a transaction of the staging area publishes it.
	 */
	withStaging<T>(use: (staging: ImportStaging) => Promise<T>): Promise<T>;
}

/**
 * Lists of codes an import has read, kept apart from every coupon, each written a batch at a time
 * in a short step of its own, so that an import never holds the whole list in memory nor a lock
 * for the whole read.
 */
export interface ImportStaging {
	/** A new, empty list of this staging area. */
	newList(): StagedList;
	/**
	 * Adds candidates to `list`; their keys are distinct. A candidate whose key the list holds
	 * already is not added: it comes back as a repeat, with the row of the one the list holds.
	 */
	stage(list: StagedList, candidates: ImportCandidate[]): Promise<StagedRepeat[]>;
	/** As CouponStore.transaction; its session's `keysInPool`, `withdrawUnused` and `addStaged` read this area's lists. */
	transaction<T>(
		work: (session: CouponStoreSession) => Promise<T>,
		options?: TransactionOptions,
	): Promise<T>;
}

/** One list of a staging area: the codes an import read for one coupon. */
export interface StagedList {
	readonly id: number;
	/** How many codes it holds. */
	size: number;
}

/** A candidate `stage` did not add: the list holds its key from row `firstRow`. */
export interface StagedRepeat {
	row: number;
	firstRow: number;
}

export interface TransactionOptions {
	rollBack?: boolean;
	/**
	 * The work only reads. A store may then serve it from a snapshot that takes no write lock and
	 * waits for no writer; a write in it is a bug, and fails (the Local storage: a deferred
	 * transaction on a read-only connection). Nothing is kept, whatever `rollBack` says.
	 */
	readOnly?: boolean;
	/**
	 * The work may write up to a million rows (Create Codes, an import, deleting a coupon). A store
	 * may then sync its commit to disk without keeping the event loop meanwhile (the Local storage);
	 * the transaction still ends only once it is durable.
	 */
	bulk?: boolean;
}

/** What a store keeps of one code assigned to one contact. Times are epoch milliseconds. */
export interface AssignmentRecord {
	code: string;
	contactKey: string;
	assignedAt: number;
	validUntil: number;
	/** Set when "replace" ended this coupon before its time. */
	replacedAt?: number;
	/**
	 * Set when the code's last use was taken at checkout (the code is `redeemed`); cleared when a use
	 * is given back. A redeemed code is never freed or assigned again.
	 */
	redeemedAt?: number;
	/** The order of the use that redeemed the code, when the shop gave one. */
	orderReference?: string;
	/**
	 * Uses taken and not undone. Missing in data written before uses were counted: then it is 1 for a
	 * redeemed code and 0 otherwise (`usesOf`).
	 */
	uses?: number;
	/**
	 * Every use ever taken, undone ones included, oldest first. Missing as `uses` is (`redemptionsOf`).
	 * Of a shared code (held by `SHARED_HOLDER`), whose history may be long, only the uses a read
	 * asked for (`UseScope`) and the newest one.
	 */
	redemptions?: RedemptionEntry[];
	/** The order a checkout holds the code for; it ends by itself at `until`. */
	hold?: Hold;
	/** The code's own details, such as an imported list's other columns. */
	details?: Details;
}

/**
 * The contact key a shared code (a coupon with `usesPerCustomer`) is stored as held by. No contact's
 * key is empty, so a shared code is on nobody's contact card, and no assigning takes it.
 */
export const SHARED_HOLDER = '';

/**
 * The uses of a shared code a read needs: every use of these customers, and of the customers of these
 * orders (an undo names the order, and the answer counts its customer's uses), and the uses with
 * these numbers. A store reads these (and the newest use, whose number the next follows) and no
 * other: a code in a newsletter may be used a million times.
 */
export interface UseScope {
	contactKeys?: string[];
	orderReferences?: string[];
	numbers?: number[];
}

/** One use of a code at checkout, and its undoing. */
export interface RedemptionEntry {
	/** 1 for the code's first use, 2 for the next: the entry's key within its code. */
	n: number;
	at: number;
	orderReference?: string;
	/** The customer who took the use, for a shared code (whose holder is nobody); missing otherwise. */
	contactKey?: string;
	undoneAt?: number;
	undoReason?: string;
}

export interface Hold {
	orderReference: string;
	until: number;
}

/** Facts about a coupon or a code that messages and shops use, such as its discount. Flat: no nesting. */
export type Details = Record<string, string | number | boolean | null>;

/** What a coupon sets for all its codes, chosen when it is created. */
export interface CouponTerms {
	/**
	 * How often each code can be redeemed; 1 for a coupon created before uses were counted. For a
	 * shared coupon it caps all customers' uses together (`UNLIMITED_USES`: no cap).
	 */
	usesPerCode: number;
	/**
	 * Set for a shared coupon: its codes belong to no contact (held by `SHARED_HOLDER`), and each
	 * customer may redeem a code this many times.
	 */
	usesPerCustomer?: number;
	details?: Details;
}

/**
 * How a coupon's codes are made: Prefix, then the random part (Length characters of the set, or
 * the Pattern), then the check character if asked for, then Suffix. A coupon keeps the format it
 * was created with; coupons created before formats were kept have none stored.
 */
export interface CodeFormat {
	/** The chosen character set: `*` draws from it, `#` from its digits, `?` from its letters. */
	characters: string;
	/** Random characters when there is no pattern. */
	length: number;
	prefix: string;
	suffix?: string;
	/** `#` a digit, `?` a letter, `*` any character of the set; everything else is written as is. */
	pattern?: string;
	/** A last character computed from the random ones, so that a mistyped code shows as a typo. */
	checkCharacter?: boolean;
}

/** What a coupon is created with: its terms and, for codes made here, their format. */
export interface NewCouponTerms extends CouponTerms {
	codeFormat?: CodeFormat;
}

export type PoolKind = 'imported' | 'generated';

export interface PoolInfo extends NewCouponTerms {
	/** The name as first written; later look-ups may differ in case. */
	name: string;
	kind: PoolKind;
	/** Every code the coupon holds: unused imported ones plus each one ever assigned. */
	codeCount: number;
}

/** A pool's codes by `assignmentStatus` at a given moment. */
export interface PoolCounts {
	/** Imported codes nobody holds yet that can still be assigned (not past their own expiry). */
	available: number;
	/** Imported codes nobody holds that are past their own expiry: never assigned. */
	lapsed: number;
	/** Codes ever assigned, whatever became of them: active + expired + redeemed + replaced. */
	assigned: number;
	active: number;
	expired: number;
	redeemed: number;
	replaced: number;
	/** Codes assigned at or after the `since` asked for. */
	assignedSince: number;
	/** Uses taken and not undone, over all codes (a code of 5 uses counts up to 5). */
	uses: number;
	/** Codes a checkout holds at that moment. */
	held: number;
}

/** The coupon a stored assignment belongs to: its name and terms. */
export interface OfCoupon {
	couponName: string;
	terms: CouponTerms;
}

/** A coupon a contact holds, with its coupon. */
export interface HeldAssignment extends AssignmentRecord, OfCoupon {}

/**
 * What uses taken or undone leave of a code: the entries to write (added, or updated with their
 * undoing), the uses counted, and whether the code is now redeemed (`redeemedAt`, with the order
 * of the last use; both cleared when missing).
 */
export interface UseChange {
	code: string;
	entries: RedemptionEntry[];
	uses: number;
	redeemedAt?: number;
	orderReference?: string;
}

/** A hold to set on a code, or to end when `hold` is missing. */
export interface HoldChange {
	code: string;
	hold?: Hold;
}

/** A code as its pool holds it; `assignment` is missing while nobody holds it. */
export interface StoredCode extends OfCoupon {
	code: string;
	key: string;
	assignment?: AssignmentRecord;
}

/** A code as an export lists it: its own details, and its assignment (without the history of uses) while someone holds it. */
export interface ListedCode {
	code: string;
	key: string;
	details?: Details;
	/** An unused code's own expiry, when its list gave one (an assignment's validUntil respects it). */
	expiresAt?: number;
	assignment?: Omit<AssignmentRecord, 'redemptions'>;
}

/** A value read from row `row` (1-based, as the spreadsheet shows it), with its `codeKey`. */
export interface ImportCandidate {
	code: string;
	key: string;
	row: number;
	details?: Details;
	/** The code's own expiry (epoch milliseconds): it is never assigned to last past it. */
	expiresAt?: number;
}

export interface ImportOutcome {
	added: number;
	/** Candidates whose code the pool already held. */
	duplicates: number;
	/** The first of those duplicates by row, at most `DUPLICATE_EXAMPLES`. */
	duplicateExamples: ImportCandidate[];
	codeCount: number;
	/** Codes nobody holds, those past their own expiry included (the import reads no clock). */
	available: number;
}

export const DUPLICATE_EXAMPLES = 20;

/** What a pool holds of some code keys at one moment. */
export interface KeysInPool {
	/** Keys the pool holds, whoever holds the code. */
	known: number;
	/** Of those, codes nobody holds. */
	unused: number;
	/** Of those unused codes, the ones not past their own expiry: what assigning could take. */
	available: number;
}

/**
 * What the Coupon Trigger reads, a stream at a time, each in one fixed order: the event's time,
 * then the coupon's name key, the code key and the use's number.
 * - `redeemed`: uses taken (`RedemptionEntry.at`); `undone`: uses given back (`undoneAt`);
 * - `holdLapsed`: holds still stored whose time is up (`Hold.until`): a hold that is released or
 *   confirmed by a redemption is no longer stored;
 * - `expiring`: active assignments by `validUntil`; `assignedExpiring`: active assignments by
 *   `assignedAt`, valid until `validUntilAtMost` at the latest.
 */
export type EventStream = 'redeemed' | 'undone' | 'holdLapsed' | 'expiring' | 'assignedExpiring';

/** Where a stream was read up to: the last event read, or a time with empty keys before any. */
export interface EventPosition {
	at: number;
	couponKey: string;
	codeKey: string;
	/** The use's number for `redeemed` and `undone`; 0 for the others. */
	n: number;
}

export interface EventRead {
	stream: EventStream;
	/** Events after this position, up to and including the time `upTo`. */
	after: EventPosition;
	upTo: number;
	/** The coupons read, by name key; every coupon when missing. */
	couponKeys?: string[];
	/** `expiring` and `assignedExpiring`: only assignments active at this time (neither replaced, redeemed nor ended). */
	activeAt?: number;
	/** `assignedExpiring`: only assignments valid until this time at the latest. */
	validUntilAtMost?: number;
	/** `expiring`: only assignments made at this time at the latest. */
	assignedAtMost?: number;
	limit: number;
}

/**
 * One event of a stream: the code it concerns, with its coupon and assignment, at its position. A
 * shared code's history holds the uses the read's events are, and the newest.
 */
export interface StoredEvent extends OfCoupon {
	position: EventPosition;
	assignment: AssignmentRecord;
}

/** An assignment still waiting for its code. */
export type PendingAssignment = Omit<AssignmentRecord, 'code'>;

export interface CouponStoreSession {
	/**
	 * The transaction's share of n8n's event loop: long loops, of the rules and of the store alike,
	 * pass the turn as they go, so that a million codes never freeze the editor or webhooks.
	 */
	readonly turns: Turns;
	findPool(name: string): Promise<PoolInfo | undefined>;
	/** Every pool, ordered by name key. */
	listPools(): Promise<PoolInfo[]>;
	/** Replaces the pool's details (none when missing); its uses per code never change. */
	setCouponDetails(name: string, details: Details | undefined): Promise<void>;
	/**
	 * Creates an empty pool with these terms (one use per code and no details when missing), or
	 * returns the pool of that name that another session created meanwhile, with its own terms.
	 */
	createPool(name: string, kind: PoolKind, terms?: NewCouponTerms): Promise<PoolInfo>;
	/** Notes the format the pool's newest codes were made in (Create Codes), for checking typed codes. */
	setCodeFormat(name: string, format: CodeFormat): Promise<void>;
	countPool(name: string, now: number, since: number): Promise<PoolCounts>;
	/**
	 * Every assignment of the pool held by these contacts. Where sessions run concurrently, it also
	 * locks these contacts of this pool until the session ends, so that two sessions deciding whether
	 * a contact already holds a coupon do so one after the other.
	 */
	assignmentsOf(name: string, contactKeys: string[]): Promise<Map<string, AssignmentRecord[]>>;
	/** Every coupon these contacts hold, in any pool; read only, it locks nothing. */
	assignmentsOfContacts(contactKeys: string[]): Promise<Map<string, HeldAssignment[]>>;
	/** Ends these assigned codes at `at`; a code redeemed meanwhile stays redeemed. */
	markReplaced(name: string, codes: string[], at: number): Promise<void>;
	/**
	 * The codes with these keys, in every pool that holds one. With `forUpdate`, it also locks them
	 * until the session ends, so that concurrent checkouts of one code happen one after the other.
	 * A shared code's history holds the uses of `scope` and the newest use (none asked: the newest).
	 */
	findCodes(keys: string[], forUpdate: boolean, scope?: UseScope): Promise<StoredCode[]>;
	/**
	 * The pool's codes in code-key order (the store's own order of keys, the same on every call), in
	 * pages of at most `pageSize` codes, none empty. Read only; it locks nothing. A reader that stops
	 * early ends the read: the session can go on. While the read is open the session takes no other
	 * call (on PostgreSQL the read holds the connection): read to the end, or stop, first.
	 */
	listCodes(name: string, pageSize: number): AsyncIterable<ListedCode[]>;
	/** Whether any of the pool's codes has details of its own. Read only; it locks nothing. */
	hasCodeDetails(name: string): Promise<boolean>;
	/** Writes uses taken or undone on assigned codes of the pool (locked by `findCodes`); all or none. */
	writeUses(name: string, changes: UseChange[]): Promise<void>;
	/** Sets or ends holds on assigned codes of the pool (locked by `findCodes`). */
	writeHolds(name: string, changes: HoldChange[]): Promise<void>;
	/**
	 * Assigns random unused imported codes to as many of `pending` as the pool allows, in order:
	 * the result's i-th record belongs to `pending[i]`, and it is shorter when the pool ran dry. A
	 * code with its own expiry is taken only if it lasts until the latest `validUntil` of `pending`;
	 * with `shortenToExpiry`, any code not expired at the latest `assignedAt`, its assignment then
	 * valid until the earlier of `validUntil` and the expiry.
	 */
	assignImported(
		name: string,
		pending: PendingAssignment[],
		shortenToExpiry?: boolean,
	): Promise<AssignmentRecord[]>;
	/** Records generated assignments whose code key the pool does not hold yet; returns those recorded. */
	insertGenerated(name: string, candidates: AssignmentRecord[]): Promise<AssignmentRecord[]>;
	/**
	 * How the pool holds the keys of a staged list at `now`. Read only; where sessions run
	 * concurrently it also locks the pool against imports until the session ends, as
	 * `withdrawUnused` does, so that what it counted stays true for the import that asked.
	 */
	keysInPool(name: string, list: StagedList, now: number): Promise<KeysInPool>;
	/**
	 * Removes the pool's unused codes whose key is not in the staged list `keep` (an import that
	 * replaces the list); codes anyone holds stay. Returns how many were removed.
	 */
	withdrawUnused(name: string, keep: StagedList): Promise<number>;
	/**
	 * Removes the pool with every code, assignment and use of it; returns how many codes it held
	 * and how many of them were assigned, counted as they were removed. Where sessions run
	 * concurrently, an assignment that commits while this runs is removed too (and counted).
	 */
	deletePool(name: string): Promise<{ codes: number; assigned: number }>;
	/** Adds imported codes the pool does not hold yet. The candidates' keys are distinct. */
	addImported(name: string, candidates: ImportCandidate[]): Promise<ImportOutcome>;
	/** Adds the codes of a staged list that the pool does not hold yet, as `addImported` does. */
	addStaged(name: string, list: StagedList): Promise<ImportOutcome>;
	/** What the Coupon Trigger reads and keeps (core/events/), in this session. */
	readonly events: TriggerEvents;
}

/** A session's share of the Coupon Trigger: its events, and where each trigger read up to. */
export interface TriggerEvents {
	/**
	 * The first `limit` events of a stream after a position, in the stream's order. Read only; it
	 * locks nothing. Each read is served by an index on the stream's time (SQL stores).
	 */
	read(read: EventRead): Promise<StoredEvent[]>;
	/**
	 * When the oldest transaction of another session that may still commit began, where sessions
	 * of several processes run at once (PostgreSQL); undefined when none is open, or where a
	 * writer's transaction cannot outlast the read that asks (the Local file, static data).
	 */
	openSince(): Promise<number | undefined>;
	/** The JSON a Coupon Trigger last kept under `key` (its workflow and node), or undefined. */
	readCursor(key: string): Promise<unknown>;
	/**
	 * Keeps `cursor` (plain JSON) under `key` if what is kept there is still `expected` (undefined:
	 * nothing yet), and says whether it did: of two polls that read one cursor, one moves it on.
	 */
	replaceCursor(key: string, expected: unknown, cursor: unknown): Promise<boolean>;
}
