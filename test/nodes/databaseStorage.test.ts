import {
	NodeApiError,
	type ICredentialsDecrypted,
	type ICredentialTestFunctions,
	type IDataObject,
} from 'n8n-workflow';
import { ContactCoupon } from '../../nodes/ContactCoupon/ContactCoupon.node';
import { CouponImport } from '../../nodes/CouponImport/CouponImport.node';
import { couponPostgresConnectionTest } from '../../nodes/shared/n8n/methods/credentialTest';
import { databaseFor } from '../../nodes/shared/transport/postgres';
import {
	failureOf,
	fileItem,
	jsonItems,
	mockExecuteFunctions,
	nodeFailure,
} from '../helpers/executeFunctions';
import {
	describeWithDatabase,
	dropSchema,
	sql,
	testCredentials,
	uniqueSchema,
} from '../helpers/postgres';
import { xlsx } from '../helpers/spreadsheets';

describeWithDatabase('both nodes on database storage', () => {
	const schema = uniqueSchema('nodes');
	const credentials = testCredentials(schema);
	afterAll(async () => {
		await databaseFor(credentials).close();
		await dropSchema(schema);
	});

	const importFile = async (rows: unknown[][], continueOnFail = false) => {
		const mock = mockExecuteFunctions({
			items: [fileItem(xlsx({ Sheet1: rows }))],
			credentials,
			continueOnFail,
			parameters: { storage: 'database', binaryPropertyName: 'data', couponName: '', options: {} },
		});
		return (await new CouponImport().execute.call(mock.context))[0];
	};
	const generate = async (
		emails: string[],
		parameters: IDataObject = {},
		continueOnFail = false,
	) => {
		const mock = mockExecuteFunctions({
			items: jsonItems(...emails.map((email) => ({ email }))),
			credentials,
			continueOnFail,
			mode: 'manual',
			parameters: {
				operation: 'generate',
				storage: 'database',
				couponName: 'DB10',
				length: 8,
				validDays: 30,
				contact: (i: number) => emails[i],
				options: {},
				...parameters,
			},
		});
		const [output] = await new ContactCoupon().execute.call(mock.context);
		return { output, hints: mock.hints };
	};

	it('imports a list that every later run (and workflow) assigns from, with the same output as static data', async () => {
		const [summary] = await importFile([
			['coupon name', 'coupon value'],
			['Shared', '0001'],
			['Shared', '0002'],
			['Shared', '0001'],
		]);
		expect(summary.json).toMatchObject({
			couponName: 'Shared',
			added: 2,
			duplicates: 1,
			poolSize: 2,
			available: 2,
		});
		const { output, hints } = await generate(['a@x.com', 'b@x.com'], { couponName: 'shared' });
		expect(output.map((item) => (item.json.coupon as IDataObject).code).sort()).toEqual([
			'0001',
			'0002',
		]);
		expect(output[0].json.coupon).toMatchObject({
			name: 'Shared',
			source: 'imported',
			contact: 'a@x.com',
			reused: false,
		});
		// Manual runs are saved on the database, and Length was left alone: nothing to warn about.
		expect(hints).toEqual([]);
		const again = await generate(['A@X.com'], { couponName: 'SHARED' });
		expect(again.output[0].json.coupon).toMatchObject({
			code: (output[0].json.coupon as IDataObject).code,
			reused: true,
		});
	});

	it('fails an exhausted list with its counts and keeps nothing of the run', async () => {
		await importFile([
			['coupon name', 'coupon value'],
			['Tiny', 'T1'],
		]);
		const error = await nodeFailure(generate(['x', 'y'], { couponName: 'Tiny' }));
		expect(error.message).toBe(
			'Coupon "Tiny" has no unused codes left: 1 assigned (1 active, 0 expired, 0 redeemed, 0 replaced), 0 available',
		);
		expect(error.context.itemIndex).toBe(1);
		const rows = await sql(
			`SELECT c.contact_key FROM "${schema}".codes c JOIN "${schema}".pools p ON p.id = c.pool_id WHERE p.name = 'Tiny'`,
		);
		expect(rows).toEqual([{ contact_key: null }]);
	});

	it('generates unique codes for a new name', async () => {
		const { output } = await generate(
			Array.from({ length: 300 }, (_, i) => `p${i}@x.com`),
			{ couponName: 'Fresh', length: 10 },
		);
		const codes = output.map((item) => (item.json.coupon as IDataObject).code as string);
		expect(new Set(codes).size).toBe(300);
		expect(codes.every((code) => /^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{10}$/.test(code))).toBe(true);
	});

	it('redeems a code once when two checkouts of it run at the same moment, and shows it on the contact card', async () => {
		const [code] = (
			await generate(['shopper@x.com'], { couponName: 'Checkout', length: 10 })
		).output.map((item) => (item.json.coupon as IDataObject).code as string);
		const checkout = async (operation: string, order: string) => {
			const mock = mockExecuteFunctions({
				items: jsonItems({ body: { code: code.toLowerCase(), email: 'Shopper@x.com', order } }),
				credentials,
				mode: 'webhook',
				parameters: {
					operation,
					storage: 'database',
					code: code.toLowerCase(),
					options: { contact: 'Shopper@x.com', couponName: 'checkout', orderReference: order },
				},
			});
			return (await new ContactCoupon().execute.call(mock.context))[0][0].json;
		};
		const answers = await Promise.all([checkout('redeem', 'A-1'), checkout('redeem', 'A-2')]);
		const statuses = answers.map((json) => (json.redemption as IDataObject).status).sort();
		expect(statuses).toEqual(['accepted', 'redeemed']);
		const winner = answers.find((json) => (json.redemption as IDataObject).accepted)!;
		const winningOrder = ((winner.redemption as IDataObject).coupon as IDataObject).orderReference;
		expect(['A-1', 'A-2']).toContain(winningOrder);
		// A checkout is never told another order's reference; the contact card below has it.
		expect(await checkout('validate', '')).toMatchObject({
			validation: { valid: false, status: 'redeemed', coupon: { orderReference: null } },
		});
		const card = mockExecuteFunctions({
			items: jsonItems({}),
			credentials,
			parameters: {
				operation: 'getForContact',
				storage: 'database',
				contact: 'SHOPPER@x.com',
				options: {},
			},
		});
		const [[item]] = await new ContactCoupon().execute.call(card.context);
		expect(item.json.coupons).toEqual([
			expect.objectContaining({
				name: 'Checkout',
				code,
				status: 'redeemed',
				orderReference: winningOrder,
			}),
		]);
	});

	it('reports an unreachable database as an API error naming host and port', async () => {
		const mock = mockExecuteFunctions({
			items: jsonItems({ email: 'a' }),
			credentials: testCredentials(schema, { port: 1 }),
			parameters: {
				operation: 'generate',
				storage: 'database',
				couponName: 'X',
				length: 8,
				validDays: 3,
				contact: 'a',
				options: {},
			},
		});
		const error = await failureOf(new ContactCoupon().execute.call(mock.context), NodeApiError);
		expect(error.message).toMatch(/^Could not connect to PostgreSQL at 127\.0\.0\.1:1/);
		expect(error.description).toMatch(/Coupon PostgreSQL credential/);
	});

	it('tests the credential by creating a table it then rolls back', async () => {
		const test = async (data: object) =>
			await couponPostgresConnectionTest.call(
				{} as ICredentialTestFunctions,
				{ id: '1', name: 'c', type: 'couponPostgres', data } as unknown as ICredentialsDecrypted,
			);
		const fresh = uniqueSchema('credential');
		expect(await test(testCredentials(fresh))).toEqual({
			status: 'OK',
			message: expect.stringContaining(`can create the coupon tables in schema "${fresh}"`),
		});
		expect(await sql(`SELECT 1 FROM pg_namespace WHERE nspname = $1`, [fresh])).toEqual([]);
		const refused = await test(testCredentials(fresh, { port: 1 }));
		expect(refused).toEqual({
			status: 'Error',
			message: expect.stringMatching(/^Could not connect to PostgreSQL at 127\.0\.0\.1:1/),
		});
		expect((await test(testCredentials('bad-name'))).message).toMatch(
			/schema name "bad-name" .* is not allowed/,
		);
	});
});
