import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request, type APIRequestContext } from 'playwright-core';
import { waitForWebhook } from './n8nCli';

// scripts/n8n.js is plain JavaScript shared with `npm run dev`.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const n8nScripts = require('../../scripts/n8n') as { CACHE: string; ensureN8n(): void };

const ROOT = join(__dirname, '../..');
const EXAMPLES = readdirSync(join(ROOT, 'examples')).filter((file) => file.endsWith('.json'));
const OWNER = {
	email: 'dev-owner@example.com',
	firstName: 'Dev',
	lastName: 'Owner',
	password: 'Coupons-Dev-2026',
};
// Starting `npm run dev` builds, installs the package and starts n8n: minutes on a loaded machine.
const START_MS = 10 * 60_000;
const TEST_MS = 20 * 60_000;

/** `npm run dev` as a user starts it from a terminal, its output collected. */
class DevRun {
	output = '';
	readonly exited: Promise<number | null>;
	private readonly child: ChildProcess;

	constructor(cache: string, env: Record<string, string> = {}) {
		// A terminal's environment: none of the npm_* settings of the `npm run test:e2e` around us,
		// no port chosen unless the test chooses one.
		const inherited = Object.fromEntries(
			Object.entries(process.env).filter(
				([name]) =>
					!name.startsWith('npm_') &&
					!['NODE_ENV', 'N8N_PORT', 'N8N_RUNNERS_BROKER_PORT', 'N8N_LISTEN_ADDRESS'].includes(name),
			),
		);
		this.child = spawn('npm', ['run', 'dev'], {
			cwd: ROOT,
			env: { ...inherited, N8N_COUPONS_CACHE: cache, ...env },
			// Its own process group, as a terminal's job: Ctrl+C reaches npm, dev.js and n8n.
			detached: true,
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		for (const stream of [this.child.stdout!, this.child.stderr!])
			stream.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
		this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
	}

	/** The dev script's own lines ([dev] and [n8n]), for messages. */
	get said(): string {
		return this.output
			.split('\n')
			.filter((line) => /^\[(dev|n8n)\]/.test(line))
			.join('\n');
	}

	/** Waits until the output matches `pattern`; fails when npm run dev ends first. */
	async waitFor(pattern: RegExp): Promise<RegExpMatchArray> {
		let ended = false;
		void this.exited.then(() => (ended = true));
		for (const started = Date.now(); Date.now() - started < START_MS;) {
			const match = this.output.match(pattern);
			if (match) return match;
			if (ended) break;
			await new Promise((resolve) => setTimeout(resolve, 1000));
		}
		throw new Error(
			`npm run dev did not print ${pattern}; it printed:\n${this.output.slice(-6000)}`,
		);
	}

	/** Waits until n8n is ready; returns its port. */
	async ready(): Promise<number> {
		return Number((await this.waitFor(/n8n is ready: http:\/\/localhost:(\d+)/))[1]);
	}

	/** Ctrl+C, then waits for the end (forcing it after a minute). */
	async stop(): Promise<number | null> {
		if (this.child.exitCode !== null || this.child.signalCode !== null) return await this.exited;
		process.kill(-this.child.pid!, 'SIGINT');
		const forced = setTimeout(() => process.kill(-this.child.pid!, 'SIGKILL'), 60_000);
		const code = await this.exited;
		clearTimeout(forced);
		return code;
	}
}

/** A listener on `port`, as another n8n would hold it; undefined if something holds it already. */
async function occupy(port: number): Promise<Server | undefined> {
	const server = createServer();
	return await new Promise((resolve, reject) => {
		server.once('error', (error: NodeJS.ErrnoException) =>
			error.code === 'EADDRINUSE' ? resolve(undefined) : reject(error),
		);
		server.listen({ port }, () => resolve(server));
	});
}

async function loggedIn(port: number): Promise<APIRequestContext> {
	const api = await request.newContext({ baseURL: `http://127.0.0.1:${port}` });
	const login = await api.post('/rest/login', {
		data: { emailOrLdapLoginId: OWNER.email, password: OWNER.password },
	});
	expect(login.status()).toBe(200);
	return api;
}

async function workflow(api: APIRequestContext, id: string) {
	const response = await api.get(`/rest/workflows/${id}`);
	return {
		status: response.status(),
		...(response.ok()
			? ((await response.json()) as { data: { name: string; active: boolean; versionId: string } })
					.data
			: {}),
	};
}

const checkCode = (port: number) => async () =>
	await fetch(`http://127.0.0.1:${port}/webhook/coupon-check?code=NONE-1&email=ann@example.com`, {
		headers: { 'X-Shop-Key': 'dev-shop-key' },
	});

describe('npm run dev beside another n8n, started twice', () => {
	let cache: string;
	let held: Server[];
	let dev: DevRun | undefined;
	let api: APIRequestContext | undefined;

	/**
	 * A cache of its own (so the dev folder is new, and a developer's own stays untouched) that
	 * shares the installed Node and n8n; and another n8n's ports held, 5678 and its broker's 5679.
	 */
	beforeAll(async () => {
		n8nScripts.ensureN8n();
		cache = mkdtempSync(join(tmpdir(), 'n8n-coupons-dev-e2e-'));
		for (const entry of readdirSync(n8nScripts.CACHE).filter((name) => /^(node|n8n)-/.test(name)))
			symlinkSync(join(n8nScripts.CACHE, entry), join(cache, entry));
		held = (await Promise.all([occupy(5678), occupy(5679)])).filter(
			(server): server is Server => server !== undefined,
		);
	}, TEST_MS);

	afterEach(async () => {
		await api?.dispose();
		api = undefined;
		await dev?.stop();
		dev = undefined;
	}, 120_000);

	afterAll(async () => {
		for (const server of held ?? []) server.close();
		rmSync(cache, { recursive: true, force: true });
	});

	it(
		'first start: n8n and its task broker on free ports, each said; every example imported; the owner to create',
		async () => {
			dev = new DevRun(cache);
			const port = await dev.ready();
			expect(port).not.toBe(5678);
			expect(dev.said).toMatch(
				new RegExp(`port 5678 is in use.*: n8n gets port ${port} instead \\(set N8N_PORT`),
			);
			expect(dev.said).toMatch(/port 5679 is in use.*: n8n's task broker gets port \d+ instead/);
			expect(dev.said).toContain(`example workflows: ${EXAMPLES.length} imported`);
			expect(dev.said).toContain('dev credentials: 8 imported');
			expect(dev.said).toContain('First visit: create the owner account');

			// The user's first hour: the owner, an example renamed and published, their Shopify
			// credential filled in, an example they do not want deleted.
			api = await request.newContext({ baseURL: `http://127.0.0.1:${port}` });
			expect((await api.post('/rest/owner/setup', { data: OWNER })).status()).toBe(200);
			const check = await workflow(api, 'couponsExample06');
			const renamed = await api.patch('/rest/workflows/couponsExample06', {
				data: { name: 'Our code check', versionId: check.versionId },
			});
			expect(renamed.status()).toBe(200);
			const published = await api.post('/rest/workflows/couponsExample06/activate', {
				data: {
					versionId: ((await renamed.json()) as { data: { versionId: string } }).data.versionId,
				},
			});
			expect(published.status()).toBe(200);
			const shopify = await api.patch('/rest/credentials/couponsShopify01', {
				data: {
					name: 'Our Shopify',
					type: 'shopifyAccessTokenApi',
					data: { shopSubdomain: 'our-shop', accessToken: 'shpat_ours', appSecretKey: 'ours' },
				},
			});
			expect(shopify.status()).toBe(200);
			expect(
				(await api.post('/rest/workflows/couponsExample09/archive', { data: {} })).status(),
			).toBe(200);
			expect((await api.delete('/rest/workflows/couponsExample09')).status()).toBe(200);
			// Published: n8n registers the webhook a little later.
			await waitForWebhook(checkCode(port));
		},
		TEST_MS,
	);

	it(
		'a restart keeps the renamed example published and its webhook answering, keeps the credential, imports only the missing example, and says to log in',
		async () => {
			dev = new DevRun(cache);
			const port = await dev.ready();
			expect(dev.said).toContain(
				`example workflows: 1 imported (Coupons: daily pool report), ${EXAMPLES.length - 1} already in n8n, kept as you left them`,
			);
			expect(dev.said).toContain('dev credentials: all 8 already in n8n, kept as you left them');
			expect(dev.said).toContain('Log in with the owner account you created');
			expect(dev.said).not.toContain('First visit');

			api = await loggedIn(port);
			expect(await workflow(api, 'couponsExample06')).toMatchObject({
				name: 'Our code check',
				active: true,
			});
			await waitForWebhook(checkCode(port));
			const answer = await (await checkCode(port)()).json();
			expect(answer).toMatchObject({ valid: false });
			expect(await workflow(api, 'couponsExample09')).toMatchObject({
				status: 200,
				name: 'Coupons: daily pool report',
			});
			const shopify = (await (
				await api.get('/rest/credentials/couponsShopify01?includeData=true')
			).json()) as { data: { name: string; data: { shopSubdomain: string } } };
			expect(shopify.data).toMatchObject({
				name: 'Our Shopify',
				data: { shopSubdomain: 'our-shop' },
			});
		},
		TEST_MS,
	);

	it(
		"prints the end of n8n's own output, with a hint, when n8n exits before it is ready",
		async () => {
			// n8n cannot listen on an address the machine does not have (TEST-NET-1), and exits.
			dev = new DevRun(cache, { N8N_LISTEN_ADDRESS: '192.0.2.1' });
			expect(await dev.exited).not.toBe(0);
			expect(dev.said).toMatch(/n8n exited before it was ready \(exit code 1\)/);
			expect(dev.said).toContain(join(cache, 'dev', 'n8n.log'));
			// n8n's own words, not only an exit code.
			expect(dev.said).toMatch(/\| .*EADDRNOTAVAIL.*192\.0\.2\.1/);
			expect(dev.said).toContain('N8N_LISTEN_ADDRESS names an address this machine does not have');
		},
		TEST_MS,
	);

	it(
		'refuses an N8N_PORT that is in use, saying so before it installs or starts anything',
		async () => {
			dev = new DevRun(cache, { N8N_PORT: '5678' });
			expect(await dev.exited).toBe(1);
			expect(dev.said).toMatch(/N8N_PORT=5678 is in use( by process \d+ \(.*\))?\. Stop that/);
			expect(dev.said).not.toContain('installing this package');
		},
		TEST_MS,
	);
});
