import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { codeKey } from '../../nodes/shared/core/codes/codes';
import { checkAgainstFormat, generateCode } from '../../nodes/shared/core/codes/codeFormat';
import type { CodeFormat } from '../../nodes/shared/core/storeContract';
import { LOCAL_FILE_NAME } from '../../nodes/shared/transport/sqlite';
import {
	examples,
	execute,
	importInto,
	shopKeyCredential,
	n8n,
	prepareN8n,
	queryCouponFile,
	startN8n,
	waitForN8n,
	waitForWebhook,
	stopN8n,
} from './n8nCli';

// scripts/shop.js is plain JavaScript shared with `npm run dev:shop`.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { spawnShop } = require('../../scripts/shop') as {
	spawnShop(options: { orderWebhook: string; shopKey: string }): Promise<{
		shopApi: string;
		stop(): Promise<void>;
	}>;
};

const PORT = 5688;
const SHOP_KEY = 'e2e-shop-key';
const FORMAT: CodeFormat = {
	characters: '23456789ABCDEFGHJKMNPQRSTUVWXYZ',
	length: 8,
	prefix: '',
	pattern: 'VEN-####-????',
	checkCharacter: true,
};

/** A customer of the shop: the Shop API with the session token Vendure hands out. */
function customer(shopApi: string) {
	let token: string | undefined;
	return async <T = Record<string, unknown>>(query: string, variables: object = {}): Promise<T> => {
		const response = await fetch(shopApi, {
			method: 'POST',
			headers: {
				'content-type': 'application/json',
				...(token ? { authorization: `Bearer ${token}` } : {}),
			},
			body: JSON.stringify({ query, variables }),
			signal: AbortSignal.timeout(30_000),
		});
		token = response.headers.get('vendure-auth-token') ?? token;
		const { data, errors } = (await response.json()) as { data: T; errors?: unknown };
		if (errors) throw new Error(JSON.stringify(errors));
		return data;
	};
}

/**
 * The loop with a real shop: a real n8n creates codes and pushes them to a real Vendure shop's
 * Admin API; a contact gets one through n8n; the customer applies it in the shop's storefront API
 * and gets the discount, while a code never pushed is refused; the order the shop places comes
 * back through its webhook and the code is redeemed here for that order.
 */
describe('in a real n8n, with a real Vendure shop', () => {
	let userFolder: string;
	let server: ChildProcess;
	let shop: Awaited<ReturnType<typeof spawnShop>>;
	let pushed: string[];
	let push: ReturnType<typeof execute>;
	const query = <T>(sql: string): T[] =>
		queryCouponFile<T>(join(userFolder, '.n8n', LOCAL_FILE_NAME), sql);

	beforeAll(async () => {
		userFolder = prepareN8n();
		importInto(userFolder, 'credentials', [shopKeyCredential(SHOP_KEY)]);
		const shipped = examples('vendure-push-codes', 'vendure-shop-webhooks');
		importInto(userFolder, 'workflow', shipped);
		shop = await spawnShop({
			orderWebhook: `http://127.0.0.1:${PORT}/webhook/vendure-order-placed`,
			shopKey: SHOP_KEY,
		});
		// The push workflow as shipped, run as "Execute workflow" runs it (before the n8n that serves
		// the webhooks starts: a CLI run beside it stops it as it ends).
		push = execute(userFolder, shipped[0].id);
		n8n(userFolder, ['publish:workflow', `--id=${shipped[1].id}`]);
		server = startN8n(
			userFolder,
			['start'],
			{ N8N_PORT: String(PORT), N8N_RUNNERS_BROKER_PORT: '5687' },
			'ignore',
		);
		await waitForN8n(PORT);
		// An order without a coupon code: the order webhook answers, and the coupons stay untouched.
		await waitForWebhook(
			async () =>
				await fetch(`http://127.0.0.1:${PORT}/webhook/vendure-order-placed`, {
					method: 'POST',
					headers: { 'content-type': 'application/json', 'x-shop-key': SHOP_KEY },
					body: JSON.stringify({ orderCode: 'WARM-UP', couponCodes: [], email: null }),
				}),
		);
	}, 25 * 60_000);

	afterAll(async () => {
		await shop?.stop();
		await stopN8n(server);
		rmSync(userFolder, { recursive: true, force: true });
	}, 60_000);

	it('pushes the codes Create Codes made to the shop as discount codes', () => {
		expect(push.error).toBeUndefined();
		pushed = push.output['Create Codes'].map((item) => item.code as string);
		expect(pushed).toHaveLength(5);
		for (const code of pushed) expect(checkAgainstFormat(codeKey(code), FORMAT)).toBe('fits');
		expect(push.output['Create a Promotion per Code']).toEqual(
			pushed.map((code) => ({
				data: { createPromotion: { id: expect.any(String), couponCode: code } },
			})),
		);
	});

	it('gives a contact a pushed code, which the shop accepts with its discount; a code never pushed is refused', async () => {
		const response = await fetch(`http://127.0.0.1:${PORT}/webhook/vendure-coupon`, {
			method: 'POST',
			headers: { 'content-type': 'application/json', 'x-shop-key': SHOP_KEY },
			body: JSON.stringify({ email: 'ann@example.com' }),
		});
		const { coupon } = (await response.json()) as { coupon: { code: string; name: string } };
		expect(coupon.name).toBe('VENDURE15');
		expect(pushed).toContain(coupon.code);

		const shopper = customer(shop.shopApi);
		const added = await shopper<{ addItemToOrder: { total: number } }>(
			'mutation { addItemToOrder(productVariantId: "T_1", quantity: 1) { ... on Order { total } ... on ErrorResult { errorCode message } } }',
		);
		expect(added.addItemToOrder.total).toBe(2000);
		const apply = async (code: string) =>
			(
				await shopper<{ applyCouponCode: Record<string, unknown> }>(
					'mutation ($code: String!) { applyCouponCode(couponCode: $code) { ... on Order { total couponCodes } ... on ErrorResult { errorCode message } } }',
					{ code },
				)
			).applyCouponCode;
		// A code of the same shape and a valid check character that was never made, so never pushed.
		let stranger = generateCode(FORMAT);
		while (pushed.includes(stranger)) stranger = generateCode(FORMAT);
		expect(await apply(stranger)).toMatchObject({ errorCode: 'COUPON_CODE_INVALID_ERROR' });
		// The customer's own code: 15% off the 20.00 mug.
		expect(await apply(coupon.code)).toEqual({ total: 1700, couponCodes: [coupon.code] });

		// Checkout: address, shipping, payment; the shop then places the order and posts it to n8n.
		await shopper(
			'mutation { setCustomerForOrder(input: { emailAddress: "ann@example.com", firstName: "Ann", lastName: "Lee" }) { ... on Order { code } } }',
		);
		await shopper(
			'mutation { setOrderShippingAddress(input: { fullName: "Ann Lee", streetLine1: "1 High Street", city: "London", postalCode: "N1 1AA", countryCode: "GB" }) { ... on Order { code } } }',
		);
		const { eligibleShippingMethods } = await shopper<{
			eligibleShippingMethods: Array<{ id: string }>;
		}>('{ eligibleShippingMethods { id } }');
		await shopper(
			'mutation ($id: [ID!]!) { setOrderShippingMethod(shippingMethodId: $id) { ... on Order { code } } }',
			{ id: [eligibleShippingMethods[0].id] },
		);
		await shopper(
			'mutation { transitionOrderToState(state: "ArrangingPayment") { ... on Order { state } } }',
		);
		const { eligiblePaymentMethods } = await shopper<{
			eligiblePaymentMethods: Array<{ code: string }>;
		}>('{ eligiblePaymentMethods { code } }');
		const { addPaymentToOrder: order } = await shopper<{
			addPaymentToOrder: { code: string; state: string };
		}>(
			'mutation ($method: String!) { addPaymentToOrder(input: { method: $method, metadata: {} }) { ... on Order { code state } ... on ErrorResult { errorCode message } } }',
			{ method: eligiblePaymentMethods[0].code },
		);
		expect(order.state).toBe('PaymentSettled');

		// The order webhook redeemed the code here, for that order.
		let rows: Array<{ code: string; order_reference: string | null; contact_key: string }> = [];
		for (let i = 0; i < 60 && !rows[0]?.order_reference; i++) {
			await new Promise((resolve) => setTimeout(resolve, 1000));
			rows = query(
				`SELECT code, order_reference, contact_key FROM codes WHERE code = '${coupon.code}'`,
			);
		}
		expect(rows).toEqual([
			{ code: coupon.code, order_reference: order.code, contact_key: 'ann@example.com' },
		]);
	});

	it('answers each order the shop posts (redeemed or why not, no coupon, or the failure) and a coupon call without a contact', async () => {
		const order = async (body: object) => {
			const response = await fetch(`http://127.0.0.1:${PORT}/webhook/vendure-order-placed`, {
				method: 'POST',
				headers: { 'content-type': 'application/json', 'x-shop-key': SHOP_KEY },
				body: JSON.stringify(body),
			});
			return { status: response.status, body: (await response.json()) as Record<string, unknown> };
		};
		expect(await order({ orderCode: 'V-1', couponCodes: [] })).toEqual({
			status: 200,
			body: { status: 'no_coupon', message: 'Order V-1 used no coupon code: nothing to redeem' },
		});
		expect(await order({ orderCode: 'V-2', couponCodes: ['NOT-A-CODE'] })).toMatchObject({
			status: 200,
			body: { accepted: false, status: 'unknown' },
		});
		expect(await order({ orderCode: 'V-3', couponCodes: [' '] })).toEqual({
			status: 422,
			body: {
				status: 'error',
				errorCode: 'CODE_INVALID',
				message: 'The code is empty',
				fix: expect.any(String),
			},
		});
		// The coupon webhook's other branch: a call without a contact.
		const noContact = await fetch(`http://127.0.0.1:${PORT}/webhook/vendure-coupon`, {
			method: 'POST',
			headers: { 'content-type': 'application/json', 'x-shop-key': SHOP_KEY },
			body: JSON.stringify({}),
		});
		expect({ status: noContact.status, body: await noContact.json() }).toEqual({
			status: 422,
			body: {
				status: 'error',
				errorCode: 'CONTACT_INVALID',
				message: 'The contact is empty',
				fix: expect.any(String),
			},
		});
	});
});
