import type { ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { assignCoupons } from '../../nodes/shared/core/assign/assign';
import { redeemCodes } from '../../nodes/shared/core/checkout/checkout';
import { codeKey, UNAMBIGUOUS_CHARACTERS } from '../../nodes/shared/core/codes/codes';
import { LocalStore } from '../../nodes/shared/stores/local/LocalStore';
import {
	closeLocalDatabase,
	LOCAL_FILE_NAME,
	localDatabase,
} from '../../nodes/shared/transport/sqlite';
import {
	examples,
	importInto,
	shopKeyCredential,
	n8n,
	prepareN8n,
	queryCouponFile,
	startN8n,
	stopN8n,
	waitForN8n,
	waitForWebhook,
	waitUntil,
} from './n8nCli';

const PORT = 5682;
const BROKER_PORT = '5681';
const EVENTS_WORKFLOW = 'couponsExample25';
const SHOP_KEY = 'e2e-shop-key';
const MINUTE = 60_000;

/**
 * The coupon events example as shipped, published in a real n8n: its four Coupon Triggers poll the
 * Local storage every minute. Codes are redeemed through the checkout example's webhook, and while
 * n8n is down straight in the coupon file; each event starts the workflow once, across polls and a
 * restart.
 */
describe('in a real n8n, the Coupon Trigger of the events example', () => {
	let userFolder: string;
	let file: string;
	let server: ChildProcess;
	const start = async () => {
		server = startN8n(
			userFolder,
			['start'],
			{ N8N_PORT: String(PORT), N8N_RUNNERS_BROKER_PORT: BROKER_PORT },
			'ignore',
		);
		await waitForN8n(PORT);
	};
	const store = () => new LocalStore(localDatabase(file));
	/** Coupons given earlier (by another workflow): code per contact, valid for `days`. */
	const give = async (couponName: string, contacts: string[], days: number) =>
		await store().transaction(async (s) => {
			const { outcomes } = await assignCoupons(
				s,
				{
					couponName,
					validDays: days,
					policy: 'reuse',
					format: { characters: UNAMBIGUOUS_CHARACTERS, length: 8, prefix: 'EV-' },
					usesPerCode: 1,
				},
				contacts.map((contact) => ({ contact, contactKey: contact })),
				Date.now(),
			);
			return outcomes.map((outcome) => {
				if (!('value' in outcome)) throw outcome.error;
				return outcome.value.code;
			});
		});
	/** The example's runs that hold `text` in their data: the trigger's items are the run's first node. */
	const runsWith = (text: string) =>
		queryCouponFile<{ id: number; status: string }>(
			join(userFolder, '.n8n', 'database.sqlite'),
			`SELECT e.id, e.status FROM execution_entity e JOIN execution_data d ON d.executionId = e.id
			WHERE e.workflowId = '${EVENTS_WORKFLOW}' AND d.data LIKE '%${text}%'`,
		);
	const runCounts = (codes: string[]) => codes.map((code) => runsWith(code).length);
	/** When each of the example's four triggers last polled (their cursors, in the coupon file). */
	const polls = () =>
		existsSync(file)
			? queryCouponFile<{ trigger_key: string; updated_at: number }>(
					file,
					`SELECT trigger_key, updated_at FROM trigger_cursors WHERE trigger_key LIKE '${EVENTS_WORKFLOW}/%' ORDER BY trigger_key`,
				)
			: [];

	beforeAll(async () => {
		userFolder = prepareN8n();
		file = join(userFolder, '.n8n', LOCAL_FILE_NAME);
		importInto(userFolder, 'credentials', [shopKeyCredential(SHOP_KEY)]);
		const shipped = examples('coupon-events', 'checkout-redeem-webhook');
		importInto(userFolder, 'workflow', shipped);
		for (const { id } of shipped) n8n(userFolder, ['publish:workflow', `--id=${id}`]);
		await start();
		await waitForWebhook(
			async () =>
				await fetch(`http://127.0.0.1:${PORT}/webhook/checkout`, {
					method: 'POST',
					headers: { 'content-type': 'application/json', 'x-shop-key': SHOP_KEY },
					body: JSON.stringify({ code: 'WARM-UP', email: 'nobody@example.com', orderId: 'W-0' }),
				}),
		);
		// Events count from a trigger's first poll: wait for all four.
		await waitUntil(polls, (cursors) => cursors.length === 4, 180, 5000);
	}, 25 * 60_000);

	afterAll(async () => {
		await stopN8n(server);
		closeLocalDatabase(file);
		if (userFolder) rmSync(userFolder, { recursive: true, force: true });
	}, 60_000);

	it(
		'starts the workflow once per redemption made through the checkout webhook',
		async () => {
			const contacts = ['ann@example.com', 'bob@example.com', 'cy@example.com'];
			const codes = await give('EVENTS', contacts, 30);
			closeLocalDatabase(file);
			for (const [i, code] of codes.entries()) {
				const response = await fetch(`http://127.0.0.1:${PORT}/webhook/checkout`, {
					method: 'POST',
					headers: { 'content-type': 'application/json', 'x-shop-key': SHOP_KEY },
					body: JSON.stringify({ code, email: contacts[i], orderId: `ORDER-${i}` }),
				});
				expect(((await response.json()) as { status: string }).status).toBe('accepted');
			}
			// An event is read from two minutes after it happened, at the next minute's poll.
			expect(
				await waitUntil(
					() => runCounts(codes),
					(n) => n.every((c) => c > 0),
					360,
					5000,
				),
			).toEqual([1, 1, 1]);
			for (const code of codes)
				expect(runsWith(code)).toEqual([expect.objectContaining({ status: 'success' })]);
			// Each trigger polls on, and nothing fires again.
			const before = polls().map((cursor) => cursor.updated_at);
			await waitUntil(
				() => polls().map((cursor) => cursor.updated_at),
				(after) => after.every((at, i) => at > before[i] + MINUTE),
				240,
				5000,
			);
			expect(runCounts(codes)).toEqual([1, 1, 1]);
		},
		15 * MINUTE,
	);

	it(
		'after a restart fires what happened while n8n was down, once, and nothing fired before',
		async () => {
			const earlier = queryCouponFile<{ code: string }>(
				file,
				'SELECT code FROM codes WHERE redeemed_at IS NOT NULL',
			).map(({ code }) => code);
			await stopN8n(server);
			// While n8n is down: a shop's order redeems a code, and a coupon of two days is handed out.
			const [redeemed] = await give('EVENTS', ['dee@example.com'], 30);
			await store().transaction(
				async (s) =>
					await redeemCodes(
						s,
						[{ code: redeemed, key: codeKey(redeemed), orderReference: 'ORDER-DOWN' }],
						Date.now(),
					),
			);
			const [ending] = await give('SHORT', ['eve@example.com'], 2);
			closeLocalDatabase(file);
			await start();
			expect(
				await waitUntil(
					() => runCounts([redeemed, ending]),
					(n) => n.every((c) => c > 0),
					480,
					5000,
				),
			).toEqual([1, 1]);
			const [thanked] = runsWith(redeemed);
			const [reminded] = runsWith(ending);
			expect(thanked.id).not.toBe(reminded.id);
			expect(runCounts(earlier)).toEqual(earlier.map(() => 1));
			// A poll after those: still once each.
			const before = polls().map((cursor) => cursor.updated_at);
			await waitUntil(
				() => polls().map((cursor) => cursor.updated_at),
				(after) => after.every((at, i) => at > before[i]),
				180,
				5000,
			);
			expect(runCounts([redeemed, ending, ...earlier])).toEqual([1, 1, ...earlier.map(() => 1)]);
		},
		20 * MINUTE,
	);
});
