import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { UNAMBIGUOUS_CHARACTERS, codeKey } from '../../nodes/shared/core/codes/codes';
import { assignCoupons } from '../../nodes/shared/core/assign/assign';
import { LocalStore } from '../../nodes/shared/stores/local/LocalStore';
import {
	LOCAL_FILE_NAME,
	closeLocalDatabase,
	localDatabase,
} from '../../nodes/shared/transport/sqlite';
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

const PORT = 5697;
const BASE = `http://127.0.0.1:${PORT}/webhook`;
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
	/** Codes of coupon FLOW, held by bea and cal, for the two-step checkout and the refund. */
	let flow: Record<string, string>;
	let newsletterRun: ReturnType<typeof execute>;
	const query = <T>(sql: string): T[] => queryCouponFile<T>(file, sql);

	beforeAll(async () => {
		userFolder = prepareN8n();
		file = join(userFolder, '.n8n', LOCAL_FILE_NAME);
		// Contacts who were handed coupons earlier, by another workflow of this n8n.
		const seed = async (name: string, values: string[], contacts: string[]) =>
			await new LocalStore(localDatabase(file)).transaction(async (s) => {
				await s.createPool(name, 'imported');
				// As the sample list imports them with Keep Columns.
				await s.addImported(
					name,
					values.map((value, i) => ({
						code: value,
						key: codeKey(value),
						row: i + 2,
						details: { discount: '10%', 'minimum order': '50' },
					})),
				);
				const settings = {
					couponName: name,
					validDays: 14,
					policy: 'reuse' as const,
					format: { characters: UNAMBIGUOUS_CHARACTERS, length: 8, prefix: '' },
					usesPerCode: 1,
				};
				const { outcomes } = await assignCoupons(
					s,
					settings,
					contacts.map((contact) => ({ contact, contactKey: contact })),
					Date.now(),
				);
				return outcomes.map((outcome) => {
					if (!('value' in outcome)) throw outcome.error;
					return outcome.value.code;
				});
			});
		[code] = await seed('SPRING10', ['SPR-4K7Q', 'SPR-9XW2'], ['ann@example.com']);
		const [bea, cal] = await seed(
			'FLOW',
			['FLOW-1', 'FLOW-2', 'FLOW-3'],
			['bea@example.com', 'cal@example.com'],
		);
		flow = { bea, cal };
		closeLocalDatabase(file);

		importInto(userFolder, 'credentials', [shopKeyCredential(SHOP_KEY)]);
		const shipped = examples(
			'checkout-redeem-webhook',
			'validate-code-webhook',
			'contact-card-webhook',
			'two-step-checkout',
			'refund-undo-redemption',
			'multi-use-coupon',
			'email-coupon-details',
			'assign-coupon-webhook',
			'render-email-placeholders',
			'coupons-static-data',
		);
		importInto(userFolder, 'workflow', shipped);
		for (const { id } of shipped) n8n(userFolder, ['publish:workflow', `--id=${id}`]);
		// The newsletter's shared code, made as a user makes it: one run of the example.
		const [newsletter] = examples('shared-newsletter-code');
		importInto(userFolder, 'workflow', [newsletter]);
		newsletterRun = execute(userFolder, newsletter.id);
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
		await stopN8n(server);
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

	it("redeems the newsletter example's shared code once per customer, each checkout naming the customer", async () => {
		expect(newsletterRun.status).toBe('success');
		expect(newsletterRun.output['Import as a Shared Code']).toEqual([
			expect.objectContaining({ couponName: 'NEWSLETTER', added: 1, available: 0 }),
		]);
		const ann = await checkout({ code: 'summer 20', email: 'Ann@Example.com', orderId: 'N-1' });
		expect(ann.body).toMatchObject({
			accepted: true,
			status: 'accepted',
			coupon: {
				name: 'NEWSLETTER',
				code: 'SUMMER20',
				usesPerCustomer: 1,
				customerUses: 1,
				details: { discount: '20%' },
			},
		});
		const again = await checkout({ code: 'SUMMER20', email: 'ann@example.com', orderId: 'N-2' });
		expect(again.body).toMatchObject({ accepted: false, status: 'used_by_customer' });
		const bob = await checkout({ code: 'SUMMER20', email: 'bob@example.com', orderId: 'N-3' });
		expect(bob.body).toMatchObject({ accepted: true, coupon: { customerUses: 1, uses: 2 } });
		const uses = query<{ contact_key: string; order_reference: string }>(
			"SELECT r.contact_key, r.order_reference FROM redemptions r JOIN pools p ON p.id = r.pool_id WHERE p.name = 'NEWSLETTER' ORDER BY r.n",
		);
		expect(uses).toEqual([
			{ contact_key: 'ann@example.com', order_reference: 'N-1' },
			{ contact_key: 'bob@example.com', order_reference: 'N-3' },
		]);
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

	const post = async (path: string, body: object) =>
		(await (await call(path, { method: 'POST', body: JSON.stringify(body) })).json()) as Record<
			string,
			unknown
		>;

	it('holds a code for the cart, refuses it to another order, confirms it on payment, and frees one on failure', async () => {
		const held = await post('cart-code', {
			code: flow.bea,
			email: 'bea@example.com',
			orderId: 'C-1',
		});
		expect(held).toMatchObject({
			held: true,
			status: 'held',
			coupon: { hold: { orderReference: 'C-1' } },
		});
		const other = await checkout({ code: flow.bea, email: 'bea@example.com', orderId: 'C-2' });
		expect(other.body).toMatchObject({ accepted: false, status: 'reserved' });
		const paid = await post('payment-succeeded', { code: flow.bea, orderId: 'C-1' });
		expect(paid).toMatchObject({
			accepted: true,
			coupon: { status: 'redeemed', orderReference: 'C-1' },
		});

		const second = await post('cart-code', {
			code: flow.cal,
			email: 'cal@example.com',
			orderId: 'D-1',
		});
		expect(second).toMatchObject({ held: true });
		const failed = await post('payment-failed', { code: flow.cal, orderId: 'D-1' });
		expect(failed).toMatchObject({ released: true, status: 'released' });
		expect(await post('payment-failed', { code: flow.cal, orderId: 'D-1' })).toMatchObject({
			released: false,
			status: 'not_held',
		});
	});

	it('gives the code of a refunded order back, once, and shows it on the contact card', async () => {
		const refund = await post('order-refunded', { code: flow.bea, orderId: 'C-1' });
		expect(refund).toMatchObject({ undone: true, status: 'undone', coupon: { status: 'active' } });
		const again = await post('order-refunded', { code: flow.bea, orderId: 'C-1' });
		expect(again).toMatchObject({ undone: false, status: 'already_undone' });
		const card = (await (await call('contact-coupons?email=bea@example.com')).json()) as {
			coupons: Array<Record<string, unknown>>;
		};
		expect(card.coupons[0]).toMatchObject({
			status: 'active',
			redemptions: [
				expect.objectContaining({ orderReference: 'C-1', undoReason: 'order refunded' }),
			],
		});
		const rows = query<{ undo_reason: string }>(
			'SELECT undo_reason FROM redemptions WHERE undone_at IS NOT NULL',
		);
		expect(rows).toEqual([{ undo_reason: 'order refunded' }]);
	});

	it('makes a team code that five orders can redeem, the sixth refused', async () => {
		const answer = await post('team-code', { email: 'lead@example.com' });
		expect(answer).toMatchObject({
			status: 'assigned',
			coupon: { name: 'TEAM5', details: { discount: '10%', uses: '5 orders' } },
		});
		const team = answer.coupon as { code: string };
		const statuses: unknown[] = [];
		for (let order = 1; order <= 6; order++)
			statuses.push(
				(await checkout({ code: team.code, email: 'lead@example.com', orderId: `T-${order}` })).body
					.status,
			);
		expect(statuses).toEqual([...Array(5).fill('accepted'), 'redeemed']);
	});

	it('writes the discount, the minimum order and the end of validity into the offer email', async () => {
		// Ann redeemed her SPRING10 code above, so the email assigns her the list's other code.
		const answer = await post('offer-email', { email: 'ann@example.com' });
		expect(answer.status).toBe('sent');
		const rendered = answer.rendered as Record<string, unknown>;
		const [coupon] = rendered.coupons as Array<{ code: string; validUntil: string }>;
		expect(coupon.code).not.toBe(code);
		const validUntil = new Date(coupon.validUntil).toLocaleDateString('en-GB', {
			dateStyle: 'long',
			timeZone: 'Europe/London',
		});
		expect(rendered).toMatchObject({ unresolved: [] });
		expect(rendered.text).toBe(
			`<p>Hello!</p>\n<p>Your code <b>${coupon.code}</b> gives you <b>10%</b> off orders over 50 EUR.</p>\n<p>Valid until ${validUntil}.</p>`,
		);
	});

	it('answers every call with JSON: an order not its own as a status, a list with no code left on the No Coupon output, a call the step cannot serve as a 422 naming the fix', async () => {
		// Another order's hold, and another order's refund: answers, not errors.
		const held = await post('cart-code', {
			code: flow.cal,
			email: 'cal@example.com',
			orderId: 'E-1',
		});
		expect(held).toMatchObject({ status: 'held' });
		expect(await post('payment-failed', { code: flow.cal, orderId: 'E-2' })).toMatchObject({
			released: false,
			status: 'reserved',
			coupon: { hold: { orderReference: null } },
		});
		// Bea's code was redeemed for C-1 (and refunded) above, never for Z-9.
		expect(await post('order-refunded', { code: flow.bea, orderId: 'Z-9' })).toMatchObject({
			undone: false,
			status: 'other_order',
		});
		// Ann holds SPRING10's second code since the offer email: she gets it again, and her welcome
		// email makes the WELCOME coupon the example creates on purpose.
		expect(await post('coupon', { email: 'ann@example.com' })).toMatchObject({
			status: 'assigned',
			coupon: { name: 'SPRING10', reused: true },
		});
		const welcome = await post('subscribe', { email: 'ann@example.com' });
		expect(welcome).toMatchObject({ status: 'sent', rendered: { unresolved: [] } });
		expect(
			(welcome.rendered as { coupons: Array<{ name: string }> }).coupons.map((c) => c.name),
		).toEqual(['SPRING10', 'WELCOME']);
		// The static data example's coupon lives in its own workflow: a new name there, generated.
		expect(await post('coupon-static-data', { email: 'eve@example.com' })).toMatchObject({
			status: 'assigned',
			email: 'eve@example.com',
			coupon: { name: 'SPRING10', source: 'generated', code: expect.stringMatching(/^\S{8}$/) },
		});
		// SPRING10 has no code left for Dora: the No Coupon output answers, not the error output.
		const exhausted = await call('coupon', {
			method: 'POST',
			body: JSON.stringify({ email: 'dora@example.com' }),
		});
		expect(exhausted.status).toBe(200);
		expect(await exhausted.json()).toEqual({
			status: 'no_coupon',
			email: 'dora@example.com',
			reason: 'exhausted',
			message: expect.stringMatching(/^Coupon "SPRING10" has no unused codes left/),
		});
		const failures: Array<[string, RequestInit, string]> = [
			['coupon', { method: 'POST', body: JSON.stringify({}) }, 'The contact is empty'],
			['subscribe', { method: 'POST', body: JSON.stringify({}) }, 'The contact is empty'],
			[
				'checkout',
				{ method: 'POST', body: JSON.stringify({ code: '', orderId: 'X-1' }) },
				'The code is empty',
			],
			['coupon-check?code=', {}, 'The code is empty'],
			['contact-coupons', {}, 'The contact is empty'],
			[
				'cart-code',
				{ method: 'POST', body: JSON.stringify({ code: flow.cal, email: 'cal@example.com' }) },
				'The order reference is empty',
			],
			[
				'payment-succeeded',
				{ method: 'POST', body: JSON.stringify({ code: '' }) },
				'The code is empty',
			],
			[
				'payment-failed',
				{ method: 'POST', body: JSON.stringify({ code: flow.cal }) },
				'The order reference is empty',
			],
			[
				'order-refunded',
				{ method: 'POST', body: JSON.stringify({ code: '' }) },
				'The code is empty',
			],
			['team-code', { method: 'POST', body: JSON.stringify({}) }, 'The contact is empty'],
			['coupon-static-data', { method: 'POST', body: JSON.stringify({}) }, 'The contact is empty'],
			['offer-email', { method: 'POST', body: JSON.stringify({}) }, 'The contact is empty'],
		];
		const errorCodes = new Map([
			['The contact is empty', 'CONTACT_INVALID'],
			['The code is empty', 'CODE_INVALID'],
			['The order reference is empty', 'ORDER_REFERENCE_INVALID'],
		]);
		for (const [path, init, message] of failures) {
			const response = await call(path, init);
			expect({ path, status: response.status, body: await response.json() }).toEqual({
				path,
				status: 422,
				body: {
					status: 'error',
					errorCode: errorCodes.get(message),
					message,
					fix: expect.any(String),
				},
			});
		}
	});
});
