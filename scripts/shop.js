// A real open-source shop for trying the coupon loop: Vendure 3 (npm @vendure/core, run by
// @vendure/testing on sql.js), with one product, a test payment method, and a small plugin that
// posts every placed order to n8n's order webhook, as a shop's webhook would. Used by
// `npm run dev:shop`, and run as a process of its own by the end-to-end tests (`spawnShop`):
// Vendure loads parts of itself with import(), which jest's module sandbox does not allow.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
// Vendure is loaded where the shop starts: spawnShop's caller (a test) never loads it.
const vendure = () => require('@vendure/core');
const vendureTesting = () => require('@vendure/testing');

/** Where the examples expect the shop: its Admin and Shop APIs live under this address. */
const SHOP_PORT = 3061;
const SUPERADMIN = { username: 'superadmin', password: 'superadmin' };

const PRODUCTS_CSV = [
	'name,slug,description,assets,facets,optionGroups,optionValues,sku,price,taxCategory,stockOnHand,trackInventory,variantAssets,variantFacets',
	'Coupon Mug,coupon-mug,A mug worth a discount,,,,,MUG-1,20.00,standard,1000,false,,',
].join('\n');

const initialData = ({ dummyPaymentHandler }) => ({
	defaultLanguage: 'en',
	defaultZone: 'Europe',
	taxRates: [{ name: 'Standard Tax', percentage: 20 }],
	shippingMethods: [{ name: 'Standard Shipping', price: 500 }],
	paymentMethods: [
		{
			name: 'Test Payment',
			handler: {
				code: dummyPaymentHandler.code,
				arguments: [{ name: 'automaticSettle', value: 'true' }],
			},
		},
	],
	countries: [{ name: 'United Kingdom', code: 'GB', zone: 'Europe' }],
	collections: [],
});

/**
 * A Vendure plugin that posts each placed order (its code, coupon codes and customer's email) to
 * `url` with the shop's key in X-Shop-Key. Written without decorators, as plain JavaScript.
 */
function orderWebhookPlugin(url, shopKey, log) {
	const { EventBus, OrderPlacedEvent, PluginCommonModule, VendurePlugin } = vendure();
	class OrderWebhook {
		constructor(eventBus) {
			this.eventBus = eventBus;
		}

		onApplicationBootstrap() {
			this.subscription = this.eventBus.ofType(OrderPlacedEvent).subscribe(({ order }) => {
				const body = {
					orderCode: order.code,
					couponCodes: order.couponCodes,
					email: order.customer?.emailAddress ?? null,
				};
				fetch(url, {
					method: 'POST',
					headers: { 'content-type': 'application/json', 'x-shop-key': shopKey },
					body: JSON.stringify(body),
					signal: AbortSignal.timeout(60_000),
				}).then(
					async (response) => log(`order ${order.code} posted to n8n: ${response.status}`),
					(error) => log(`order ${order.code} could not be posted to n8n: ${error.message}`),
				);
			});
		}

		onApplicationShutdown() {
			this.subscription?.unsubscribe();
		}
	}
	Reflect.defineMetadata('design:paramtypes', [EventBus], OrderWebhook);
	VendurePlugin({ imports: [PluginCommonModule] })(OrderWebhook);
	return OrderWebhook;
}

/**
 * Starts the shop on `port` with its products and a test payment; placed orders go to
 * `orderWebhook`. Returns the server (destroy it to stop) and its Admin and Shop API addresses.
 */
async function startShop({ port = SHOP_PORT, orderWebhook, shopKey, log = () => undefined }) {
	const core = vendure();
	const { mergeConfig, dummyPaymentHandler } = core;
	const { createTestEnvironment, registerInitializer, SqljsInitializer, testConfig } =
		vendureTesting();
	const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'coupons-shop-'));
	registerInitializer('sqljs', new SqljsInitializer(folder));
	const productsCsvPath = path.join(folder, 'products.csv');
	fs.writeFileSync(productsCsvPath, PRODUCTS_CSV);
	const config = mergeConfig(testConfig, {
		apiOptions: { port },
		paymentOptions: { paymentMethodHandlers: [dummyPaymentHandler] },
		plugins: [orderWebhookPlugin(orderWebhook, shopKey, log)],
	});
	const environment = createTestEnvironment(config);
	await environment.server.init({
		initialData: initialData(core),
		productsCsvPath,
		customerCount: 1,
	});
	return {
		...environment,
		adminApi: `http://127.0.0.1:${port}/admin-api`,
		shopApi: `http://127.0.0.1:${port}/shop-api`,
		async stop() {
			await environment.server.destroy();
			fs.rmSync(folder, { recursive: true, force: true });
		},
	};
}

/**
 * The shop in a child process (this file run with `--serve`): resolves once it is ready, with a
 * function that stops it.
 */
function spawnShop({ orderWebhook, shopKey }) {
	const { spawn } = require('node:child_process');
	const child = spawn(process.execPath, [__filename, '--serve'], {
		env: { ...process.env, SHOP_ORDER_WEBHOOK: orderWebhook, SHOP_KEY: shopKey },
		stdio: ['ignore', 'pipe', 'inherit'],
	});
	return new Promise((resolve, reject) => {
		let output = '';
		child.on('exit', (code) => reject(new Error(`the shop exited with code ${code}`)));
		child.stdout.on('data', (chunk) => {
			output += chunk;
			const ready = output.split('\n').find((line) => line.startsWith('{'));
			if (!ready) return;
			child.removeAllListeners('exit');
			resolve({
				...JSON.parse(ready),
				stop: () =>
					new Promise((stopped) => {
						child.on('exit', stopped);
						child.kill('SIGTERM');
					}),
			});
		});
	});
}

module.exports = { SHOP_PORT, SUPERADMIN, spawnShop, startShop };

if (require.main === module && process.argv.includes('--serve'))
	startShop({
		orderWebhook: process.env.SHOP_ORDER_WEBHOOK,
		shopKey: process.env.SHOP_KEY,
		log: (message) => process.stderr.write(`[shop] ${message}\n`),
	}).then(
		(shop) => {
			process.stdout.write(
				`${JSON.stringify({ adminApi: shop.adminApi, shopApi: shop.shopApi })}\n`,
			);
			process.on('SIGTERM', () => shop.stop().then(() => process.exit(0)));
		},
		(error) => {
			process.stderr.write(`${error.stack}\n`);
			process.exit(1);
		},
	);
