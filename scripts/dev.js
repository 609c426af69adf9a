// `npm run dev`: a pinned n8n with this package installed as users install it, the example workflows,
// the sample spreadsheet and a Coupon PostgreSQL credential, at http://localhost:5678.
// `npm run dev:shop` (`--shop`): a real Vendure shop beside it, for the shop examples (scripts/shop.js).
const fs = require('node:fs');
const path = require('node:path');
const { CACHE, ensureN8n, installPackage, n8n, startN8n } = require('./n8n');

const ROOT = path.join(__dirname, '..');
const USER_FOLDER = path.join(CACHE, 'dev');
const FILES = path.join(USER_FOLDER, 'files');
const PORT = Number(process.env.N8N_PORT || 5678);
const DATABASE_URL =
	process.env.COUPONS_DEV_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const DEV_SHOP_KEY = 'dev-shop-key';
const say = (message) => process.stderr.write(`[dev] ${message}\n`);

function devCredential() {
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
	return [
		{ id: 'couponsDbCred001', name: 'Coupon PostgreSQL', type: 'couponPostgres', data },
		shopKey,
		...shops,
	];
}

async function waitForHealth(child) {
	for (let i = 0; i < 120; i++) {
		if (child.exitCode !== null) throw new Error(`n8n exited with code ${child.exitCode}`);
		try {
			const response = await fetch(`http://127.0.0.1:${PORT}/healthz`);
			if (response.ok) return;
		} catch {
			// not listening yet
		}
		await new Promise((resolve) => setTimeout(resolve, 1000));
	}
	throw new Error('n8n did not answer on /healthz within 2 minutes');
}

/**
 * An n8n user folder as `npm run dev` sets it up: the package installed as n8n installs it, the
 * sample list in n8n's files folder, every example and the dev credentials imported. The
 * end-to-end tests of the first hour use it too, so they see what a new user sees.
 */
function prepareDevFolder(userFolder) {
	const files = path.join(userFolder, 'files');
	say(`installing this package into ${userFolder}/.n8n/nodes, as n8n installs community packages`);
	installPackage(userFolder);
	fs.mkdirSync(files, { recursive: true });
	fs.copyFileSync(
		path.join(ROOT, 'examples', 'sample-coupons.xlsx'),
		path.join(files, 'sample-coupons.xlsx'),
	);
	say(
		'importing the example workflows, the Coupon PostgreSQL credential and the Shop Webhook Key (header X-Shop-Key: dev-shop-key)',
	);
	const imports = path.join(userFolder, 'imports');
	fs.mkdirSync(imports, { recursive: true });
	const workflows = fs
		.readdirSync(path.join(ROOT, 'examples'))
		.filter((file) => file.endsWith('.json'))
		.map((file) =>
			JSON.parse(
				fs
					.readFileSync(path.join(ROOT, 'examples', file), 'utf8')
					.replaceAll('/home/node/.n8n-files', files),
			),
		);
	fs.writeFileSync(path.join(imports, 'workflows.json'), JSON.stringify(workflows));
	fs.writeFileSync(path.join(imports, 'credentials.json'), JSON.stringify(devCredential()));
	n8n(userFolder, ['import:credentials', `--input=${path.join(imports, 'credentials.json')}`]);
	n8n(userFolder, ['import:workflow', `--input=${path.join(imports, 'workflows.json')}`]);
	return workflows;
}

async function main() {
	ensureN8n();
	prepareDevFolder(USER_FOLDER);

	say('starting n8n');
	const child = startN8n(USER_FOLDER, ['start'], { N8N_PORT: String(PORT) }, [
		'ignore',
		'ignore',
		'inherit',
	]);
	process.on('SIGINT', () => child.kill('SIGINT'));
	process.on('SIGTERM', () => child.kill('SIGTERM'));
	await waitForHealth(child);
	if (process.argv.includes('--shop')) await startDevShop(child);
	say('');
	say(`n8n is ready: http://localhost:${PORT}`);
	say('  First visit: create the owner account (it stays in this dev folder).');
	say(
		'  Workflows "Coupons: ..." are imported. Start with "Coupons: import a list from a spreadsheet":',
	);
	say(`  Execute workflow imports the sample list (${path.join(FILES, 'sample-coupons.xlsx')})`);
	say(
		`  into the Local storage, ${path.join(USER_FOLDER, '.n8n', 'coupons.sqlite')}, which every workflow shares.`,
	);
	say('  Ctrl+C stops n8n.');
	await new Promise((resolve) => child.on('exit', resolve));
}

/** The Vendure shop of the shop examples, posting its orders to their order webhook. */
async function startDevShop(child) {
	// Required here: the shop's packages are needed only with --shop.
	const { SHOP_PORT, SUPERADMIN, startShop } = require('./shop');
	say(`starting a Vendure shop on port ${SHOP_PORT} (about 10 seconds)`);
	const shop = await startShop({
		orderWebhook: `http://127.0.0.1:${PORT}/webhook/vendure-order-placed`,
		shopKey: DEV_SHOP_KEY,
		log: say,
	});
	child.on('exit', () => shop.stop().then(() => process.exit(0)));
	say(
		`Vendure is ready: Admin API ${shop.adminApi} (${SUPERADMIN.username} / ${SUPERADMIN.password}), Shop API ${shop.shopApi}`,
	);
	say(
		'  Run "Coupons: push new codes to a Vendure shop", then publish "Coupons: Vendure coupon and order webhooks".',
	);
}

module.exports = { prepareDevFolder };

if (require.main === module)
	main().catch((error) => {
		say(error.message);
		process.exit(1);
	});
