import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { IDataObject } from 'n8n-workflow';
import {
	describeWithDatabase,
	dropSchema,
	sql,
	testCredentials,
	uniqueSchema,
} from '../helpers/postgres';
import { examples, execute, importInto, prepareN8n } from './n8nCli';

const DAY_MS = 24 * 60 * 60 * 1000;
const SPRING10 = [
	'SPR-4K7Q',
	'SPR-9XW2',
	'SPR-M3ZD',
	'SPR-7HNP',
	'SPR-Q2RC',
	'SPR-V8TJ',
	'SPR-3FKB',
	'SPR-X6GM',
	'SPR-D4WY',
	'SPR-N9PH',
	'SPR-R2LX',
	'SPR-B7QV',
	'SPR-K5CT',
	'SPR-W3ME',
	'SPR-H8ZF',
	'SPR-T6NA',
	'SPR-C9JR',
	'SPR-G2YS',
	'SPR-P4DU',
	'SPR-Y7BK',
];
const CREDENTIAL_ID = 'couponsE2eCred01';

let userFolder: string;
beforeAll(() => {
	userFolder = prepareN8n();
}, 20 * 60_000);
afterAll(() => rmSync(userFolder, { recursive: true, force: true }));

const node = (name: string, type: string, parameters: IDataObject, extra: IDataObject = {}) => ({
	id: name,
	name,
	type,
	typeVersion: 1,
	position: [0, 0],
	parameters,
	...extra,
});
const chain = (names: string[]) =>
	Object.fromEntries(
		names
			.slice(0, -1)
			.map((name, i) => [name, { main: [[{ node: names[i + 1], type: 'main', index: 0 }]] }]),
	);

/** Manual trigger → read the sample spreadsheet → Coupon Import → 8 new contacts per run → Contact Coupon. */
function importAndAssign(id: string, storage: 'staticData' | 'database') {
	const credentials =
		storage === 'database'
			? { credentials: { couponPostgres: { id: CREDENTIAL_ID, name: 'Coupon DB' } } }
			: {};
	const nodes = [
		node('Start', 'n8n-nodes-base.manualTrigger', {}),
		node('Read Spreadsheet', 'n8n-nodes-base.readWriteFile', {
			operation: 'read',
			fileSelector: join(userFolder, 'files', 'sample-coupons.xlsx'),
			options: {},
		}),
		node(
			'Coupon Import',
			'n8n-nodes-coupons.couponImport',
			{ storage, binaryPropertyName: 'data', couponName: '', options: {} },
			credentials,
		),
		node(
			'Contacts',
			'n8n-nodes-base.code',
			{
				jsCode:
					'return Array.from({ length: 8 }, (_, i) => ({ json: { email: `run-${$execution.id}-${i}@example.com` } }));',
			},
			{ typeVersion: 2 },
		),
		node(
			'Contact Coupon',
			'n8n-nodes-coupons.contactCoupon',
			{
				operation: 'generate',
				storage,
				couponName: 'spring10',
				length: 8,
				validDays: 14,
				contact: '={{ $json.email }}',
				options: {},
			},
			credentials,
		),
	];
	return {
		id,
		name: id,
		active: false,
		nodes,
		connections: chain(nodes.map((n) => n.name)),
		settings: {},
	};
}

function expectImportAndAssignRuns(workflowId: string): void {
	const first = execute(userFolder, workflowId);
	expect(first.error).toBeUndefined();
	expect(first.output['Coupon Import'].map((s) => [s.couponName, s.added, s.poolSize])).toEqual([
		['SPRING10', 20, 20],
		['VIP', 5, 5],
	]);
	const firstCoupons = first.output['Contact Coupon'].map((item) => item.coupon as IDataObject);
	expect(firstCoupons).toHaveLength(8);
	for (const coupon of firstCoupons) {
		expect(SPRING10).toContain(coupon.code);
		expect(coupon).toMatchObject({ name: 'SPRING10', source: 'imported', reused: false });
		expect(Date.parse(coupon.validUntil as string) - Date.parse(coupon.assignedAt as string)).toBe(
			14 * DAY_MS,
		);
	}

	// A second execution sees the pool the first one consumed: the stored data survived between runs.
	const second = execute(userFolder, workflowId);
	expect(
		second.output['Coupon Import'].map((s) => [s.couponName, s.added, s.duplicates, s.available]),
	).toEqual([
		['SPRING10', 0, 20, 12],
		['VIP', 0, 5, 5],
	]);
	const secondCodes = second.output['Contact Coupon'].map(
		(item) => (item.coupon as IDataObject).code,
	);
	expect(new Set([...firstCoupons.map((c) => c.code), ...secondCodes]).size).toBe(16);

	// The third needs 8 of the 4 left: it fails with the clear message and keeps nothing.
	const third = execute(userFolder, workflowId);
	expect(third.status).toBe('error');
	expect(third.error?.node?.name).toBe('Contact Coupon');
	expect(third.error?.message).toBe(
		'Coupon "SPRING10" has no unused codes left: 20 assigned (20 active, 0 expired, 0 redeemed, 0 replaced), 0 available',
	);
	expect(third.error?.context?.itemIndex).toBe(4);
}

describe('in a real n8n, on workflow static data', () => {
	it('imports the sample list, assigns its values, keeps the pool between executions, and fails clearly when it runs out', () => {
		importInto(userFolder, 'workflow', [importAndAssign('e2eStaticData001', 'staticData')]);
		expectImportAndAssignRuns('e2eStaticData001');
	});

	it('generates codes of the chosen length, valid for the chosen days', () => {
		const nodes = [
			node('Start', 'n8n-nodes-base.manualTrigger', {}),
			node(
				'Contacts',
				'n8n-nodes-base.code',
				{
					jsCode:
						"return ['ann@example.com', 'bob@example.com', 'ANN@example.com '].map((email) => ({ json: { email } }));",
				},
				{ typeVersion: 2 },
			),
			node('Contact Coupon', 'n8n-nodes-coupons.contactCoupon', {
				operation: 'generate',
				storage: 'staticData',
				couponName: 'WELCOME',
				length: 10,
				validDays: 7,
				contact: '={{ $json.email }}',
				options: {},
			}),
		];
		importInto(userFolder, 'workflow', [
			{
				id: 'e2eGenerated0001',
				name: 'generated',
				active: false,
				nodes,
				connections: chain(nodes.map((n) => n.name)),
				settings: {},
			},
		]);
		const coupons = execute(userFolder, 'e2eGenerated0001').output['Contact Coupon'].map(
			(item) => item.coupon as IDataObject,
		);
		expect(coupons.map((c) => c.code)).toEqual([
			expect.stringMatching(/^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{10}$/),
			expect.stringMatching(/^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{10}$/),
			coupons[0].code,
		]);
		expect(coupons[1].code).not.toBe(coupons[0].code);
		expect(coupons.map((c) => c.reused)).toEqual([false, false, true]);
		for (const coupon of coupons)
			expect(
				Date.parse(coupon.validUntil as string) - Date.parse(coupon.assignedAt as string),
			).toBe(7 * DAY_MS);
	});

	it('renders placeholders in an HTML template, assigning coupons, then reports the pool', () => {
		const html =
			'<p>Hi {{ name }}</p><p>Code: <b>$cst.Welcome.coupon$</b></p><p>$cst.firstname$</p>';
		const nodes = [
			node('Start', 'n8n-nodes-base.manualTrigger', {}),
			node(
				'Contacts',
				'n8n-nodes-base.code',
				{
					jsCode: `return ['ann@example.com', 'bob@example.com'].map((email) => ({ json: { email, html: ${JSON.stringify(html)} } }));`,
				},
				{ typeVersion: 2 },
			),
			node('Render', 'n8n-nodes-coupons.contactCoupon', {
				operation: 'render',
				storage: 'staticData',
				text: '={{ $json.html }}',
				contact: '={{ $json.email }}',
				whenMissing: 'assign',
				length: 9,
				validDays: 3,
				options: {},
			}),
			node(
				'Statistics',
				'n8n-nodes-coupons.contactCoupon',
				{ operation: 'stats', storage: 'staticData', couponName: '' },
				{ executeOnce: true },
			),
		];
		importInto(userFolder, 'workflow', [
			{
				id: 'e2eRender0000001',
				name: 'render',
				active: false,
				nodes,
				connections: chain(nodes.map((n) => n.name)),
				settings: {},
			},
		]);
		const run = execute(userFolder, 'e2eRender0000001');
		expect(run.error).toBeUndefined();
		const rendered = run.output.Render.map(
			(item) =>
				item.rendered as { text: string; coupons: IDataObject[]; unresolved: IDataObject[] },
		);
		for (const message of rendered) {
			expect(message.coupons).toEqual([
				expect.objectContaining({ name: 'Welcome', source: 'generated', reused: false }),
			]);
			expect(message.text).toBe(
				html.replace('$cst.Welcome.coupon$', message.coupons[0].code as string),
			);
			expect(message.coupons[0].code).toMatch(/^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{9}$/);
			expect(message.unresolved).toEqual([
				expect.objectContaining({ placeholder: '$cst.firstname$', problem: 'not_a_coupon' }),
			]);
		}
		expect(run.output.Statistics).toEqual([
			expect.objectContaining({
				name: 'Welcome',
				source: 'generated',
				assigned: 2,
				active: 2,
				generated: 2,
			}),
		]);
	});

	it('runs the shop-codes example as shipped: 1,000 codes made, exported to CSV, read back by Coupon Import', () => {
		const files = join(userFolder, 'files');
		const [shipped] = examples<{ id: string; nodes: Array<{ parameters: IDataObject }> }>(
			'create-shop-codes',
		).map(
			(workflow) =>
				JSON.parse(
					JSON.stringify(workflow).replaceAll('/home/node/.n8n-files', files),
				) as typeof workflow,
		);
		importInto(userFolder, 'workflow', [shipped]);
		const run = execute(userFolder, shipped.id);
		expect(run.error).toBeUndefined();
		expect(run.output['Create Codes']).toEqual([
			expect.objectContaining({ couponName: 'SHOP15', created: 1000, available: 1000 }),
		]);
		expect(run.output['Export Unused Codes']).toEqual([
			expect.objectContaining({ rows: 1000, status: 'available', fileFormat: 'csv' }),
		]);
		const lines = readFileSync(join(files, 'shop15-available-codes.csv'), 'utf8').split('\r\n');
		expect(lines[0]).toBe(
			'\ufeffcode,status,contact,assigned at,valid until,redeemed at,order reference,discount',
		);
		expect(lines).toHaveLength(1002);
		for (const line of lines.slice(1, -1))
			expect(line).toMatch(/^SHOP-[2-9]{4}-[A-Z]{4}[2-9A-Z],available,,,,,,15%$/);

		// The file goes back in through Coupon Import (another coupon, CSV read from its content).
		const reimport = {
			id: 'e2eReimportCsv01',
			name: 'e2eReimportCsv01',
			active: false,
			nodes: [
				node('Start', 'n8n-nodes-base.manualTrigger', {}),
				node('Read', 'n8n-nodes-base.readWriteFile', {
					operation: 'read',
					fileSelector: join(files, 'shop15-available-codes.csv'),
					options: {},
				}),
				node('Coupon Import', 'n8n-nodes-coupons.couponImport', {
					storage: 'staticData',
					binaryPropertyName: 'data',
					couponName: 'SHOP15-COPY',
					mode: 'dryRun',
					options: { valueColumn: 'code' },
				}),
			],
			connections: chain(['Start', 'Read', 'Coupon Import']),
			settings: {},
		};
		importInto(userFolder, 'workflow', [reimport]);
		const back = execute(userFolder, reimport.id);
		expect(back.error).toBeUndefined();
		expect(back.output['Coupon Import']).toEqual([
			expect.objectContaining({
				couponName: 'SHOP15-COPY',
				mode: 'dryRun',
				added: 1000,
				invalid: 0,
			}),
		]);
	});

	it('imports every example workflow', () => {
		const shipped = examples('import-coupon-list', 'assign-coupon-webhook', 'coupons-static-data');
		expect(() => importInto(userFolder, 'workflow', shipped)).not.toThrow();
	});
});

describeWithDatabase('in a real n8n, on PostgreSQL', () => {
	const schema = uniqueSchema('e2e');
	afterAll(async () => await dropSchema(schema));

	it('does the same with the credential imported through n8n import:credentials, and the database holds the result', async () => {
		importInto(userFolder, 'credentials', [
			{
				id: CREDENTIAL_ID,
				name: 'Coupon DB',
				type: 'couponPostgres',
				data: testCredentials(schema),
			},
		]);
		importInto(userFolder, 'workflow', [importAndAssign('e2ePostgres00001', 'database')]);
		expectImportAndAssignRuns('e2ePostgres00001');
		const [counts] = await sql<{ assigned: string; available: string }>(
			`SELECT count(c.contact_key) AS assigned, count(*) FILTER (WHERE c.contact_key IS NULL) AS available FROM "${schema}".codes c JOIN "${schema}".pools p ON p.id = c.pool_id WHERE p.name = 'SPRING10'`,
		);
		expect(counts).toEqual({ assigned: '16', available: '4' });
		// The examples with credential references (PostgreSQL, the shop's key, accounts) import too.
		const names = readdirSync(join(__dirname, '../../examples'))
			.filter((file) => file.endsWith('.json'))
			.map((file) => file.replace(/\.json$/, ''));
		const withCredentials = examples<{ name: string; nodes: Array<{ credentials?: object }> }>(
			...names,
		).filter((workflow) => workflow.nodes.some((n) => n.credentials));
		expect(withCredentials.map((workflow) => workflow.name).sort()).toEqual([
			'Coupons: Vendure coupon and order webhooks',
			"Coupons: a contact's coupons",
			'Coupons: a team code usable five times',
			'Coupons: an AI agent gives and checks coupons',
			'Coupons: an email with the discount and the expiry',
			'Coupons: check a code before checkout',
			'Coupons: give a code back when an order is refunded',
			'Coupons: hold a code while the customer pays',
			'Coupons: import and assign (PostgreSQL)',
			'Coupons: import lists saved to a Google Drive folder',
			'Coupons: import lists that arrive by e-mail',
			'Coupons: push codes to Shopify, redeem its orders',
			'Coupons: push codes to Stripe, redeem its checkouts',
			'Coupons: push codes to WooCommerce, redeem its orders',
			'Coupons: redeem a code at checkout',
		]);
		expect(() => importInto(userFolder, 'workflow', withCredentials)).not.toThrow();
	});
});
