import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { CouponStore } from '../../nodes/shared/core/storeContract';

const run = promisify(execFile);

/** Imports coupon LOAD, the pool the worker processes assign from, with `size` codes. */
export async function importLoadPool(store: CouponStore, size: number): Promise<void> {
	await store.transaction(async (s) => {
		await s.createPool('LOAD', 'imported');
		await s.addImported(
			'LOAD',
			Array.from({ length: size }, (_, i) => ({
				code: `LOAD-${String(i).padStart(5, '0')}`,
				key: `LOAD${String(i).padStart(5, '0')}`,
				row: i + 2,
			})),
		);
	});
}

export interface AssignLoad {
	processes: number;
	rounds: number;
	uniquePerRound: number;
	/** Contacts every process asks for in every other round. */
	shared: number;
}

export interface WorkerResult {
	contact: string;
	code?: string;
	reused?: boolean;
	error?: string;
}

/** Coupons assigned in the run: every contact of every round, and shared contacts once. */
export const assignmentsOf = (load: AssignLoad) =>
	load.processes * load.rounds * load.uniquePerRound + load.shared;

/**
 * Runs `load.processes` OS processes (assignWorker.ts) assigning coupon LOAD from the store
 * `storeSpec` at the same moment, and returns what each request got.
 */
export async function assignInProcesses(
	storeSpec: string,
	load: AssignLoad,
): Promise<WorkerResult[]> {
	// All processes begin together, so their assignments really overlap.
	const startAt = Date.now() + 1500;
	const outputs = await Promise.all(
		Array.from({ length: load.processes }, async (_, worker) => {
			const { stdout } = await run(
				process.execPath,
				[
					'-r',
					join(__dirname, '../helpers/tsRegister.js'),
					join(__dirname, 'assignWorker.ts'),
					storeSpec,
					String(worker),
					String(load.rounds),
					String(load.uniquePerRound),
					String(load.shared),
					String(startAt),
				],
				{ maxBuffer: 64 * 1024 * 1024, env: process.env },
			);
			return JSON.parse(stdout) as WorkerResult[];
		}),
	);
	return outputs.flat();
}

/**
 * Every request was served; no code went to two contacts; each contact holds one code; shared
 * contacts got one new coupon and reused it after. Returns each code's holder.
 */
export function expectEachCodeOnce(results: WorkerResult[], load: AssignLoad): Map<string, string> {
	expect(results.filter((r) => r.error)).toEqual([]);
	expect(results).toHaveLength(
		load.processes * load.rounds * load.uniquePerRound +
			load.processes * Math.ceil(load.rounds / 2) * load.shared,
	);
	const holderOf = new Map<string, Set<string>>();
	const codesOf = new Map<string, Set<string>>();
	for (const { contact, code } of results) {
		holderOf.set(code!, (holderOf.get(code!) ?? new Set()).add(contact));
		codesOf.set(contact, (codesOf.get(contact) ?? new Set()).add(code!));
	}
	expect([...holderOf.values()].filter((holders) => holders.size > 1)).toEqual([]);
	expect([...codesOf.values()].filter((codes) => codes.size > 1)).toEqual([]);
	for (let k = 0; k < load.shared; k++) {
		const forContact = results.filter((r) => r.contact === `shared-${k}@example.com`);
		expect(forContact).toHaveLength(load.processes * Math.ceil(load.rounds / 2));
		expect(forContact.filter((r) => !r.reused)).toHaveLength(1);
	}
	expect(holderOf.size).toBe(assignmentsOf(load));
	return new Map([...holderOf].map(([code, holders]) => [code, [...holders][0]]));
}
