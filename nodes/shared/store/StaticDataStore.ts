import { randomInt } from 'node:crypto';
import { now } from '../core/clock';
import { codeKey } from '../core/codes';
import { CouponError } from '../core/errors';
import { couponNameKey } from '../core/names';
import { assignmentStatus } from '../core/validity';
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
	type RedeemedCode,
	type StoredCode,
} from '../core/store';

/** The key under the workflow's global static data; namespaced because every node of the workflow shares it. */
export const STATIC_DATA_KEY = 'n8nNodesCoupons';
/** Version 2 added redemptions (two more assignment fields); version 1 data reads as it is. */
const FORMAT_VERSION = 2;
const READABLE_VERSIONS = [1, 2];

/**
 * The stored form of a pool. n8n wraps every stored object in a change-tracking proxy and saves the
 * whole static data as JSON in the workflow row, so the bulk is kept as two plain strings:
 * `available` holds unused imported codes, one per line; `assignments` one line per assignment,
 * `code TAB contact TAB assignedAt TAB validUntil TAB replacedAt TAB redeemedAt TAB orderReference`
 * with times in base-36 milliseconds. Codes, contacts and order references never hold control
 * characters, so tabs and line breaks are safe separators.
 */
interface StoredPool {
	name: string;
	kind: PoolKind;
	createdAt: string;
	available: string;
	assignments: string;
}

interface StoredState {
	version: number;
	pools: StoredPool[];
}

/** Coupon storage in n8n's workflow static data: zero configuration, one workflow, low volume. */
export class StaticDataStore implements CouponStore {
	/** `staticData` is the workflow's global static data; the store uses only its STATIC_DATA_KEY. */
	constructor(private readonly staticData: Record<string, unknown>) {}

	async transaction<T>(work: (session: CouponStoreSession) => Promise<T>): Promise<T> {
		const session = new StaticDataSession(readState(this.staticData[STATIC_DATA_KEY]));
		const result = await work(session);
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
		typeof pool.assignments === 'string'
	);
}

/** A pool unpacked for one transaction; packed back only if it changed. */
class WorkingPool {
	readonly available: string[];
	readonly assignments: AssignmentRecord[];
	changed = false;
	private codeByKey?: Map<string, string>;
	private byCode?: Map<string, AssignmentRecord>;

	constructor(readonly stored: StoredPool) {
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
		};
	}

	/** Every code the pool holds by its code key, built on first use. */
	get codes(): Map<string, string> {
		this.codeByKey ??= new Map(
			[...this.available, ...this.assignments.map((a) => a.code)].map((code) => [
				codeKey(code),
				code,
			]),
		);
		return this.codeByKey;
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
		return {
			...this.stored,
			available: this.available.join('\n'),
			assignments: this.assignments.map(formatAssignment).join('\n'),
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

	async createPool(name: string, kind: PoolKind): Promise<PoolInfo> {
		const existing = this.pool(name);
		if (existing) return existing.info;
		const stored: StoredPool = {
			name,
			kind,
			createdAt: new Date(now()).toISOString(),
			available: '',
			assignments: '',
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
		};
		for (const assignment of pool.assignments) {
			counts[assignmentStatus(assignment, now)]++;
			if (assignment.assignedAt >= since) counts.assignedSince++;
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
			if (list) list.push({ ...assignment });
			else found.set(assignment.contactKey, [{ ...assignment }]);
		}
		return found;
	}

	async assignmentsOfContacts(contactKeys: string[]): Promise<Map<string, HeldAssignment[]>> {
		const wanted = new Set(contactKeys);
		const found = new Map<string, HeldAssignment[]>();
		for (const { name } of await this.listPools()) {
			for (const assignment of this.pool(name)!.assignments) {
				if (!wanted.has(assignment.contactKey)) continue;
				const held = { ...assignment, couponName: name };
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
					code,
					key,
					...(assignment ? { assignment: { ...assignment } } : {}),
				});
			}
		}
		return found;
	}

	async markRedeemed(name: string, redemptions: RedeemedCode[], at: number): Promise<void> {
		const pool = this.requirePool(name);
		const assignments = redemptions.map(({ code }) => {
			const assignment = pool.assignmentByCode(code);
			if (
				!assignment ||
				assignment.redeemedAt !== undefined ||
				assignment.replacedAt !== undefined
			) {
				throw new Error(
					`Code ${code} of pool "${name}" cannot be redeemed: it is not an assigned, unredeemed code`,
				);
			}
			return assignment;
		});
		assignments.forEach((assignment, i) => {
			assignment.redeemedAt = at;
			const { orderReference } = redemptions[i];
			if (orderReference !== undefined) assignment.orderReference = orderReference;
		});
		pool.changed ||= redemptions.length > 0;
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
			const record = { ...assignment, code: pool.available.pop()! };
			pool.record(record);
			assigned.push({ ...record });
		}
		return assigned;
	}

	async insertGenerated(name: string, candidates: AssignmentRecord[]): Promise<AssignmentRecord[]> {
		const pool = this.requirePool(name);
		const inserted: AssignmentRecord[] = [];
		for (const candidate of candidates) {
			const key = codeKey(candidate.code);
			if (pool.codes.has(key)) continue;
			pool.codes.set(key, candidate.code);
			pool.record({ ...candidate });
			inserted.push({ ...candidate });
		}
		return inserted;
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
			pool.codes.set(key, candidate.code);
			pool.available.push(candidate.code);
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

function formatAssignment(a: AssignmentRecord): string {
	const fields = [
		a.code,
		a.contactKey,
		formatTime(a.assignedAt),
		formatTime(a.validUntil),
		formatTime(a.replacedAt),
	];
	if (a.redeemedAt !== undefined) fields.push(formatTime(a.redeemedAt), a.orderReference ?? '');
	return fields.join('\t');
}

function parseAssignment(line: string, pool: StoredPool): AssignmentRecord {
	const [code, contactKey, assignedAt, validUntil, replacedAt, redeemedAt, orderReference] =
		line.split('\t');
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
	if (!code || !contactKey || !times.every((time) => time === undefined || Number.isFinite(time)))
		throw new CouponError(
			`The coupons kept in this workflow's static data (under "${STATIC_DATA_KEY}") are damaged: coupon "${pool.name}" holds an assignment that cannot be read`,
			damagedFix,
		);
	return record;
}
