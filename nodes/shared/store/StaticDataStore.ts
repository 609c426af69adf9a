import { randomInt } from 'node:crypto';
import { now } from '../core/clock';
import { codeKey } from '../core/codes';
import { isCodeFormat, type CodeFormat } from '../core/codeFormat';
import { CouponError } from '../core/errors';
import { couponNameKey } from '../core/names';
import { activeHold, assignmentStatus, usesOf } from '../core/validity';
import {
	DUPLICATE_EXAMPLES,
	type AssignmentRecord,
	type CouponStore,
	type CouponStoreSession,
	type HeldAssignment,
	type ImportCandidate,
	type ImportOutcome,
	type PendingAssignment,
	type PoolCounts,
	type PoolInfo,
	type PoolKind,
	type StoredCode,
	type CouponTerms,
	type Details,
	type HoldChange,
	type UseChange,
	type NewCouponTerms,
	type ListedCode,
	type TransactionOptions,
} from '../core/store';

/** The key under the workflow's global static data; namespaced because every node of the workflow shares it. */
export const STATIC_DATA_KEY = 'n8nNodesCoupons';
/**
 * Version 2 added redemptions (two more assignment fields); version 3 uses, holds and details (an
 * eighth field, and a coupon's terms). Data of versions 1 and 2 reads as it is. A coupon's code
 * format came later as an optional field that version 3 readers keep without reading, so it needed
 * no new version.
 */
const FORMAT_VERSION = 3;
const READABLE_VERSIONS = [1, 2, 3];

/**
 * The stored form of a pool. n8n wraps every stored object in a change-tracking proxy and saves the
 * whole static data as JSON in the workflow row, so the bulk is kept as two plain strings:
 * `available` holds unused imported codes, one per line (`code`, or `code TAB details` as JSON);
 * `assignments` one line per assignment, `code TAB contact TAB assignedAt TAB validUntil TAB
 * replacedAt TAB redeemedAt TAB orderReference TAB checkout` with times in base-36 milliseconds and
 * `checkout` a JSON object of the uses, history, hold and details, when there are any. Codes,
 * contacts and order references never hold control characters, and JSON writes them escaped, so
 * tabs and line breaks are safe separators.
 */
interface StoredPool {
	name: string;
	kind: PoolKind;
	createdAt: string;
	available: string;
	assignments: string;
	/** Missing before version 3: one use per code. */
	usesPerCode?: number;
	details?: Details;
	/** Missing for coupons made before formats were kept; readers of version 3 keep it unread. */
	codeFormat?: CodeFormat;
}

interface StoredState {
	version: number;
	pools: StoredPool[];
}

/** Coupon storage in n8n's workflow static data: zero configuration, one workflow, low volume. */
export class StaticDataStore implements CouponStore {
	/** `staticData` is the workflow's global static data; the store uses only its STATIC_DATA_KEY. */
	constructor(private readonly staticData: Record<string, unknown>) {}

	async transaction<T>(
		work: (session: CouponStoreSession) => Promise<T>,
		{ rollBack = false }: TransactionOptions = {},
	): Promise<T> {
		const session = new StaticDataSession(readState(this.staticData[STATIC_DATA_KEY]));
		const result = await work(session);
		if (rollBack) return result;
		const pools = session.storedPools();
		if (pools) this.staticData[STATIC_DATA_KEY] = { version: FORMAT_VERSION, pools };
		return result;
	}
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
	typeof value === 'object' && value !== null && !Array.isArray(value);

const damagedFix = `Choose another storage, or delete "${STATIC_DATA_KEY}" from the workflow's static data (its coupons are lost) to start again.`;

/** The stored coupons, checked: a workflow's static data can be edited by hand or damaged. */
function readState(raw: unknown): StoredState {
	if (raw === undefined || raw === null) return { version: FORMAT_VERSION, pools: [] };
	const where = `The coupons kept in this workflow's static data (under "${STATIC_DATA_KEY}")`;
	if (!isPlainObject(raw) || !Array.isArray(raw.pools))
		throw new CouponError(`${where} are damaged: they are not a list of coupons`, damagedFix);
	if (typeof raw.version !== 'number' || !Number.isInteger(raw.version) || raw.version < 1)
		throw new CouponError(
			`${where} have an unknown format version ${JSON.stringify(raw.version)}`,
			damagedFix,
		);
	if (!READABLE_VERSIONS.includes(raw.version))
		throw new CouponError(
			`${where} have format version ${raw.version}, newer than this version of n8n-nodes-coupons reads (${FORMAT_VERSION})`,
			'Update n8n-nodes-coupons to the version that stored them, or a later one.',
		);
	const damaged = raw.pools.findIndex((pool) => !isStoredPool(pool));
	if (damaged >= 0)
		throw new CouponError(
			`${where} are damaged: coupon number ${damaged + 1} is not a stored coupon`,
			damagedFix,
		);
	return raw as unknown as StoredState;
}

function isStoredPool(pool: unknown): pool is StoredPool {
	return (
		isPlainObject(pool) &&
		typeof pool.name === 'string' &&
		(pool.kind === 'imported' || pool.kind === 'generated') &&
		typeof pool.available === 'string' &&
		typeof pool.assignments === 'string' &&
		(pool.usesPerCode === undefined || isCount(pool.usesPerCode, 1)) &&
		(pool.details === undefined || isPlainObject(pool.details)) &&
		(pool.codeFormat === undefined || isCodeFormat(pool.codeFormat))
	);
}

const isCount = (value: unknown, least: number) =>
	typeof value === 'number' && Number.isInteger(value) && value >= least;

/** An unused code's line: the code, and its details after a tab. */
function splitAvailable(line: string): { code: string; details?: Details } {
	const tab = line.indexOf('\t');
	if (tab < 0) return { code: line };
	const code = line.slice(0, tab);
	const details = parseJson(line.slice(tab + 1));
	if (!isPlainObject(details))
		throw new CouponError(
			`The coupons kept in this workflow's static data (under "${STATIC_DATA_KEY}") are damaged: the details of code ${code} cannot be read`,
			damagedFix,
		);
	return { code, details: details as Details };
}

/** The parsed JSON, or undefined when it is not JSON. */
function parseJson(text: string): unknown {
	try {
		return JSON.parse(text);
	} catch {
		return undefined;
	}
}

/** A pool unpacked for one transaction; packed back only if it changed. */
class WorkingPool {
	readonly available: string[];
	readonly assignments: AssignmentRecord[];
	changed = false;
	/** Kept apart from `stored` until packed: a transaction that throws must leave static data as it was. */
	details?: Details;
	codeFormat?: CodeFormat;
	private codeByKey?: Map<string, string>;
	private keysInOrder?: string[];
	private detailsByCode?: Map<string, Details | undefined>;
	private byCode?: Map<string, AssignmentRecord>;

	constructor(readonly stored: StoredPool) {
		this.details = stored.details;
		this.codeFormat = stored.codeFormat;
		this.available = stored.available === '' ? [] : stored.available.split('\n');
		this.assignments =
			stored.assignments === ''
				? []
				: stored.assignments.split('\n').map((line) => parseAssignment(line, stored));
	}

	get info(): PoolInfo {
		return {
			name: this.stored.name,
			kind: this.stored.kind,
			codeCount: this.available.length + this.assignments.length,
			...this.terms,
			...(this.codeFormat ? { codeFormat: this.codeFormat } : {}),
		};
	}

	get terms(): CouponTerms {
		const { usesPerCode = 1 } = this.stored;
		const { details } = this;
		return details === undefined ? { usesPerCode } : { usesPerCode, details };
	}

	/** Every code the pool holds by its code key, built on first use. */
	get codes(): Map<string, string> {
		this.codeByKey ??= new Map(
			[
				...this.available.map((line) => splitAvailable(line).code),
				...this.assignments.map((a) => a.code),
			].map((code) => [codeKey(code), code]),
		);
		return this.codeByKey;
	}

	/** Removes the unused codes `leaves` picks; returns how many. */
	withdrawAvailable(leaves: (code: string) => boolean): number {
		const kept = this.available.filter((line) => !leaves(splitAvailable(line).code));
		const withdrawn = this.available.length - kept.length;
		if (withdrawn > 0) {
			// In place, without spreading a list that may hold a million codes into one call.
			this.available.length = 0;
			for (const line of kept) this.available.push(line);
			this.codeByKey = undefined;
			this.keysInOrder = undefined;
			this.detailsByCode = undefined;
		}
		return withdrawn;
	}

	/** Notes a new code of the pool; what was built from the codes so far is built again when asked. */
	addKey(key: string, code: string): void {
		this.codes.set(key, code);
		this.keysInOrder = undefined;
		this.detailsByCode = undefined;
	}

	/** Every code key, in code-unit order: built once per transaction, for listing codes a page at a time. */
	sortedKeys(): string[] {
		this.keysInOrder ??= [...this.codes.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
		return this.keysInOrder;
	}

	/** The details of an unused code, read from its line. */
	availableDetails(code: string): Details | undefined {
		this.detailsByCode ??= new Map(
			this.available.map((line) => {
				const { code: listed, details } = splitAvailable(line);
				return [listed, details];
			}),
		);
		return this.detailsByCode.get(code);
	}

	assignmentByCode(code: string): AssignmentRecord | undefined {
		this.byCode ??= new Map(this.assignments.map((a) => [a.code, a]));
		return this.byCode.get(code);
	}

	record(assignment: AssignmentRecord): void {
		this.assignments.push(assignment);
		this.byCode?.set(assignment.code, assignment);
		this.changed = true;
	}

	pack(): StoredPool {
		const { details: _, codeFormat: __, ...stored } = this.stored;
		return {
			...stored,
			available: this.available.join('\n'),
			assignments: this.assignments.map(formatAssignment).join('\n'),
			...(this.details ? { details: this.details } : {}),
			...(this.codeFormat ? { codeFormat: this.codeFormat } : {}),
		};
	}
}

class StaticDataSession implements CouponStoreSession {
	private readonly working = new Map<string, WorkingPool>();
	private readonly created: StoredPool[] = [];
	/** Every stored pool by name key, built once per transaction: look-ups never scan the list. */
	private storedByKey?: Map<string, StoredPool>;

	constructor(private readonly state: StoredState) {}

	/** The pools to store, or undefined when nothing changed. */
	storedPools(): StoredPool[] | undefined {
		const changed = [...this.working.values()].filter((pool) => pool.changed);
		if (changed.length === 0 && this.created.length === 0) return undefined;
		const packed = new Map(changed.map((pool) => [pool.stored, pool.pack()]));
		return [...this.state.pools, ...this.created].map((stored) => packed.get(stored) ?? stored);
	}

	async findPool(name: string): Promise<PoolInfo | undefined> {
		return this.pool(name)?.info;
	}

	async createPool(name: string, kind: PoolKind, terms?: NewCouponTerms): Promise<PoolInfo> {
		const existing = this.pool(name);
		if (existing) return existing.info;
		const stored: StoredPool = {
			name,
			kind,
			createdAt: new Date(now()).toISOString(),
			available: '',
			assignments: '',
			usesPerCode: terms?.usesPerCode ?? 1,
			...(terms?.details ? { details: terms.details } : {}),
			...(terms?.codeFormat ? { codeFormat: terms.codeFormat } : {}),
		};
		this.created.push(stored);
		this.byKey().set(couponNameKey(name), stored);
		return this.pool(name)!.info;
	}

	async listPools(): Promise<PoolInfo[]> {
		// By name key in code-unit order, which is compareCouponNames's order.
		return [...this.byKey()]
			.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
			.map(([, stored]) => this.pool(stored.name)!.info);
	}

	async setCouponDetails(name: string, details: Details | undefined): Promise<void> {
		const pool = this.requirePool(name);
		pool.details = details;
		pool.changed = true;
	}

	async setCodeFormat(name: string, format: CodeFormat): Promise<void> {
		const pool = this.requirePool(name);
		pool.codeFormat = format;
		pool.changed = true;
	}

	async countPool(name: string, now: number, since: number): Promise<PoolCounts> {
		const pool = this.requirePool(name);
		const counts: PoolCounts = {
			available: pool.available.length,
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
		}
		return counts;
	}

	async assignmentsOf(
		name: string,
		contactKeys: string[],
	): Promise<Map<string, AssignmentRecord[]>> {
		const wanted = new Set(contactKeys);
		const found = new Map<string, AssignmentRecord[]>();
		for (const assignment of this.pool(name)?.assignments ?? []) {
			if (!wanted.has(assignment.contactKey)) continue;
			const list = found.get(assignment.contactKey);
			if (list) list.push(copyRecord(assignment));
			else found.set(assignment.contactKey, [copyRecord(assignment)]);
		}
		return found;
	}

	async assignmentsOfContacts(contactKeys: string[]): Promise<Map<string, HeldAssignment[]>> {
		const wanted = new Set(contactKeys);
		const found = new Map<string, HeldAssignment[]>();
		for (const { name } of await this.listPools()) {
			const pool = this.pool(name)!;
			for (const assignment of pool.assignments) {
				if (!wanted.has(assignment.contactKey)) continue;
				const held = { ...copyRecord(assignment), couponName: name, terms: pool.terms };
				const list = found.get(assignment.contactKey);
				if (list) list.push(held);
				else found.set(assignment.contactKey, [held]);
			}
		}
		return found;
	}

	async markReplaced(name: string, codes: string[], at: number): Promise<void> {
		const pool = this.requirePool(name);
		for (const code of codes) {
			const assignment = pool.assignmentByCode(code);
			if (!assignment) throw new Error(`Code ${code} is not assigned in pool "${name}"`);
			if (assignment.redeemedAt !== undefined || assignment.replacedAt !== undefined) continue;
			assignment.replacedAt = at;
			pool.changed = true;
		}
	}

	async findCodes(keys: string[]): Promise<StoredCode[]> {
		// One execution at a time owns the static data: there is nothing to lock.
		const found: StoredCode[] = [];
		const distinctKeys = new Set(keys);
		for (const { name } of await this.listPools()) {
			const pool = this.pool(name)!;
			for (const key of distinctKeys) {
				const code = pool.codes.get(key);
				if (code === undefined) continue;
				const assignment = pool.assignmentByCode(code);
				found.push({
					couponName: name,
					terms: pool.terms,
					code,
					key,
					...(assignment ? { assignment: copyRecord(assignment) } : {}),
				});
			}
		}
		return found;
	}

	async listCodes(
		name: string,
		afterKey: string | undefined,
		limit: number,
	): Promise<ListedCode[]> {
		const pool = this.requirePool(name);
		const keys = pool.sortedKeys();
		// The first key after afterKey, by binary search: pages cost their own length.
		let low = 0;
		let high = keys.length;
		while (afterKey !== undefined && low < high) {
			const middle = (low + high) >>> 1;
			if (keys[middle] <= afterKey) low = middle + 1;
			else high = middle;
		}
		return keys.slice(low, low + limit).map((key) => {
			const code = pool.codes.get(key)!;
			const assignment = pool.assignmentByCode(code);
			if (!assignment) {
				const details = pool.availableDetails(code);
				return { code, key, ...(details ? { details } : {}) };
			}
			const { redemptions: _, ...record } = copyRecord(assignment);
			return {
				code,
				key,
				...(record.details ? { details: record.details } : {}),
				assignment: record,
			};
		});
	}

	async writeUses(name: string, changes: UseChange[]): Promise<void> {
		const pool = this.requirePool(name);
		for (const { code, entries, uses, redeemedAt, orderReference } of changes) {
			const assignment = pool.assignmentByCode(code);
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
		const pool = this.requirePool(name);
		for (const { code, hold } of changes) {
			const assignment = pool.assignmentByCode(code);
			if (!assignment)
				throw new Error(`Code ${code} of pool "${name}" cannot be held: it is not assigned`);
			if (hold) assignment.hold = { ...hold };
			else delete assignment.hold;
			pool.changed = true;
		}
	}

	async assignImported(name: string, pending: PendingAssignment[]): Promise<AssignmentRecord[]> {
		const pool = this.requirePool(name);
		const assigned: AssignmentRecord[] = [];
		for (const assignment of pending) {
			if (pool.available.length === 0) break;
			// Swap a random unused code to the end and take it: O(1) and uniform.
			const pick = randomInt(pool.available.length);
			const last = pool.available.length - 1;
			[pool.available[pick], pool.available[last]] = [pool.available[last], pool.available[pick]];
			const { code, details } = splitAvailable(pool.available.pop()!);
			const record = { ...assignment, code, ...(details ? { details } : {}) };
			pool.record(record);
			assigned.push(copyRecord(record));
		}
		return assigned;
	}

	async insertGenerated(name: string, candidates: AssignmentRecord[]): Promise<AssignmentRecord[]> {
		const pool = this.requirePool(name);
		const inserted: AssignmentRecord[] = [];
		for (const candidate of candidates) {
			const key = codeKey(candidate.code);
			if (pool.codes.has(key)) continue;
			pool.addKey(key, candidate.code);
			pool.record({ ...candidate });
			inserted.push({ ...candidate });
		}
		return inserted;
	}

	async withdrawUnused(name: string, keepKeys: string[]): Promise<number> {
		const pool = this.requirePool(name);
		const keep = new Set(keepKeys);
		const withdrawn = pool.withdrawAvailable((code) => !keep.has(codeKey(code)));
		pool.changed ||= withdrawn > 0;
		return withdrawn;
	}

	async addImported(name: string, candidates: ImportCandidate[]): Promise<ImportOutcome> {
		const pool = this.requirePool(name);
		let duplicates = 0;
		const duplicateExamples: ImportCandidate[] = [];
		for (const candidate of candidates) {
			const { key } = candidate;
			if (pool.codes.has(key)) {
				if (duplicates++ < DUPLICATE_EXAMPLES) duplicateExamples.push(candidate);
				continue;
			}
			pool.addKey(key, candidate.code);
			pool.available.push(
				candidate.details === undefined
					? candidate.code
					: `${candidate.code}\t${JSON.stringify(candidate.details)}`,
			);
		}
		const added = candidates.length - duplicates;
		pool.changed ||= added > 0;
		return {
			added,
			duplicates,
			duplicateExamples,
			codeCount: pool.info.codeCount,
			available: pool.available.length,
		};
	}

	private pool(name: string): WorkingPool | undefined {
		const key = couponNameKey(name);
		let pool = this.working.get(key);
		if (!pool) {
			const stored = this.byKey().get(key);
			if (!stored) return undefined;
			pool = new WorkingPool(stored);
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

	private requirePool(name: string): WorkingPool {
		const pool = this.pool(name);
		if (!pool) throw new Error(`Pool "${name}" does not exist`);
		return pool;
	}
}

const TIME_RADIX = 36;
const formatTime = (ms: number | undefined) => (ms === undefined ? '' : ms.toString(TIME_RADIX));

/** A copy the caller may change without changing the stored record. */
const copyRecord = (record: AssignmentRecord): AssignmentRecord => ({
	...record,
	...(record.redemptions ? { redemptions: record.redemptions.map((entry) => ({ ...entry })) } : {}),
	...(record.hold ? { hold: { ...record.hold } } : {}),
});

/** The eighth field: what checkout added to an assignment, when it added anything. */
interface Checkout {
	uses?: number;
	redemptions?: AssignmentRecord['redemptions'];
	hold?: AssignmentRecord['hold'];
	details?: Details;
}

function formatAssignment(a: AssignmentRecord): string {
	const fields = [
		a.code,
		a.contactKey,
		formatTime(a.assignedAt),
		formatTime(a.validUntil),
		formatTime(a.replacedAt),
	];
	const checkout: Checkout = {};
	if (a.uses !== undefined) checkout.uses = a.uses;
	if (a.redemptions !== undefined) checkout.redemptions = a.redemptions;
	if (a.hold !== undefined) checkout.hold = a.hold;
	if (a.details !== undefined) checkout.details = a.details;
	const hasCheckout = Object.keys(checkout).length > 0;
	if (a.redeemedAt !== undefined || hasCheckout)
		fields.push(formatTime(a.redeemedAt), a.orderReference ?? '');
	if (hasCheckout) fields.push(JSON.stringify(checkout));
	return fields.join('\t');
}

function parseAssignment(line: string, pool: StoredPool): AssignmentRecord {
	const [
		code,
		contactKey,
		assignedAt,
		validUntil,
		replacedAt,
		redeemedAt,
		orderReference,
		checkout,
	] = line.split('\t');
	const record: AssignmentRecord = {
		code,
		contactKey,
		assignedAt: parseInt(assignedAt, TIME_RADIX),
		validUntil: parseInt(validUntil, TIME_RADIX),
	};
	if (replacedAt) record.replacedAt = parseInt(replacedAt, TIME_RADIX);
	if (redeemedAt) record.redeemedAt = parseInt(redeemedAt, TIME_RADIX);
	if (orderReference) record.orderReference = orderReference;
	const times = [record.assignedAt, record.validUntil, record.replacedAt, record.redeemedAt];
	const readable =
		code &&
		contactKey &&
		times.every((time) => time === undefined || Number.isFinite(time)) &&
		(checkout === undefined || readCheckout(checkout, record));
	if (!readable)
		throw new CouponError(
			`The coupons kept in this workflow's static data (under "${STATIC_DATA_KEY}") are damaged: coupon "${pool.name}" holds an assignment that cannot be read`,
			damagedFix,
		);
	return record;
}

/** Adds the eighth field to the record; false when it is not what formatAssignment writes. */
function readCheckout(text: string, record: AssignmentRecord): boolean {
	const checkout = parseJson(text);
	if (!isPlainObject(checkout)) return false;
	const { uses, redemptions, hold, details } = checkout as Checkout;
	if (uses !== undefined && !isCount(uses, 0)) return false;
	if (
		redemptions !== undefined &&
		!(
			Array.isArray(redemptions) &&
			redemptions.every((e) => isPlainObject(e) && isCount(e.n, 1) && Number.isFinite(e.at))
		)
	)
		return false;
	if (
		hold !== undefined &&
		!(isPlainObject(hold) && typeof hold.orderReference === 'string' && Number.isFinite(hold.until))
	)
		return false;
	if (details !== undefined && !isPlainObject(details)) return false;
	// Field by field: the parsed object may carry any key, "__proto__" included.
	if (uses !== undefined) record.uses = uses;
	if (redemptions !== undefined) record.redemptions = redemptions;
	if (hold !== undefined) record.hold = hold;
	if (details !== undefined) record.details = details;
	return true;
}
