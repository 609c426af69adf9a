import { randomInt } from 'node:crypto';
import { now } from '../../core/common/clock';
import { codeKey } from '../../core/codes/codes';
import { isCodeFormat } from '../../core/codes/codeFormat';
import { CouponError } from '../../core/common/errors';
import { couponNameKey } from '../../core/common/names';
import { sortedInTurns, Turns } from '../../core/common/turns';
import { activeHold, assignmentStatus, expiryNeeded, usesOf } from '../../core/common/validity';
import {
	DUPLICATE_EXAMPLES,
	type AssignmentRecord,
	type CouponStore,
	type CouponStoreSession,
	type HeldAssignment,
	type ImportCandidate,
	type ImportOutcome,
	type KeysInPool,
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
	type CodeFormat,
} from '../../core/storeContract';

/** The key under the workflow's global static data; namespaced because every node of the workflow shares it. */
export const STATIC_DATA_KEY = 'n8nNodesCoupons';
/**
 * Version 2 added redemptions (two more assignment fields); version 3 uses, holds and details (an
 * eighth field, and a coupon's terms); version 4 an unused code's own expiry (a third field of its
 * line, which a version 3 reader would take for damage) and a coupon's code format. Data of earlier
 * versions reads as it is.
 */
const FORMAT_VERSION = 4;
const READABLE_VERSIONS = [1, 2, 3, 4];

/**
 * The stored form of a pool. n8n wraps every stored object in a change-tracking proxy and saves the
 * whole static data as JSON in the workflow row, so the bulk is kept as two plain strings:
 * `available` holds unused imported codes, one per line (`code`, or `code TAB details` with the
 * details as JSON, then `TAB expiresAt` in base-36 milliseconds when the code has an expiry, the
 * details then empty when it has none);
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
		{ rollBack = false, readOnly = false }: TransactionOptions = {},
	): Promise<T> {
		const session = new StaticDataSession(readState(this.staticData[STATIC_DATA_KEY]));
		const result = await work(session);
		if (rollBack || readOnly) return result;
		const pools = await session.storedPools();
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
function splitAvailable(line: string): { code: string; details?: Details; expiresAt?: number } {
	const [code, detailsText, expiryText] = line.split('\t', 3);
	const damaged = (what: string) =>
		new CouponError(
			`The coupons kept in this workflow's static data (under "${STATIC_DATA_KEY}") are damaged: the ${what} of code ${code} cannot be read`,
			damagedFix,
		);
	const unused: { code: string; details?: Details; expiresAt?: number } = { code };
	if (detailsText) {
		const details = parseJson(detailsText);
		if (!isPlainObject(details)) throw damaged('details');
		unused.details = details as Details;
	}
	if (expiryText !== undefined) {
		const expiresAt = parseInt(expiryText, 36);
		if (!Number.isSafeInteger(expiresAt)) throw damaged('expiry');
		unused.expiresAt = expiresAt;
	}
	return unused;
}

/** An unused code's line's code alone, without reading its details. */
const codeOfLine = (line: string) => {
	const tab = line.indexOf('\t');
	return tab < 0 ? line : line.slice(0, tab);
};

/** An unused code's line's expiry alone, without reading its details. */
function expiryOfLine(line: string): number | undefined {
	const first = line.indexOf('\t');
	const second = first < 0 ? -1 : line.indexOf('\t', first + 1);
	return second < 0 ? undefined : parseInt(line.slice(second + 1), 36);
}

/** An unused code's line: see StoredPool. */
function availableLine({ code, details, expiresAt }: Omit<ImportCandidate, 'key' | 'row'>): string {
	if (expiresAt !== undefined)
		return `${code}\t${details === undefined ? '' : JSON.stringify(details)}\t${expiresAt.toString(36)}`;
	return details === undefined ? code : `${code}\t${JSON.stringify(details)}`;
}

/** The parsed JSON, or undefined when it is not JSON. */
function parseJson(text: string): unknown {
	try {
		return JSON.parse(text);
	} catch {
		return undefined;
	}
}

/** The lines of `text` (none for ''), split a turn at a time: a pool's text may hold a million. */
async function linesOf(text: string, turns: Turns): Promise<string[]> {
	const lines: string[] = [];
	if (text === '') return lines;
	for (let at = 0; ;) {
		const end = text.indexOf('\n', at);
		if (end < 0) {
			lines.push(text.slice(at));
			return lines;
		}
		lines.push(text.slice(at, end));
		at = end + 1;
		if (turns.due()) await turns.pass();
	}
}

/** `lines` joined by line breaks, a turn at a time. */
async function joinedLines(lines: string[], turns: Turns): Promise<string> {
	const parts: string[] = [];
	for (let at = 0; at < lines.length; at += LINES_PER_JOIN) {
		parts.push(lines.slice(at, at + LINES_PER_JOIN).join('\n'));
		if (turns.due()) await turns.pass();
	}
	return parts.join('\n');
}

/** Lines joined in one call: a few milliseconds of work. */
const LINES_PER_JOIN = 20_000;

/** Code-unit order, as compareCouponNames and listCodes use. */
const byCodeUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * A pool unpacked for one transaction; packed back only if it changed. A pool may hold a million
 * codes: it is unpacked, indexed and packed a turn at a time (`open`, `codes`, `pack`...).
 */
class WorkingPool {
	changed = false;
	/** Kept apart from `stored` until packed: a transaction that throws must leave static data as it was. */
	details?: Details;
	codeFormat?: CodeFormat;
	private codeByKey?: Map<string, string>;
	private keysInOrder?: string[];
	/** Whether an unused code has its own expiry: found once per transaction, set by additions. */
	expiring?: boolean;
	private unusedByCode?: Map<string, { details?: Details; expiresAt?: number }>;
	private byCode?: Map<string, AssignmentRecord>;

	private constructor(
		readonly stored: StoredPool,
		readonly available: string[],
		readonly assignments: AssignmentRecord[],
		private readonly turns: Turns,
	) {
		this.details = stored.details;
		this.codeFormat = stored.codeFormat;
	}

	static async open(stored: StoredPool, turns: Turns): Promise<WorkingPool> {
		const available = await linesOf(stored.available, turns);
		const assignments: AssignmentRecord[] = [];
		for (const line of await linesOf(stored.assignments, turns)) {
			assignments.push(parseAssignment(line, stored));
			if (turns.due()) await turns.pass();
		}
		return new WorkingPool(stored, available, assignments, turns);
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
	async codes(): Promise<Map<string, string>> {
		if (!this.codeByKey) {
			const codes = new Map<string, string>();
			for (const line of this.available) {
				const code = codeOfLine(line);
				codes.set(codeKey(code), code);
				if (this.turns.due()) await this.turns.pass();
			}
			for (const { code } of this.assignments) {
				codes.set(codeKey(code), code);
				if (this.turns.due()) await this.turns.pass();
			}
			this.codeByKey = codes;
		}
		return this.codeByKey;
	}

	/**
	 * Takes up to `count` random unused codes whose own expiry, if any, reaches `needed`. Without
	 * expiries (the usual list) each pick is O(1): a random code is swapped to the end and popped.
	 */
	async takeRandomAvailable(
		count: number,
		needed: number,
	): Promise<Array<{ code: string; details?: Details; expiresAt?: number }>> {
		const { turns } = this;
		const taken: Array<{ code: string; details?: Details; expiresAt?: number }> = [];
		this.expiring ??= await this.someAvailable((line) => expiryOfLine(line) !== undefined);
		if (!this.expiring) {
			while (taken.length < count && this.available.length > 0) {
				const pick = randomInt(this.available.length);
				const last = this.available.length - 1;
				[this.available[pick], this.available[last]] = [this.available[last], this.available[pick]];
				taken.push(splitAvailable(this.available.pop()!));
				if (turns.due()) await turns.pass();
			}
		} else {
			// Codes with expiries: choose among those that last, then drop the chosen lines.
			const lasting: number[] = [];
			for (const [i, line] of this.available.entries()) {
				const expiresAt = expiryOfLine(line);
				if (expiresAt === undefined || expiresAt >= needed) lasting.push(i);
				if (turns.due()) await turns.pass();
			}
			const chosen = new Set<number>();
			for (let n = 0; n < count && n < lasting.length; n++) {
				const pick = n + randomInt(lasting.length - n);
				[lasting[n], lasting[pick]] = [lasting[pick], lasting[n]];
				chosen.add(lasting[n]);
				taken.push(splitAvailable(this.available[lasting[n]]));
				if (turns.due()) await turns.pass();
			}
			await this.withdrawAvailable((_line, i) => chosen.has(i));
		}
		if (taken.length > 0) this.unusedByCode = undefined;
		return taken;
	}

	/** Whether an unused code's line passes `test`. */
	private async someAvailable(test: (line: string) => boolean): Promise<boolean> {
		for (const line of this.available) {
			if (test(line)) return true;
			if (this.turns.due()) await this.turns.pass();
		}
		return false;
	}

	/** Unused codes past their own expiry at `now`. */
	async lapsedCount(now: number): Promise<number> {
		let lapsed = 0;
		for (const line of this.available) {
			const expiresAt = expiryOfLine(line);
			if (expiresAt !== undefined && expiresAt <= now) lapsed++;
			if (this.turns.due()) await this.turns.pass();
		}
		return lapsed;
	}

	/** Removes the unused codes `leaves` picks; returns how many. */
	async withdrawAvailable(leaves: (line: string, index: number) => boolean): Promise<number> {
		const kept: string[] = [];
		for (const [i, line] of this.available.entries()) {
			if (!leaves(line, i)) kept.push(line);
			if (this.turns.due()) await this.turns.pass();
		}
		const withdrawn = this.available.length - kept.length;
		if (withdrawn > 0) {
			// In place, without spreading a list that may hold a million codes into one call.
			this.available.length = 0;
			for (const line of kept) this.available.push(line);
			this.codeByKey = undefined;
			this.keysInOrder = undefined;
			this.unusedByCode = undefined;
		}
		return withdrawn;
	}

	/**
	 * Notes a new code of the pool, once its line or assignment is added; what was built from the
	 * codes so far is built again when asked (the map of codes, when built, is kept up to date).
	 */
	addKey(key: string, code: string): void {
		this.codeByKey?.set(key, code);
		this.keysInOrder = undefined;
		this.unusedByCode = undefined;
	}

	/** Every code key, in code-unit order: built once per transaction, for listing codes a page at a time. */
	async sortedKeys(): Promise<string[]> {
		this.keysInOrder ??= await sortedInTurns(
			[...(await this.codes()).keys()],
			byCodeUnits,
			this.turns,
		);
		return this.keysInOrder;
	}

	/** An unused code as its line holds it: details and expiry. */
	async availableCode(
		code: string,
	): Promise<{ details?: Details; expiresAt?: number } | undefined> {
		if (!this.unusedByCode) {
			const unused = new Map<string, { details?: Details; expiresAt?: number }>();
			for (const line of this.available) {
				const one = splitAvailable(line);
				unused.set(one.code, one);
				if (this.turns.due()) await this.turns.pass();
			}
			this.unusedByCode = unused;
		}
		return this.unusedByCode.get(code);
	}

	async assignmentByCode(code: string): Promise<AssignmentRecord | undefined> {
		if (!this.byCode) {
			const byCode = new Map<string, AssignmentRecord>();
			for (const assignment of this.assignments) {
				byCode.set(assignment.code, assignment);
				if (this.turns.due()) await this.turns.pass();
			}
			this.byCode = byCode;
		}
		return this.byCode.get(code);
	}

	record(assignment: AssignmentRecord): void {
		this.assignments.push(assignment);
		this.byCode?.set(assignment.code, assignment);
		this.changed = true;
	}

	async pack(): Promise<StoredPool> {
		const { details: _, codeFormat: __, ...stored } = this.stored;
		const assignments: string[] = [];
		for (const assignment of this.assignments) {
			assignments.push(formatAssignment(assignment));
			if (this.turns.due()) await this.turns.pass();
		}
		return {
			...stored,
			available: await joinedLines(this.available, this.turns),
			assignments: await joinedLines(assignments, this.turns),
			...(this.details ? { details: this.details } : {}),
			...(this.codeFormat ? { codeFormat: this.codeFormat } : {}),
		};
	}
}

class StaticDataSession implements CouponStoreSession {
	readonly turns = new Turns();
	private readonly working = new Map<string, WorkingPool>();
	private readonly created: StoredPool[] = [];
	private readonly deleted = new Set<StoredPool>();
	/** Every stored pool by name key, built once per transaction: look-ups never scan the list. */
	private storedByKey?: Map<string, StoredPool>;

	constructor(private readonly state: StoredState) {}

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

	async findCodes(keys: string[]): Promise<StoredCode[]> {
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
		const pool = await this.requirePool(name);
		const keys = await pool.sortedKeys();
		const codes = await pool.codes();
		// The first key after afterKey, by binary search: pages cost their own length.
		let low = 0;
		let high = keys.length;
		while (afterKey !== undefined && low < high) {
			const middle = (low + high) >>> 1;
			if (keys[middle] <= afterKey) low = middle + 1;
			else high = middle;
		}
		const listed: ListedCode[] = [];
		for (const key of keys.slice(low, low + limit)) {
			const code = codes.get(key)!;
			const assignment = await pool.assignmentByCode(code);
			if (!assignment) {
				const { details, expiresAt } = (await pool.availableCode(code)) ?? {};
				listed.push({
					code,
					key,
					...(details ? { details } : {}),
					...(expiresAt === undefined ? {} : { expiresAt }),
				});
				continue;
			}
			const { redemptions: _, ...record } = copyRecord(assignment);
			listed.push({
				code,
				key,
				...(record.details ? { details: record.details } : {}),
				assignment: record,
			});
		}
		return listed;
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
			if (this.turns.due()) await this.turns.pass();
		}
		return inserted;
	}

	async keysInPool(name: string, keys: string[], now: number): Promise<KeysInPool> {
		const pool = await this.requirePool(name);
		const codes = await pool.codes();
		const counted: KeysInPool = { known: 0, unused: 0, available: 0 };
		for (const key of keys) {
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

	async withdrawUnused(name: string, keepKeys: string[]): Promise<number> {
		const pool = await this.requirePool(name);
		const keep = new Set(keepKeys);
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

	async addImported(name: string, candidates: ImportCandidate[]): Promise<ImportOutcome> {
		const pool = await this.requirePool(name);
		const codes = await pool.codes();
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
