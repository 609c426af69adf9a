import { execFileSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { IDataObject } from 'n8n-workflow';

// scripts/n8n.js is plain JavaScript shared with `npm run dev`.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const n8nScripts = require('../../scripts/n8n') as {
	ensureN8n(): void;
	installPackage(userFolder: string): void;
	n8n(userFolder: string, args: string[], extraEnv?: Record<string, string>): string;
	startN8n(
		userFolder: string,
		args: string[],
		extraEnv: Record<string, string>,
		stdio: unknown,
	): ChildProcess;
};

/** Ends an n8n that `startN8n` started: asked to stop, then killed if it has not within 3 s. */
export async function stopN8n(server: ChildProcess | undefined): Promise<void> {
	server?.kill('SIGTERM');
	await new Promise((resolve) => setTimeout(resolve, 3000));
	server?.kill('SIGKILL');
}

/** Runs an n8n CLI command (import, publish...) in the user folder. */
export const n8n = n8nScripts.n8n;
/** Starts `n8n start` or `n8n worker`; the caller ends it. */
export const startN8n = n8nScripts.startN8n;

/** Waits until n8n's REST API answers on `port`: /healthz answers earlier, before the editor can log in. */
export async function waitForN8n(port: number): Promise<void> {
	for (let i = 0; i < 180; i++) {
		if (
			// Ready once its migrations ran: /rest/settings answers 200 "starting up" before that.
			await fetch(`http://127.0.0.1:${port}/healthz/readiness`).then(
				(r) => r.ok,
				() => false,
			)
		)
			return;
		await new Promise((resolve) => setTimeout(resolve, 1000));
	}
	throw new Error(`n8n did not answer on port ${port} within 3 minutes`);
}

/**
 * Waits until `probe` reaches the webhook: n8n registers published webhooks a little after its REST
 * API answers, and until then answers with a 404 or, under load, with its editor's HTML page.
 */
export async function waitForWebhook(probe: () => Promise<Response>): Promise<void> {
	let last = '';
	for (let i = 0; i < 60; i++) {
		const response = await probe();
		const type = response.headers.get('content-type') ?? '';
		if (response.status !== 404 && type.includes('json')) return;
		last = `${response.status} ${type}`;
		await new Promise((resolve) => setTimeout(resolve, 1000));
	}
	throw new Error(`the webhook was not registered within a minute (last answer: ${last})`);
}

export interface RunResult {
	status: string;
	error?: {
		message: string;
		description?: string;
		node?: { name: string };
		context?: { itemIndex?: number };
	};
	/** Output items of each node that ran, by node name. */
	output: Record<string, IDataObject[]>;
}

/** A fresh n8n user folder with this package installed as n8n installs it, and the sample spreadsheet. */
export function prepareN8n(): string {
	execFileSync('npm', ['run', 'build', '--silent'], {
		cwd: join(__dirname, '../..'),
		stdio: 'ignore',
	});
	n8nScripts.ensureN8n();
	const userFolder = mkdtempSync(join(tmpdir(), 'n8n-coupons-e2e-'));
	n8nScripts.installPackage(userFolder);
	mkdirSync(join(userFolder, 'files'), { recursive: true });
	copyFileSync(
		join(__dirname, '../../examples/sample-coupons.xlsx'),
		join(userFolder, 'files', 'sample-coupons.xlsx'),
	);
	return userFolder;
}

// scripts/dev.js sets up the folder of `npm run dev`.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const devScript = require('../../scripts/dev') as {
	prepareDevFolder(
		userFolder: string,
	): Array<{ id: string; name: string; nodes: Array<{ type: string }> }>;
};

/**
 * A fresh n8n user folder set up exactly as `npm run dev` sets up its own: the package, the sample
 * list, every example and the dev credentials. Returns the folder and the examples as imported.
 */
export function prepareDevN8n(): {
	userFolder: string;
	workflows: Array<{ id: string; name: string; nodes: Array<{ type: string }> }>;
} {
	execFileSync('npm', ['run', 'build', '--silent'], {
		cwd: join(__dirname, '../..'),
		stdio: 'ignore',
	});
	n8nScripts.ensureN8n();
	const userFolder = mkdtempSync(join(tmpdir(), 'n8n-coupons-first-hour-'));
	return { userFolder, workflows: devScript.prepareDevFolder(userFolder) };
}

/** The shipped example workflows of these names (examples/<name>.json), as n8n imports them. */
export function examples<T extends object = { id: string }>(...names: string[]): T[] {
	return names.map(
		(name) => JSON.parse(readFileSync(join(__dirname, `../../examples/${name}.json`), 'utf8')) as T,
	);
}

/** Imports workflows or credentials into the n8n of `userFolder` (whose database `env` may choose). */
export function importInto(
	userFolder: string,
	kind: 'workflow' | 'credentials',
	items: object[],
	env?: Record<string, string>,
): void {
	const file = join(userFolder, `import-${kind}-${Date.now()}.json`);
	writeFileSync(file, JSON.stringify(items));
	n8n(userFolder, [`import:${kind}`, `--input=${file}`], env);
}

/**
 * The shop's header key the examples' webhooks check (credential `couponsShopKey01`, which
 * `npm run dev` creates), as a credential to import with `importInto`.
 */
export const shopKeyCredential = (key: string) => ({
	id: 'couponsShopKey01',
	name: 'Shop Webhook Key',
	type: 'httpHeaderAuth',
	data: { name: 'X-Shop-Key', value: key },
});

/** Waits, polling every `everyMs`, until `check` holds; fails with what it last saw after `seconds`. */
export async function waitUntil<T>(
	read: () => T,
	check: (value: T) => boolean,
	seconds: number,
	everyMs = 1000,
): Promise<T> {
	const until = Date.now() + seconds * 1000;
	let value = read();
	while (!check(value) && Date.now() < until) {
		await new Promise((resolve) => setTimeout(resolve, everyMs));
		value = read();
	}
	if (!check(value)) throw new Error(`still ${JSON.stringify(value)} after ${seconds} s`);
	return value;
}

/**
 * Runs a workflow with `n8n execute` (CLI mode, which saves static data) and returns its result.
 * Beside a running n8n, `env` gives it a task broker port of its own.
 */
export function execute(
	userFolder: string,
	workflowId: string,
	env?: Record<string, string>,
): RunResult {
	let stdout: string;
	let stderr = '';
	try {
		stdout = n8nScripts.n8n(userFolder, ['execute', '--id', workflowId, '--rawOutput'], env);
	} catch (error) {
		// A workflow that fails exits with 1 but still prints its run data.
		stdout = String((error as { stdout?: string }).stdout ?? '');
		stderr = String((error as { stderr?: string }).stderr ?? '');
	}
	const start = stdout.indexOf('{');
	const end = stdout.lastIndexOf('}');
	if (start < 0)
		throw new Error(`n8n printed no run data:\n${stdout.slice(0, 2000)}\n${stderr.slice(-3000)}`);
	const run = JSON.parse(stdout.slice(start, end + 1)) as {
		status: string;
		data: {
			resultData: {
				error?: RunResult['error'];
				runData: Record<string, Array<{ data?: { main: Array<Array<{ json: IDataObject }>> } }>>;
			};
		};
	};
	const output: Record<string, IDataObject[]> = {};
	for (const [node, runs] of Object.entries(run.data.resultData.runData)) {
		output[node] = runs.flatMap((r) => r.data?.main[0]?.map((item) => item.json) ?? []);
	}
	return { status: run.status, error: run.data.resultData.error, output };
}

/** Rows of the Local storage's coupon file beside a running n8n (WAL: readers never block it). */
export function queryCouponFile<T>(file: string, sql: string): T[] {
	const reader = new DatabaseSync(file, { readOnly: true });
	try {
		return reader.prepare(sql).all() as T[];
	} finally {
		reader.close();
	}
}
