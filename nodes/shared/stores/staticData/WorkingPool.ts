import { randomInt } from 'node:crypto';
import { codeKey } from '../../core/codes/codes';
import { sortedInTurns, Turns } from '../../core/common/turns';
import {
	type AssignmentRecord,
	type PoolInfo,
	type CouponTerms,
	type Details,
	type CodeFormat,
} from '../../core/storeContract';
import {
	byCodeUnits,
	codeOfLine,
	expiryOfLine,
	formatAssignment,
	joinedLines,
	linesOf,
	parseAssignment,
	splitAvailable,
	type StoredPool,
} from './codec';

/**
 * A pool unpacked for one transaction; packed back only if it changed. A pool may hold a million
 * codes: it is unpacked, indexed and packed a turn at a time (`open`, `codes`, `pack`...).
 */
export class WorkingPool {
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
		const { usesPerCode = 1, usesPerCustomer } = this.stored;
		const { details } = this;
		return {
			usesPerCode,
			...(usesPerCustomer === undefined ? {} : { usesPerCustomer }),
			...(details === undefined ? {} : { details }),
		};
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
		return (await this.unusedCodes()).get(code);
	}

	/** Whether any code, unused or assigned, has details of its own. */
	async hasCodeDetails(): Promise<boolean> {
		for (const { details } of (await this.unusedCodes()).values()) if (details) return true;
		return this.assignments.some((assignment) => assignment.details !== undefined);
	}

	private async unusedCodes(): Promise<Map<string, { details?: Details; expiresAt?: number }>> {
		if (!this.unusedByCode) {
			const unused = new Map<string, { details?: Details; expiresAt?: number }>();
			for (const line of this.available) {
				const one = splitAvailable(line);
				unused.set(one.code, one);
				if (this.turns.due()) await this.turns.pass();
			}
			this.unusedByCode = unused;
		}
		return this.unusedByCode;
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
