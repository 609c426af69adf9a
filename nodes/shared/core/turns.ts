/**
 * How long a loop may keep n8n's event loop to itself: the editor, webhooks and other executions
 * of that n8n wait meanwhile. npm run bench prints the longest wait of each million-code step.
 */
export const TURN_MS = 40;

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
