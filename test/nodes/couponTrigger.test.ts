import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IDataObject, INode, IPollFunctions } from 'n8n-workflow';
import { ContactCoupon } from '../../nodes/ContactCoupon/ContactCoupon.node';
import { CouponTrigger } from '../../nodes/CouponTrigger/CouponTrigger.node';
import { EVENT_SETTLE_MS } from '../../nodes/shared/core/events/couponEvents';
import { closeLocalDatabase, LOCAL_FILE_NAME } from '../../nodes/shared/transport/sqlite';
import { jsonItems, mockExecuteFunctions } from '../helpers/executeFunctions';

const T0 = Date.UTC(2026, 3, 10, 8, 0, 0);
const MINUTE = 60_000;

describe('Coupon Trigger node', () => {
	let home: string;
	let savedUserFolder: string | undefined;
	let staticData: IDataObject;

	beforeEach(() => {
		jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
		jest.setSystemTime(T0);
		home = mkdtempSync(join(tmpdir(), 'coupons-trigger-'));
		// Where n8n's folder is for a poll, as n8n finds it.
		savedUserFolder = process.env.N8N_USER_FOLDER;
		process.env.N8N_USER_FOLDER = home;
		staticData = {};
	});
	afterEach(() => {
		jest.useRealTimers();
		if (savedUserFolder === undefined) delete process.env.N8N_USER_FOLDER;
		else process.env.N8N_USER_FOLDER = savedUserFolder;
		closeLocalDatabase(join(home, '.n8n', LOCAL_FILE_NAME));
		rmSync(home, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
	});

	/** Contact Coupon on the Local storage of the same n8n folder. */
	async function contactCoupon(operation: string, items: IDataObject[], parameters: IDataObject) {
		const mock = mockExecuteFunctions({
			items: jsonItems(...items),
			n8nFolder: join(home, '.n8n'),
			parameters: { operation, storage: 'local', options: {}, ...parameters },
		});
		const [output] = await new ContactCoupon().execute.call(mock.context);
		return output.map((item) => item.json);
	}

	/** One poll of the trigger, as n8n calls it: parameters by name, no item index. */
	async function poll(parameters: IDataObject, mode: 'trigger' | 'manual' = 'trigger') {
		const node: INode = {
			id: 'trigger-node-1',
			name: 'Coupon Trigger',
			type: 'n8n-nodes-coupons.couponTrigger',
			typeVersion: 1,
			position: [0, 0],
			parameters: {},
		};
		const context = {
			getNode: () => node,
			getMode: () => mode,
			getWorkflow: () => ({ id: 'workflow-1', name: 'Coupons', active: true }),
			getWorkflowStaticData: () => staticData,
			getCredentials: async () => {
				throw new Error('no credential in this test');
			},
			getNodeParameter: (name: string, fallback?: unknown) =>
				name in parameters ? parameters[name] : fallback,
			helpers: {
				returnJsonArray: (data: IDataObject[]) => data.map((json) => ({ json })),
			},
		} as unknown as IPollFunctions;
		return await new CouponTrigger().poll.call(context);
	}

	const redeemed = { event: 'redeemed', storage: 'local', couponNames: '', options: {} };

	it('starts the workflow with each redemption once, keeping its place in the coupon file and nothing in static data', async () => {
		const [given] = await contactCoupon('generate', [{ email: 'ann@example.com' }], {
			couponName: 'WELCOME',
			contact: 'ann@example.com',
			length: 8,
			validDays: 30,
		});
		const code = (given.coupon as IDataObject).code as string;
		expect(await poll(redeemed)).toBeNull();
		jest.setSystemTime(T0 + MINUTE);
		await contactCoupon('redeem', [{}], { code, options: { orderReference: 'ORDER-1' } });
		jest.setSystemTime(T0 + MINUTE + EVENT_SETTLE_MS);
		const fired = await poll(redeemed);
		expect(fired).toEqual([
			[
				{
					json: expect.objectContaining({
						event: 'redeemed',
						couponName: 'WELCOME',
						code,
						contact: 'ann@example.com',
						orderReference: 'ORDER-1',
					}),
				},
			],
		]);
		jest.setSystemTime(T0 + 10 * MINUTE);
		expect(await poll(redeemed)).toBeNull();
		// A poll saves the workflow's static data whole, as it was when published: never touch it.
		expect(staticData).toEqual({});
	});

	it('shows sample events in a test run without moving on, and says what to do when there are none', async () => {
		await expect(poll(redeemed, 'manual')).rejects.toThrow('No Redeemed event in the last 30 days');
		const [given] = await contactCoupon('generate', [{}], {
			couponName: 'WELCOME',
			contact: 'bob@example.com',
			length: 8,
			validDays: 30,
		});
		await poll(redeemed);
		const code = (given.coupon as IDataObject).code as string;
		await contactCoupon('redeem', [{}], { code, options: { orderReference: 'ORDER-7' } });
		for (const mode of ['manual', 'manual', 'trigger'] as const) {
			jest.setSystemTime(Date.now() + EVENT_SETTLE_MS);
			const events = await poll(redeemed, mode);
			expect(events?.[0].map((item) => item.json.code)).toEqual([code]);
		}
	});

	it('polls a new n8n, whose coupon file does not exist yet, and refuses workflow static data and bad parameters, naming the fix', async () => {
		await expect(poll(redeemed)).resolves.toBeNull();
		await expect(poll({ ...redeemed, storage: 'staticData' })).rejects.toMatchObject({
			message: expect.stringContaining('cannot watch coupons kept in workflow static data'),
			description: expect.stringContaining('Local (This n8n) or Database (PostgreSQL)'),
		});
		await expect(poll({ ...redeemed, event: 'expiringSoon', withinDays: 0 })).rejects.toMatchObject(
			{
				message: 'Days Before the End must be a whole number from 1 to 365; got 0',
			},
		);
		await expect(poll({ ...redeemed, couponNames: 'SPRING, ' })).resolves.toBeNull();
		// A hundred names of the longest kind are accepted; a hundred and one are not.
		const longest = (i: number) => `${i}`.padStart(100, 'N');
		const hundred = Array.from({ length: 100 }, (_, i) => longest(i)).join(', ');
		await expect(poll({ ...redeemed, couponNames: hundred })).resolves.toBeNull();
		const names = Array.from({ length: 101 }, (_, i) => `C${i}`).join(',');
		await expect(poll({ ...redeemed, couponNames: names })).rejects.toMatchObject({
			message: 'Coupon Names names 101 coupons, over the limit of 100',
		});
		await expect(poll({ ...redeemed, couponNames: 'x'.repeat(20_000) })).rejects.toMatchObject({
			message: 'Coupon Names is 20,000 characters long, over the limit of 10,200',
		});
		await expect(
			poll({ ...redeemed, event: 'lowStock', availableBelow: 0, daysLeftBelow: 0 }),
		).rejects.toMatchObject({
			message: expect.stringContaining('are both 0: no list can fall below them'),
		});
		await expect(poll({ ...redeemed, event: 'everything' })).rejects.toThrow(
			'Unknown choice "everything" for Event',
		);
	});
});
