// `npm run dev`: a pinned n8n with this package installed as users install it, the example workflows,
// the sample spreadsheet and a Coupon PostgreSQL credential, at http://localhost:5678 (or the next
// free port). A restart keeps what the user changed there.
// `npm run dev:shop` (`--shop`): a real Vendure shop beside it, for the shop examples (scripts/shop.js).
const fs = require('node:fs');
const path = require('node:path');
const { CACHE, ensureN8n, installPackage, lastLines, n8n, startN8n } = require('./n8n');
const { freePort, isPortFree, portHolder } = require('./ports');

const ROOT = path.join(__dirname, '..');
const USER_FOLDER = path.join(CACHE, 'dev');
const FILES = path.join(USER_FOLDER, 'files');
// n8n's own output: kept out of the terminal (it logs failed look-ups of its own hosts), shown when
// n8n ends unasked.
const N8N_LOG = path.join(USER_FOLDER, 'n8n.log');
const DATABASE_URL =
	process.env.COUPONS_DEV_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const DEV_SHOP_KEY = 'dev-shop-key';
const say = (message) => process.stderr.write(`[dev] ${message}\n`);

function devCredentials() {
	const url = new URL(DATABASE_URL);
	const data = {
		host: url.hostname,
		port: Number(url.port || 5432),
		database: url.pathname.slice(1),
		user: decodeURIComponent(url.username),
		password: decodeURIComponent(url.password),
		ssl: 'disable',
		schema: 'coupons_dev',
		maxConnections: 5,
	};
	// The webhook examples of the checkout side check this header: send it as `X-Shop-Key: dev-shop-key`.
	const shopKey = {
		id: 'couponsShopKey01',
		name: 'Shop Webhook Key',
		type: 'httpHeaderAuth',
		data: { name: 'X-Shop-Key', value: DEV_SHOP_KEY },
	};
	// The shop examples' credentials, to be filled in with your shop's: placeholders, so that the
	// examples open without missing credentials.
	const shops = [
		{
			id: 'couponsShopify01',
			name: "Shopify (replace with your shop's)",
			type: 'shopifyAccessTokenApi',
			data: { shopSubdomain: 'your-shop', accessToken: 'replace-me', appSecretKey: 'replace-me' },
		},
		{
			id: 'couponsWooComm01',
			name: "WooCommerce (replace with your shop's)",
			type: 'wooCommerceApi',
			data: {
				consumerKey: 'replace-me',
				consumerSecret: 'replace-me',
				url: 'https://shop.example.com',
				includeCredentialsInQuery: false,
			},
		},
		{
			id: 'couponsStripe001',
			name: 'Stripe (replace with your test key)',
			type: 'stripeApi',
			data: { secretKey: 'sk_test_replace_me', signatureSecret: '' },
		},
	];
	// The import examples from a cloud folder and a mailbox: placeholders for your account's.
	const importSources = [
		{
			id: 'couponsGDrive001',
			name: 'Google Drive (replace with your account)',
			type: 'googleDriveOAuth2Api',
			data: { clientId: 'replace-me', clientSecret: 'replace-me' },
		},
		{
			id: 'couponsImap00001',
			name: 'IMAP (replace with your mailbox)',
			type: 'imap',
			data: {
				user: 'codes@example.com',
				password: 'replace-me',
				host: 'imap.example.com',
				port: 993,
				secure: true,
			},
		},
	];
	// The AI agent example's chat model: your OpenAI key, or your OpenAI-compatible server's URL.
	const chatModel = {
		id: 'couponsOpenAi001',
		name: 'OpenAI (replace with your key)',
		type: 'openAiApi',
		data: { apiKey: 'replace-me', url: 'https://api.openai.com/v1' },
	};
	return [
		{ id: 'couponsDbCred001', name: 'Coupon PostgreSQL', type: 'couponPostgres', data },
		shopKey,
		...shops,
		...importSources,
		chatModel,
	];
}

/**
 * The ports n8n will open: its own (N8N_PORT if set, else 5678 or the next free one) and its task
 * broker's (N8N_RUNNERS_BROKER_PORT, else 5679 or the next free one): every n8n opens the broker,
 * and beside another n8n the second one exits at start on either port.
 */
async function choosePorts() {
	const port = await choosePort('N8N_PORT', 5678, 'n8n');
	const brokerPort = await choosePort('N8N_RUNNERS_BROKER_PORT', 5679, "n8n's task broker", [port]);
	return { port, brokerPort };
}

/** The port `variable` names, which must be free; else `preferred` or the next free port, said. */
async function choosePort(variable, preferred, what, taken = []) {
	const set = process.env[variable];
	if (set) {
		const port = Number(set);
		if (!Number.isInteger(port) || port < 1 || port > 65535)
			throw new Error(`${variable}=${set} is not a port number`);
		if (taken.includes(port)) throw new Error(`${variable}=${port} is n8n's own port too`);
		if (!(await isPortFree(port)))
			throw new Error(
				`${variable}=${port} is in use${byWhom(port)}. Stop that, set another ${variable}, or leave ${variable} unset to get a free port.`,
			);
		return port;
	}
	if (!taken.includes(preferred) && (await isPortFree(preferred))) return preferred;
	const port = await freePort(preferred + 1, taken);
	say(
		`port ${preferred} is in use${byWhom(preferred)}: ${what} gets port ${port} instead (set ${variable} to choose one)`,
	);
	return port;
}

const byWhom = (port) => {
	const holder = portHolder(port);
	return holder ? ` by ${holder}` : '';
};

/**
 * Waits until n8n is ready (/healthz/readiness: /healthz answers as soon as the port is open,
 * before the database is migrated), saying so each minute. False if n8n exited first.
 */
async function waitForReady(child, port) {
	const started = Date.now();
	let minutesSaid = 0;
	while (child.exitCode === null && child.signalCode === null) {
		// A bounded wait: a program that accepts connections and never answers must not stall this.
		const ready = await fetch(`http://127.0.0.1:${port}/healthz/readiness`, {
			signal: AbortSignal.timeout(10_000),
		}).then(
			(response) => response.ok,
			() => false,
		);
		if (ready) return true;
		const minutes = Math.floor((Date.now() - started) / 60_000);
		if (minutes >= 10)
			throw new Error(
				`n8n was not ready within 10 minutes. The end of its own output (all of it is in ${N8N_LOG}):\n${lastLines(N8N_LOG, 40).join('\n')}`,
			);
		if (minutes > minutesSaid) {
			minutesSaid = minutes;
			say(`still starting n8n (${minutes} min; a first start sets up its database)`);
		}
		await new Promise((resolve) => setTimeout(resolve, 1000));
	}
	return false;
}

/** Whether n8n has its owner account (n8n's editor asks for one on a first visit otherwise). */
async function hasOwner(port) {
	let failure;
	for (let attempt = 0; attempt < 30; attempt++) {
		try {
			const response = await fetch(`http://127.0.0.1:${port}/rest/settings`, {
				signal: AbortSignal.timeout(10_000),
			});
			const settings = await response.json();
			return !settings.data.userManagement.showSetupOnFirstLoad;
		} catch (error) {
			failure = error;
			await new Promise((resolve) => setTimeout(resolve, 1000));
		}
	}
	throw new Error(`n8n's /rest/settings did not say whether it has an owner: ${failure.message}`);
}

// What n8n's last words usually mean, for the hint after them.
const EXIT_HINTS = [
	[
		/is already in use/,
		'Another program took that port after npm run dev found it free: run npm run dev again.',
	],
	[
		/EADDRNOTAVAIL|address .* is not available/,
		'N8N_LISTEN_ADDRESS names an address this machine does not have: unset it or correct it.',
	],
];

/** Says that n8n ended without being asked, in n8n's own words: the end of its output, and a hint. */
function reportExit(child, when) {
	process.exitCode = 1;
	const how = child.signalCode ? `signal ${child.signalCode}` : `exit code ${child.exitCode}`;
	say(`n8n exited ${when} (${how}). The end of its own output (all of it is in ${N8N_LOG}):`);
	const lines = lastLines(N8N_LOG, 40);
	for (const line of lines) say(`  | ${line}`);
	const hint = EXIT_HINTS.find(([pattern]) => lines.some((line) => pattern.test(line)));
	say(
		hint?.[1] ??
			`n8n says why above. It reads N8N_* settings from your environment and keeps its data in ${path.join(USER_FOLDER, '.n8n')}.`,
	);
}

/**
 * An n8n user folder as `npm run dev` sets it up: the package installed as n8n installs it, the
 * sample list in n8n's files folder, the examples and the dev credentials imported where n8n does
 * not have them yet. n8n's import overwrites a workflow of the same id and unpublishes it, and
 * overwrites a credential: importing again would undo the user's edits, names, keys and
 * publishing. The end-to-end tests of the first hour use it too, so they see what a new user sees.
 * Returns every example, as imported.
 */
function prepareDevFolder(userFolder) {
	const files = path.join(userFolder, 'files');
	say(`installing this package into ${userFolder}/.n8n/nodes, as n8n installs community packages`);
	installPackage(userFolder);
	// The folder the watched-folder example imports from.
	fs.mkdirSync(path.join(files, 'incoming'), { recursive: true });
	fs.copyFileSync(
		path.join(ROOT, 'examples', 'sample-coupons.xlsx'),
		path.join(files, 'sample-coupons.xlsx'),
	);
	const imports = path.join(userFolder, 'imports');
	fs.mkdirSync(imports, { recursive: true });
	const stored = storedIds(userFolder, imports);
	const credentials = devCredentials();
	const newCredentials = credentials.filter((credential) => !stored.credentials.has(credential.id));
	if (newCredentials.length > 0) {
		fs.writeFileSync(path.join(imports, 'credentials.json'), JSON.stringify(newCredentials));
		n8n(userFolder, ['import:credentials', `--input=${path.join(imports, 'credentials.json')}`]);
	}
	const note =
		newCredentials.length > 0
			? ` (Shop Webhook Key: header X-Shop-Key: ${DEV_SHOP_KEY}; Shopify, WooCommerce and Stripe: placeholders for your shop's; Google Drive, IMAP and OpenAI: placeholders for your accounts)`
			: '';
	say(`dev credentials: ${imported(newCredentials, credentials)}${note}`);
	const workflows = exampleWorkflows(files);
	const newWorkflows = workflows.filter((workflow) => !stored.workflows.has(workflow.id));
	if (newWorkflows.length > 0) {
		fs.writeFileSync(path.join(imports, 'workflows.json'), JSON.stringify(newWorkflows));
		n8n(userFolder, ['import:workflow', `--input=${path.join(imports, 'workflows.json')}`]);
	}
	say(`example workflows: ${imported(newWorkflows, workflows)}`);
	return workflows;
}

/** What an import did: "5 imported", "all 5 already in n8n, kept as you left them", or both. */
function imported(added, all) {
	const kept = all.length - added.length;
	if (kept === 0) return `${added.length} imported`;
	if (added.length === 0) return `all ${kept} already in n8n, kept as you left them`;
	const names = added.map((item) => item.name).join(', ');
	return `${added.length} imported (${names}), ${kept} already in n8n, kept as you left them`;
}

/** The ids of the workflows (archived ones too) and credentials n8n has. */
function storedIds(userFolder, imports) {
	const workflows = new Set(
		n8n(userFolder, ['list:workflow', '--onlyId'])
			.split('\n')
			.map((line) => line.trim()),
	);
	// Encrypted as n8n keeps them; only the ids are read, and the file is removed at once.
	const exported = path.join(imports, 'stored-credentials.json');
	try {
		n8n(userFolder, ['export:credentials', '--all', `--output=${exported}`]);
		const credentials = JSON.parse(fs.readFileSync(exported, 'utf8'));
		return { workflows, credentials: new Set(credentials.map((credential) => credential.id)) };
	} catch (error) {
		// n8n refuses to export when it has no credential.
		if (!error.message.includes('No credentials found')) throw error;
		return { workflows, credentials: new Set() };
	} finally {
		fs.rmSync(exported, { force: true });
	}
}

/** The example workflows, with the path of n8n's files folder that of this user folder. */
function exampleWorkflows(files) {
	return fs
		.readdirSync(path.join(ROOT, 'examples'))
		.filter((file) => file.endsWith('.json'))
		.map((file) =>
			JSON.parse(
				fs
					.readFileSync(path.join(ROOT, 'examples', file), 'utf8')
					.replaceAll('/home/node/.n8n-files', files),
			),
		);
}

async function main() {
	// First: a busy N8N_PORT fails now, not after the install.
	const { port, brokerPort } = await choosePorts();
	ensureN8n();
	prepareDevFolder(USER_FOLDER);

	say(`starting n8n; its own output goes to ${N8N_LOG}`);
	const log = fs.openSync(N8N_LOG, 'w');
	const child = startN8n(
		USER_FOLDER,
		['start'],
		{ N8N_PORT: String(port), N8N_RUNNERS_BROKER_PORT: String(brokerPort) },
		['ignore', log, log],
	);
	fs.closeSync(log);
	let stopping = false;
	for (const signal of ['SIGINT', 'SIGTERM'])
		process.on(signal, () => {
			stopping = true;
			child.kill(signal);
		});
	const exited = new Promise((resolve) => child.on('exit', resolve));
	let shop;
	try {
		if (!(await waitForReady(child, port))) {
			if (!stopping) reportExit(child, 'before it was ready');
			return;
		}
		if (process.argv.includes('--shop')) shop = await startDevShop(port);
		const ownerExists = await hasOwner(port);
		say('');
		say(`n8n is ready: http://localhost:${port}`);
		say(
			ownerExists
				? '  Log in with the owner account you created (it is kept in this dev folder).'
				: '  First visit: create the owner account (it stays in this dev folder).',
		);
		say(
			'  The example workflows are named "Coupons: ...". Start with "Coupons: import a list from a spreadsheet":',
		);
		say(`  Execute workflow imports the sample list (${path.join(FILES, 'sample-coupons.xlsx')})`);
		say(
			`  into the Local storage, ${path.join(USER_FOLDER, '.n8n', 'coupons.sqlite')}, which every workflow shares.`,
		);
		say('  Ctrl+C stops n8n.');
		await exited;
		if (stopping) say('n8n stopped');
		else reportExit(child, 'while running');
	} catch (error) {
		child.kill('SIGTERM');
		throw error;
	} finally {
		await shop?.stop();
	}
}

/** The Vendure shop of the shop examples, posting its orders to their order webhook. */
async function startDevShop(port) {
	// Required here: the shop's packages are needed only with --shop.
	const { SHOP_PORT, SUPERADMIN, startShop } = require('./shop');
	say(`starting a Vendure shop on port ${SHOP_PORT} (about 10 seconds)`);
	const shop = await startShop({
		orderWebhook: `http://127.0.0.1:${port}/webhook/vendure-order-placed`,
		shopKey: DEV_SHOP_KEY,
		log: say,
	});
	say(
		`Vendure is ready: Admin API ${shop.adminApi} (${SUPERADMIN.username} / ${SUPERADMIN.password}), Shop API ${shop.shopApi}`,
	);
	say(
		'  Run "Coupons: push new codes to a Vendure shop", then publish "Coupons: Vendure coupon and order webhooks".',
	);
	return shop;
}

module.exports = { prepareDevFolder };

if (require.main === module)
	main().then(
		() => process.exit(process.exitCode ?? 0),
		(error) => {
			say(error.message);
			process.exit(1);
		},
	);
