import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { UNAMBIGUOUS_CHARACTERS, codeKey } from '../../nodes/shared/core/codes';
import { assignCoupons } from '../../nodes/shared/core/assign';
import { LocalStore } from '../../nodes/shared/store/local/LocalStore';
import {
	LOCAL_FILE_NAME,
	closeLocalDatabase,
	localDatabase,
} from '../../nodes/shared/transport/sqlite';
import {
	examples,
	importInto,
	n8n,
	prepareN8n,
	startN8n,
	waitForN8n,
	waitForWebhook,
} from './n8nCli';

const PORT = 5697;
const BASE = `http://127.0.0.1:${PORT}/webhook`;
const SHOP_KEY_CREDENTIAL = 'couponsShopKey01';
const SHOP_KEY = 'e2e-shop-key';
/** A call to one of the examples' webhooks, which check the shop's header. */
const call = async (path: string, init: RequestInit = {}, key = SHOP_KEY) =>
	await fetch(`${BASE}/${path}`, {
		...init,
		headers: { 'content-type': 'application/json', 'x-shop-key': key },
		signal: AbortSignal.timeout(60_000),
	});

/**
 * The checkout examples as shipped, published in a real n8n on the Local storage: the shop's calls
 * go through n8n's webhooks, and the coupons are in the file in n8n's user folder.
 */
describe('in a real n8n, the checkout examples on the Local storage', () => {
	let userFolder: string;
	let file: string;
	let server: ChildProcess;
	let code: string;
	/** Reads the local coupon file beside the running n8n (WAL: readers never block it). */
	const query = <T>(sql: string): T[] => {
		const reader = new DatabaseSync(file, { readOnly: true });
		try {
			return reader.prepare(sql).all() as T[];
		} finally {
			reader.close();
		}
	};

	beforeAll(async () => {
		userFolder = prepareN8n();
		file = join(userFolder, '.n8n', LOCAL_FILE_NAME);
		// A contact who was handed a coupon earlier, by another workflow of this n8n.
		code = await new LocalStore(localDatabase(file)).transaction(async (s) => {
			await s.createPool('SPRING10', 'imported');
			await s.addImported(
				'SPRING10',
				['SPR-4K7Q', 'SPR-9XW2'].map((value, i) => ({
					code: value,
					key: codeKey(value),
					row: i + 2,
				})),
			);
			const settings = {
				couponName: 'SPRING10',
				validDays: 14,
				policy: 'reuse' as const,
				format: { characters: UNAMBIGUOUS_CHARACTERS, length: 8, prefix: '' },
				usesPerCode: 1,
			};
			const { outcomes } = await assignCoupons(
				s,
				settings,
				[{ contact: 'ann@example.com', contactKey: 'ann@example.com' }],
				Date.now(),
			);
			if (!('value' in outcomes[0])) throw outcomes[0].error;
			return outcomes[0].value.code;
		});
		closeLocalDatabase(file);

		importInto(userFolder, 'credentials', [
			{
				id: SHOP_KEY_CREDENTIAL,
				name: 'Shop Webhook Key',
				type: 'httpHeaderAuth',
				data: { name: 'X-Shop-Key', value: SHOP_KEY },
			},
		]);
		const shipped = examples(
			'checkout-redeem-webhook',
			'validate-code-webhook',
			'contact-card-webhook',
		);
		importInto(userFolder, 'workflow', shipped);
		for (const { id } of shipped) n8n(userFolder, ['publish:workflow', `--id=${id}`]);
		server = startN8n(
			userFolder,
			['start'],
			{ N8N_PORT: String(PORT), N8N_RUNNERS_BROKER_PORT: '5694' },
			'ignore',
		);
		await waitForN8n(PORT);
		await waitForWebhook(async () => await call('coupon-check?code=WARM-UP'));
	}, 25 * 60_000);

	afterAll(async () => {
		server?.kill('SIGTERM');
		await new Promise((resolve) => setTimeout(resolve, 3000));
		server?.kill('SIGKILL');
		rmSync(userFolder, { recursive: true, force: true });
	}, 60_000);

	const checkout = async (body: object) => {
		const response = await call('checkout', { method: 'POST', body: JSON.stringify(body) });
		return { status: response.status, body: (await response.json()) as Record<string, unknown> };
	};

	it('accepts a code at the first checkout and refuses it as redeemed at the second', async () => {
		// The customer types the code in lower case with a space; it still matches.
		const typed = code.toLowerCase().replace('-', ' ');
		const before = (await (
			await call(`coupon-check?code=${encodeURIComponent(typed)}&email=ann@example.com`)
		).json()) as Record<string, unknown>;
		expect(before).toMatchObject({ valid: true, status: 'valid' });

		const first = await checkout({ code: typed, email: 'Ann@Example.com', orderId: 'A-1001' });
		expect(first.status).toBe(200);
		expect(first.body).toMatchObject({
			accepted: true,
			status: 'accepted',
			coupon: { name: 'SPRING10', code, status: 'redeemed', orderReference: 'A-1001' },
		});

		const second = await checkout({ code, email: 'ann@example.com', orderId: 'A-1002' });
		expect(second.status).toBe(200);
		expect(second.body).toMatchObject({
			accepted: false,
			status: 'redeemed',
			message: expect.stringMatching(
				new RegExp(`^Code ${code} of coupon "SPRING10" was already redeemed on `),
			),
		});

		const rows = query<{ order_reference: string; contact_key: string }>(
			'SELECT order_reference, contact_key FROM codes WHERE redeemed_at IS NOT NULL',
		);
		expect(rows).toEqual([{ order_reference: 'A-1001', contact_key: 'ann@example.com' }]);
	});

	it("refuses someone else's code, one nobody was given and an unknown one, redeeming nothing more", async () => {
		const others = await checkout({ code, email: 'bob@example.com', orderId: 'B-0' });
		expect(others.body).toMatchObject({ accepted: false, status: 'other_contact' });
		const spare = code === 'SPR-4K7Q' ? 'SPR-9XW2' : 'SPR-4K7Q';
		const unused = await checkout({ code: spare, email: 'bob@example.com', orderId: 'B-1' });
		expect(unused.body).toMatchObject({ accepted: false, status: 'not_assigned' });
		const unknown = await checkout({ code: 'NOPE-0000', email: 'bob@example.com', orderId: 'B-2' });
		expect(unknown.body).toMatchObject({ accepted: false, status: 'unknown', coupon: null });
		const [{ redeemed }] = query<{ redeemed: number }>(
			'SELECT count(redeemed_at) AS redeemed FROM codes',
		);
		expect(redeemed).toBe(1);
	});

	it("answers only callers with the shop's key", async () => {
		const response = await call('contact-coupons?email=ann@example.com', {}, 'wrong-key');
		expect(response.status).toBe(403);
		expect(await response.text()).not.toContain('SPR-');
	});

	it('shows the redemption on the contact card', async () => {
		const card = (await (await call('contact-coupons?email=ann@example.com')).json()) as {
			coupons: Array<Record<string, unknown>>;
		};
		expect(card.coupons).toEqual([
			expect.objectContaining({
				name: 'SPRING10',
				code,
				status: 'redeemed',
				orderReference: 'A-1001',
			}),
		]);
	});
});
