/**
 * How long a loop may keep n8n's event loop to itself: the editor, webhooks and other executions
 * of that n8n wait meanwhile. npm run bench prints the longest wait of each million-code step.
 */
export const TURN_MS = 20;

/**
 * A long loop's way to share the event loop: it asks `due()` as it goes (a clock read), and when
 * its turn is over, `await pass()` lets everything else that waits run before it goes on.
 */
export class Turns {
	private started = performance.now();

	due(): boolean {
		return performance.now() - this.started >= TURN_MS;
	}

	async pass(): Promise<void> {
		await new Promise((resolve) => setImmediate(resolve));
		this.started = performance.now();
	}

	/** Passes the turn if it is over: for loops that can afford an await each round. */
	async share(): Promise<void> {
		if (this.due()) await this.pass();
	}
}

/** Values sorted in one call: a few milliseconds of work. */
const VALUES_PER_SORT = 8_192;

/**
 * `values` sorted (`compare` as Array.prototype.sort takes it), a turn at a time: runs of a few
 * thousand are sorted in one call each, then merged pairwise in loops that pass the turn. A
 * million values sorted in one call keep the event loop for a tenth of a second or more.
 */
export async function sortedInTurns<T>(
	values: readonly T[],
	compare: (a: T, b: T) => number,
	turns: Turns,
): Promise<T[]> {
	let runs: T[][] = [];
	for (let at = 0; at < values.length; at += VALUES_PER_SORT) {
		runs.push(values.slice(at, at + VALUES_PER_SORT).sort(compare));
		if (turns.due()) await turns.pass();
	}
	while (runs.length > 1) {
		const merged: T[][] = [];
		for (let i = 0; i < runs.length; i += 2)
			merged.push(
				i + 1 < runs.length ? await mergedRuns(runs[i], runs[i + 1], compare, turns) : runs[i],
			);
		runs = merged;
	}
	return runs[0] ?? [];
}

async function mergedRuns<T>(
	a: T[],
	b: T[],
	compare: (a: T, b: T) => number,
	turns: Turns,
): Promise<T[]> {
	const out: T[] = new Array(a.length + b.length);
	let i = 0;
	let j = 0;
	for (let k = 0; k < out.length; k++) {
		out[k] = j >= b.length || (i < a.length && compare(a[i], b[j]) <= 0) ? a[i++] : b[j++];
		if (turns.due()) await turns.pass();
	}
	return out;
}
