import { now } from '../../core/common/clock';
import { codeKey } from '../../core/codes/codes';
import { CouponError, StoreError } from '../../core/common/errors';
import { couponNameKey } from '../../core/common/names';
import { Turns } from '../../core/common/turns';
import { activeHold, assignmentStatus, expiryNeeded, usesOf } from '../../core/common/validity';
import {
	DUPLICATE_EXAMPLES,
	type AssignmentRecord,
	type CouponStore,
	type CouponStoreSession,
	type HeldAssignment,
	type ImportCandidate,
	type ImportOutcome,
	type ImportStaging,
	type StagedList,
	type StagedRepeat,
	type KeysInPool,
	type PendingAssignment,
	type PoolCounts,
	type PoolInfo,
	type PoolKind,
	type StoredCode,
	type Details,
	type HoldChange,
	type UseChange,
	type NewCouponTerms,
	type ListedCode,
	type TransactionOptions,
	type CodeFormat,
	type UseScope,
} from '../../core/storeContract';
import { StaticDataEvents } from './StaticDataEvents';

import {
	availableLine,
	byCodeUnits,
	codeOfLine,
	copyRecord,
	FORMAT_VERSION,
	MAX_STATIC_DATA_BYTES,
	readState,
	STATIC_DATA_KEY,
	storedBytes,
	type StoredPool,
	type StoredState,
} from './codec';
import { WorkingPool } from './WorkingPool';

/** Coupon storage in n8n's workflow static data: zero configuration, one workflow, low volume. */
export class StaticDataStore implements CouponStore {
	/**
	 * `staticData` is the workflow's global static data; the store uses only its STATIC_DATA_KEY.
	 * `maxBytes` bounds what the coupons may take there (tests give a smaller bound).
	 */
	constructor(
		private readonly staticData: Record<string, unknown>,
		private readonly maxBytes = MAX_STATIC_DATA_BYTES,
	) {}

	async transaction<T>(
		work: (session: CouponStoreSession) => Promise<T>,
		options: TransactionOptions = {},
	): Promise<T> {
		return await this.transactionWith(undefined, work, options);
	}

	async withStaging<T>(use: (staging: ImportStaging) => Promise<T>): Promise<T> {
		return await use(new StaticDataStaging(this, this.maxBytes));
	}

	async transactionWith<T>(
		staging: StaticDataStaging | undefined,
		work: (session: CouponStoreSession) => Promise<T>,
		{ rollBack = false, readOnly = false }: TransactionOptions,
	): Promise<T> {
		const session = new StaticDataSession(
			readState(this.staticData[STATIC_DATA_KEY]),
			ownCursors(this.staticData[CURSORS_PROPERTY]),
			staging,
		);
		const result = await work(session);
		if (rollBack || readOnly) return result;
		const { cursors } = session.events;
		if (cursors.changed) this.staticData[CURSORS_PROPERTY] = Object.fromEntries(cursors.kept);
		const pools = await session.storedPools();
		if (!pools) return result;
		const state: StoredState = { version: FORMAT_VERSION, pools };
		if (session.addedCodes) refuseOversized(storedBytes(state), this.maxBytes);
		this.staticData[STATIC_DATA_KEY] = state;
		return result;
	}
}

/** Where the Coupon Triggers of the workflow keep their cursors, beside the coupons. */
const CURSORS_PROPERTY = 'n8nNodesCouponsTriggers';

/** The cursors kept in static data, by trigger key: own properties only. */
function ownCursors(raw: unknown): Map<string, unknown> {
	return typeof raw === 'object' && raw !== null && !Array.isArray(raw)
		? new Map(Object.entries(raw))
		: new Map();
}

const megabytes = (n: number) => `${(n / 2 ** 20).toFixed(1)} MB`;

/** Refuses a step that adds codes when the coupons would take more than `maxBytes` of static data. */
function refuseOversized(bytes: number, maxBytes: number): void {
	if (bytes <= maxBytes) return;
	throw new StoreError(
		'LIMIT_EXCEEDED',
		`This step would make the coupons kept in this workflow's static data ${megabytes(bytes)}, over the limit of ${megabytes(maxBytes)}: n8n loads static data with the workflow and saves it whole after every execution`,
		'Nothing of this step was saved. For lists this large choose Local (This n8n) or Database (PostgreSQL) as the storage, and import the list there. Redeeming, statistics, exports and deleting coupons go on as before.',
	);
}

/**
 * An import's staged lists, in memory: static data is bounded, and so is what a list holds, as the
 * lines its codes would take there. (What the whole step adds is checked when it is saved.)
 */
export class StaticDataStaging implements ImportStaging {
	readonly lists = new Map<number, Map<string, ImportCandidate>>();
	private readonly stagedBytes = new Map<number, number>();

	constructor(
		private readonly store: StaticDataStore,
		private readonly maxBytes: number,
	) {}

	newList(): StagedList {
		const list = { id: this.lists.size, size: 0 };
		this.lists.set(list.id, new Map());
		return list;
	}

	async stage(list: StagedList, candidates: ImportCandidate[]): Promise<StagedRepeat[]> {
		const staged = this.candidatesOf(list);
		const repeats: StagedRepeat[] = [];
		let bytes = this.stagedBytes.get(list.id) ?? 0;
		for (const candidate of candidates) {
			const first = staged.get(candidate.key);
			if (first) {
				repeats.push({ row: candidate.row, firstRow: first.row });
				continue;
			}
			staged.set(candidate.key, candidate);
			bytes += Buffer.byteLength(availableLine(candidate)) + 1;
		}
		list.size = staged.size;
		this.stagedBytes.set(list.id, bytes);
		if (bytes > this.maxBytes)
			throw new CouponError(
				'LIMIT_EXCEEDED',
				`The codes of one coupon read so far (to row ${candidates[candidates.length - 1].row.toLocaleString('en-US')}) would take more than ${megabytes(this.maxBytes)} of this workflow's static data, its limit: n8n loads static data with the workflow and saves it whole after every execution`,
				'Nothing was imported. For lists this large choose Local (This n8n) or Database (PostgreSQL) as the storage, and import the list there.',
			);
		return repeats;
	}

	async transaction<T>(
		work: (session: CouponStoreSession) => Promise<T>,
		options: TransactionOptions = {},
	): Promise<T> {
		return await this.store.transactionWith(this, work, options);
	}

	candidatesOf(list: StagedList): Map<string, ImportCandidate> {
		const staged = this.lists.get(list.id);
		if (!staged) throw new Error(`List ${list.id} is not of this staging area`);
		return staged;
	}
}

/** A code of the pool as an export lists it: its assignment without the history of uses, or its own details and expiry. */
async function listedCode(pool: WorkingPool, key: string, code: string): Promise<ListedCode> {
	const assignment = await pool.assignmentByCode(code);
	if (!assignment) {
		const { details, expiresAt } = (await pool.availableCode(code)) ?? {};
		return {
			code,
			key,
			...(details ? { details } : {}),
			...(expiresAt === undefined ? {} : { expiresAt }),
		};
	}
	const { redemptions: _, ...record } = copyRecord(assignment);
	return { code, key, ...(record.details ? { details: record.details } : {}), assignment: record };
}

class StaticDataSession implements CouponStoreSession {
	readonly turns = new Turns();
	private readonly working = new Map<string, WorkingPool>();
	private readonly created: StoredPool[] = [];
	private readonly deleted = new Set<StoredPool>();
	/** Every stored pool by name key, built once per transaction: look-ups never scan the list. */
	private storedByKey?: Map<string, StoredPool>;
	/** Whether the session added codes (imported, created or generated), which the size limit bounds. */
	addedCodes = false;

	readonly events: StaticDataEvents;

	constructor(
		private readonly state: StoredState,
		cursors: Map<string, unknown>,
		private readonly staging?: StaticDataStaging,
	) {
		this.events = new StaticDataEvents(cursors, this.turns, async (wanted) => {
			const pools = [];
			for (const [key, stored] of this.byKey())
				if (!wanted || wanted.has(key))
					pools.push({ key, pool: await this.requirePool(stored.name) });
			return pools;
		});
	}

	/** The pools to store, or undefined when nothing changed. */
	async storedPools(): Promise<StoredPool[] | undefined> {
		const changed = [...this.working.values()].filter((pool) => pool.changed);
		if (changed.length === 0 && this.created.length === 0 && this.deleted.size === 0)
			return undefined;
		const packed = new Map<StoredPool, StoredPool>();
		for (const pool of changed) packed.set(pool.stored, await pool.pack());
		return [...this.state.pools, ...this.created]
			.filter((stored) => !this.deleted.has(stored))
			.map((stored) => packed.get(stored) ?? stored);
	}

	async findPool(name: string): Promise<PoolInfo | undefined> {
		return (await this.pool(name))?.info;
	}

	async createPool(name: string, kind: PoolKind, terms?: NewCouponTerms): Promise<PoolInfo> {
		const existing = await this.pool(name);
		if (existing) return existing.info;
		const stored: StoredPool = {
			name,
			kind,
			createdAt: new Date(now()).toISOString(),
			available: '',
			assignments: '',
			usesPerCode: terms?.usesPerCode ?? 1,
			...(terms?.usesPerCustomer === undefined ? {} : { usesPerCustomer: terms.usesPerCustomer }),
			...(terms?.details ? { details: terms.details } : {}),
			...(terms?.codeFormat ? { codeFormat: terms.codeFormat } : {}),
		};
		this.created.push(stored);
		this.byKey().set(couponNameKey(name), stored);
		return (await this.requirePool(name)).info;
	}

	async listPools(): Promise<PoolInfo[]> {
		// By name key in code-unit order, which is compareCouponNames's order.
		const infos: PoolInfo[] = [];
		for (const [, stored] of [...this.byKey()].sort(([a], [b]) => byCodeUnits(a, b)))
			infos.push((await this.requirePool(stored.name)).info);
		return infos;
	}

	async setCouponDetails(name: string, details: Details | undefined): Promise<void> {
		const pool = await this.requirePool(name);
		pool.details = details;
		pool.changed = true;
	}

	async setCodeFormat(name: string, format: CodeFormat): Promise<void> {
		const pool = await this.requirePool(name);
		pool.codeFormat = format;
		pool.changed = true;
	}

	async countPool(name: string, now: number, since: number): Promise<PoolCounts> {
		const pool = await this.requirePool(name);
		const lapsed = await pool.lapsedCount(now);
		const counts: PoolCounts = {
			available: pool.available.length - lapsed,
			lapsed,
			assigned: pool.assignments.length,
			active: 0,
			expired: 0,
			redeemed: 0,
			replaced: 0,
			assignedSince: 0,
			uses: 0,
			held: 0,
		};
		for (const assignment of pool.assignments) {
			counts[assignmentStatus(assignment, now)]++;
			if (assignment.assignedAt >= since) counts.assignedSince++;
			counts.uses += usesOf(assignment);
			if (activeHold(assignment, now)) counts.held++;
			if (this.turns.due()) await this.turns.pass();
		}
		return counts;
	}

	async assignmentsOf(
		name: string,
		contactKeys: string[],
	): Promise<Map<string, AssignmentRecord[]>> {
		const wanted = new Set(contactKeys);
		const found = new Map<string, AssignmentRecord[]>();
		for (const assignment of (await this.pool(name))?.assignments ?? []) {
			if (wanted.has(assignment.contactKey))
				listOf(found, assignment.contactKey).push(copyRecord(assignment));
			if (this.turns.due()) await this.turns.pass();
		}
		return found;
	}

	async assignmentsOfContacts(contactKeys: string[]): Promise<Map<string, HeldAssignment[]>> {
		const wanted = new Set(contactKeys);
		const found = new Map<string, HeldAssignment[]>();
		for (const { name } of await this.listPools()) {
			const pool = await this.requirePool(name);
			for (const assignment of pool.assignments) {
				if (wanted.has(assignment.contactKey))
					listOf(found, assignment.contactKey).push({
						...copyRecord(assignment),
						couponName: name,
						terms: pool.terms,
					});
				if (this.turns.due()) await this.turns.pass();
			}
		}
		return found;
	}

	async markReplaced(name: string, codes: string[], at: number): Promise<void> {
		const pool = await this.requirePool(name);
		for (const code of codes) {
			const assignment = await pool.assignmentByCode(code);
			if (!assignment) throw new Error(`Code ${code} is not assigned in pool "${name}"`);
			if (assignment.redeemedAt !== undefined || assignment.replacedAt !== undefined) continue;
			assignment.replacedAt = at;
			pool.changed = true;
		}
	}

	async findCodes(keys: string[], _forUpdate: boolean, scope?: UseScope): Promise<StoredCode[]> {
		// One execution at a time owns the static data: there is nothing to lock.
		const found: StoredCode[] = [];
		const distinctKeys = new Set(keys);
		for (const { name } of await this.listPools()) {
			const pool = await this.requirePool(name);
			const codes = await pool.codes();
			for (const key of distinctKeys) {
				const code = codes.get(key);
				if (code === undefined) continue;
				const assignment = await pool.assignmentByCode(code);
				found.push({
					couponName: name,
					terms: pool.terms,
					code,
					key,
					...(assignment ? { assignment: copyRecord(assignment, scope) } : {}),
				});
			}
		}
		return found;
	}

	async *listCodes(name: string, pageSize: number): AsyncGenerator<ListedCode[]> {
		const pool = await this.requirePool(name);
		const keys = await pool.sortedKeys();
		const codes = await pool.codes();
		for (let start = 0; start < keys.length; start += pageSize) {
			const listed: ListedCode[] = [];
			for (const key of keys.slice(start, start + pageSize))
				listed.push(await listedCode(pool, key, codes.get(key)!));
			yield listed;
		}
	}

	async hasCodeDetails(name: string): Promise<boolean> {
		return await (await this.requirePool(name)).hasCodeDetails();
	}

	async writeUses(name: string, changes: UseChange[]): Promise<void> {
		const pool = await this.requirePool(name);
		for (const { code, entries, uses, redeemedAt, orderReference } of changes) {
			const assignment = await pool.assignmentByCode(code);
			if (!assignment)
				throw new Error(`Code ${code} of pool "${name}" cannot take a use: it is not assigned`);
			// A use undone replaces its entry; a use taken adds one. Entries stay in the order of n.
			const history = new Map((assignment.redemptions ?? []).map((entry) => [entry.n, entry]));
			for (const entry of entries) history.set(entry.n, { ...entry });
			assignment.redemptions = [...history.values()].sort((a, b) => a.n - b.n);
			assignment.uses = uses;
			if (redeemedAt === undefined) delete assignment.redeemedAt;
			else assignment.redeemedAt = redeemedAt;
			if (orderReference === undefined) delete assignment.orderReference;
			else assignment.orderReference = orderReference;
			pool.changed = true;
		}
	}

	async writeHolds(name: string, changes: HoldChange[]): Promise<void> {
		const pool = await this.requirePool(name);
		for (const { code, hold } of changes) {
			const assignment = await pool.assignmentByCode(code);
			if (!assignment)
				throw new Error(`Code ${code} of pool "${name}" cannot be held: it is not assigned`);
			if (hold) assignment.hold = { ...hold };
			else delete assignment.hold;
			pool.changed = true;
		}
	}

	async assignImported(
		name: string,
		pending: PendingAssignment[],
		shortenToExpiry = false,
	): Promise<AssignmentRecord[]> {
		const pool = await this.requirePool(name);
		if (pending.length === 0) return [];
		const needed = expiryNeeded(pending, shortenToExpiry);
		const taken = await pool.takeRandomAvailable(pending.length, needed);
		return taken.map(({ code, details, expiresAt }, i) => {
			const { validUntil } = pending[i];
			const record: AssignmentRecord = {
				...pending[i],
				code,
				validUntil: expiresAt !== undefined && expiresAt < validUntil ? expiresAt : validUntil,
				...(details ? { details } : {}),
			};
			pool.record(record);
			return copyRecord(record);
		});
	}

	async insertGenerated(name: string, candidates: AssignmentRecord[]): Promise<AssignmentRecord[]> {
		const pool = await this.requirePool(name);
		const codes = await pool.codes();
		const inserted: AssignmentRecord[] = [];
		for (const candidate of candidates) {
			const key = codeKey(candidate.code);
			if (codes.has(key)) continue;
			pool.record({ ...candidate });
			pool.addKey(key, candidate.code);
			inserted.push({ ...candidate });
			this.addedCodes = true;
			if (this.turns.due()) await this.turns.pass();
		}
		return inserted;
	}

	async keysInPool(name: string, list: StagedList, now: number): Promise<KeysInPool> {
		const pool = await this.requirePool(name);
		const codes = await pool.codes();
		const counted: KeysInPool = { known: 0, unused: 0, available: 0 };
		for (const key of this.staged(list).keys()) {
			if (this.turns.due()) await this.turns.pass();
			const code = codes.get(key);
			if (code === undefined) continue;
			counted.known++;
			if (await pool.assignmentByCode(code)) continue;
			counted.unused++;
			const { expiresAt } = (await pool.availableCode(code)) ?? {};
			if (expiresAt === undefined || expiresAt > now) counted.available++;
		}
		return counted;
	}

	async withdrawUnused(name: string, list: StagedList): Promise<number> {
		const pool = await this.requirePool(name);
		const keep = this.staged(list);
		const withdrawn = await pool.withdrawAvailable((line) => !keep.has(codeKey(codeOfLine(line))));
		pool.changed ||= withdrawn > 0;
		return withdrawn;
	}

	async deletePool(name: string): Promise<{ codes: number; assigned: number }> {
		const pool = await this.requirePool(name);
		const removed = { codes: pool.info.codeCount, assigned: pool.assignments.length };
		const key = couponNameKey(name);
		this.working.delete(key);
		this.byKey().delete(key);
		this.deleted.add(pool.stored);
		return removed;
	}

	async addStaged(name: string, list: StagedList): Promise<ImportOutcome> {
		return await this.addImported(name, this.staged(list).values());
	}

	async addImported(name: string, candidates: Iterable<ImportCandidate>): Promise<ImportOutcome> {
		const pool = await this.requirePool(name);
		const codes = await pool.codes();
		let added = 0;
		let duplicates = 0;
		const duplicateExamples: ImportCandidate[] = [];
		for (const candidate of candidates) {
			if (this.turns.due()) await this.turns.pass();
			const { key } = candidate;
			if (codes.has(key)) {
				if (duplicates++ < DUPLICATE_EXAMPLES) duplicateExamples.push(candidate);
				continue;
			}
			pool.available.push(availableLine(candidate));
			pool.addKey(key, candidate.code);
			if (candidate.expiresAt !== undefined) pool.expiring = true;
			added++;
		}
		pool.changed ||= added > 0;
		this.addedCodes ||= added > 0;
		return {
			added,
			duplicates,
			duplicateExamples,
			codeCount: pool.info.codeCount,
			available: pool.available.length,
		};
	}

	/** The working pool of that name, unpacked on first use in the transaction. */
	private async pool(name: string): Promise<WorkingPool | undefined> {
		const key = couponNameKey(name);
		let pool = this.working.get(key);
		if (!pool) {
			const stored = this.byKey().get(key);
			if (!stored) return undefined;
			pool = await WorkingPool.open(stored, this.turns);
			this.working.set(key, pool);
		}
		return pool;
	}

	private byKey(): Map<string, StoredPool> {
		if (!this.storedByKey) {
			this.storedByKey = new Map();
			// The first of two pools with one key wins, as the list's order did.
			for (const stored of this.state.pools) {
				const key = couponNameKey(stored.name);
				if (!this.storedByKey.has(key)) this.storedByKey.set(key, stored);
			}
		}
		return this.storedByKey;
	}

	/** A staged list of the session's staging area. */
	private staged(list: StagedList): Map<string, ImportCandidate> {
		if (!this.staging)
			throw new Error('A staged list is read only in a transaction of its staging area');
		return this.staging.candidatesOf(list);
	}

	private async requirePool(name: string): Promise<WorkingPool> {
		const pool = await this.pool(name);
		if (!pool) throw new Error(`Pool "${name}" does not exist`);
		return pool;
	}
}

/** The list under `key`, made when missing. */
function listOf<K, T>(lists: Map<K, T[]>, key: K): T[] {
	let list = lists.get(key);
	if (!list) lists.set(key, (list = []));
	return list;
}
