/**
 * Storage behind both nodes. A store keeps pools, their codes and who holds which; it enforces
 * uniqueness (one holder per code, one code per `codeKey` in a pool) but decides nothing else:
 * validity, reuse and code generation live in `core/` so every store obeys the same rules.
 * Pool names are matched by `couponNameKey`, codes by `codeKey`.
 */
export interface CouponStore {
	/** Runs `work` atomically: everything it changed is kept if it resolves, nothing if it throws. */
	transaction<T>(work: (session: CouponStoreSession) => Promise<T>): Promise<T>;
}

/** What a store keeps of one code assigned to one contact. Times are epoch milliseconds. */
export interface AssignmentRecord {
	code: string;
	contactKey: string;
	assignedAt: number;
	validUntil: number;
	/** Set when "replace" ended this coupon before its time. */
	replacedAt?: number;
	/** Set when the code was redeemed at checkout; a redeemed code is never freed or assigned again. */
	redeemedAt?: number;
	/** The order the redemption belongs to, when the shop gave one. */
	orderReference?: string;
}

export type PoolKind = 'imported' | 'generated';

export interface PoolInfo {
	/** The name as first written; later look-ups may differ in case. */
	name: string;
	kind: PoolKind;
	/** Every code the coupon holds: unused imported ones plus each one ever assigned. */
	codeCount: number;
}

/** A pool's codes by `assignmentStatus` at a given moment. */
export interface PoolCounts {
	/** Imported codes nobody holds yet. */
	available: number;
	/** Codes ever assigned, whatever became of them: active + expired + redeemed + replaced. */
	assigned: number;
	active: number;
	expired: number;
	redeemed: number;
	replaced: number;
	/** Codes assigned at or after the `since` asked for. */
	assignedSince: number;
}

/** A coupon a contact holds, with the name of its pool. */
export interface HeldAssignment extends AssignmentRecord {
	couponName: string;
}

/** A code to mark redeemed, with the order it was used for. */
export interface RedeemedCode {
	code: string;
	orderReference?: string;
}

/** A code as its pool holds it; `assignment` is missing while nobody holds it. */
export interface StoredCode {
	couponName: string;
	code: string;
	key: string;
	assignment?: AssignmentRecord;
}

/** A value read from row `row` (1-based, as the spreadsheet shows it), with its `codeKey`. */
export interface ImportCandidate {
	code: string;
	key: string;
	row: number;
}

export interface ImportOutcome {
	added: number;
	/** Candidates whose code the pool already held. */
	duplicates: number;
	/** The first of those duplicates by row, at most `DUPLICATE_EXAMPLES`. */
	duplicateExamples: ImportCandidate[];
	codeCount: number;
	available: number;
}

export const DUPLICATE_EXAMPLES = 20;

/** An assignment still waiting for its code. */
export type PendingAssignment = Omit<AssignmentRecord, 'code'>;

export interface CouponStoreSession {
	findPool(name: string): Promise<PoolInfo | undefined>;
	/** Every pool, ordered by name key. */
	listPools(): Promise<PoolInfo[]>;
	/** Creates an empty pool, or returns the pool of that name that another session created meanwhile. */
	createPool(name: string, kind: PoolKind): Promise<PoolInfo>;
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
	 * until the session ends, so that concurrent redemptions of one code happen one after the other.
	 */
	findCodes(keys: string[], forUpdate: boolean): Promise<StoredCode[]>;
	/** Marks assigned, unredeemed codes of the pool (locked by `findCodes`) redeemed at `at`; all or none. */
	markRedeemed(name: string, redemptions: RedeemedCode[], at: number): Promise<void>;
	/**
	 * Assigns random unused imported codes to as many of `pending` as the pool allows, in order:
	 * the result's i-th record belongs to `pending[i]`, and it is shorter when the pool ran dry.
	 */
	assignImported(name: string, pending: PendingAssignment[]): Promise<AssignmentRecord[]>;
	/** Records generated assignments whose code key the pool does not hold yet; returns those recorded. */
	insertGenerated(name: string, candidates: AssignmentRecord[]): Promise<AssignmentRecord[]>;
	/** Adds imported codes the pool does not hold yet. The candidates' keys are distinct. */
	addImported(name: string, candidates: ImportCandidate[]): Promise<ImportOutcome>;
}
