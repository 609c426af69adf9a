import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { INodeProperties, INodeType } from 'n8n-workflow';
import { ContactCoupon } from '../nodes/ContactCoupon/ContactCoupon.node';
import { CouponImport } from '../nodes/CouponImport/CouponImport.node';
import { CouponPostgres } from '../credentials/CouponPostgres.credentials';

const root = join(__dirname, '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
	name: string;
	main?: string;
	keywords: string[];
	files: string[];
	n8n: { n8nNodesApiVersion: number; nodes: string[]; credentials: string[] };
	peerDependencies: Record<string, string>;
	dependencies: Record<string, string>;
};

const names = (properties: INodeProperties[]) => properties.map((p) => p.name);

describe('the package as n8n loads it', () => {
	it('lists the Coupon PostgreSQL credential, with its icons', () => {
		expect(pkg.n8n.credentials).toEqual(['dist/credentials/CouponPostgres.credentials.js']);
		const credential = new CouponPostgres();
		expect(credential.name).toBe('couponPostgres');
		expect(credential.properties.map((p) => p.name)).toEqual([
			'host',
			'port',
			'database',
			'user',
			'password',
			'ssl',
			'schema',
			'maxConnections',
		]);
		expect(credential.properties.find((p) => p.name === 'password')!.typeOptions).toEqual({
			password: true,
		});
		for (const file of Object.values(credential.icon))
			expect(existsSync(join(root, 'credentials', file.replace(/^file:/, '')))).toBe(true);
	});

	it('is a community node package whose n8n section lists each node built from its source', () => {
		expect(pkg.name).toBe('n8n-nodes-coupons');
		expect(pkg.keywords).toContain('n8n-community-node-package');
		expect(pkg.files).toEqual(['dist']);
		expect(pkg.n8n.n8nNodesApiVersion).toBe(1);
		expect(pkg.peerDependencies['n8n-workflow']).toBe('*');
		for (const built of pkg.n8n.nodes) {
			expect(built).toMatch(/^dist\/nodes\/.+\.node\.js$/);
			expect(existsSync(join(root, built.replace(/^dist\//, '').replace(/\.js$/, '.ts')))).toBe(
				true,
			);
		}
	});

	it('names no entry point it does not ship', () => {
		// n8n loads the files of the n8n section; a "main" must point at a file, or be left out.
		if (pkg.main !== undefined) expect(existsSync(join(root, pkg.main))).toBe(true);
		expect(pkg.main).toBeUndefined();
	});

	it('needs at run time only dependencies that install without scripts', () => {
		expect(Object.keys(pkg.dependencies).sort()).toEqual([
			'@e965/xlsx',
			'nanoid',
			'pg',
			'pg-copy-streams',
		]);
		expect(pkg.dependencies).not.toHaveProperty('xlsx');
	});

	it.each<[string, INodeType]>([
		['ContactCoupon', new ContactCoupon()],
		['CouponImport', new CouponImport()],
	])('%s has its light and dark icons next to it', (dir, node) => {
		const icon = node.description.icon as { light: string; dark: string };
		for (const file of [icon.light, icon.dark]) {
			expect(existsSync(join(root, 'nodes', dir, file.replace(/^file:/, '')))).toBe(true);
		}
	});

	it('lets the editor take every Length the rule can judge: no silent clamp that the rule then refuses', () => {
		const lengths = new ContactCoupon().description.properties.filter((p) => p.name === 'length');
		expect(lengths.length).toBeGreaterThan(0);
		// Length 1 reaches the rule, which names the minimum for the chosen characters and pattern.
		for (const length of lengths)
			expect(length.typeOptions).toMatchObject({ minValue: 1, maxValue: 64 });
	});

	it('keeps the parameter names that workflow JSON stores', () => {
		const contact = new ContactCoupon().description;
		expect(contact.name).toBe('contactCoupon');
		expect([...new Set(names(contact.properties))].sort()).toEqual([
			'code',
			'contact',
			'count',
			'couponName',
			'createCoupons',
			'dateOptions',
			'deleteAssigned',
			'fallbackCode',
			'holdMinutes',
			'ifNoCoupon',
			'length',
			'localNotice',
			'operation',
			'options',
			'orderReference',
			'staticDataNotice',
			'status',
			'storage',
			'text',
			// As an AI agent's tool: what the model reads (n8n's own name for it).
			'toolDescription',
			'validDays',
			'whenMissing',
			'whenUnfilled',
		]);
		const operation = contact.properties.find((p) => p.name === 'operation')!;
		expect(operation.default).toBe('generate');
		expect(
			(operation.options as Array<{ name: string; value: string }>).map((o) => [o.value, o.name]),
		).toEqual([
			['createCodes', 'Create Codes'],
			['deleteCoupon', 'Delete Coupon'],
			['exportCodes', 'Export Codes'],
			['generate', 'Generate for Contact'],
			['getForContact', 'Get Contact Coupons'],
			['stats', 'Get Pool Statistics'],
			['redeem', 'Redeem Code'],
			['release', 'Release Code'],
			['render', 'Render Placeholders'],
			['reserve', 'Reserve Code'],
			['undoRedemption', 'Undo Redemption'],
			['validate', 'Validate Code'],
		]);
		// Each parameter is shown for the operations that read it.
		const shownFor = (name: string) =>
			contact.properties
				.filter((p) => p.name === name)
				.flatMap((p) => (p.displayOptions?.show?.operation as string[] | undefined) ?? ['*'])
				.sort();
		expect(shownFor('couponName')).toEqual([
			'createCodes',
			'deleteCoupon',
			'exportCodes',
			'generate',
			'stats',
		]);
		expect(shownFor('deleteAssigned')).toEqual(['deleteCoupon']);
		expect(shownFor('status')).toEqual(['exportCodes']);
		expect(shownFor('count')).toEqual(['createCodes']);
		expect(shownFor('length')).toEqual(['createCodes', 'generate', 'render']);
		// Twice: in the node, and as an AI agent's tool whose model supplies the value by default.
		const twice = (operations: string[]) => operations.flatMap((o) => [o, o]);
		expect(shownFor('contact')).toEqual(twice(['generate', 'getForContact', 'render']));
		expect(shownFor('code')).toEqual(
			twice(['redeem', 'release', 'reserve', 'undoRedemption', 'validate']),
		);
		expect(shownFor('toolDescription')).toEqual(
			(operation.options as Array<{ value: string }>).map((o) => o.value).sort(),
		);
		expect(shownFor('orderReference')).toEqual(['release', 'reserve']);
		expect(shownFor('holdMinutes')).toEqual(['reserve']);
		expect(shownFor('ifNoCoupon')).toEqual(['generate', 'render']);
		expect(shownFor('fallbackCode')).toEqual(['generate', 'render']);
		// Once for nodes saved before version 3 and once from it on: their defaults differ.
		expect(shownFor('whenMissing')).toEqual(['render', 'render']);
		expect(shownFor('whenUnfilled')).toEqual(['render', 'render']);
		expect(shownFor('createCoupons')).toEqual(['render', 'render']);
		expect(shownFor('text')).toEqual(['render']);
		// Every parameter but the operation, the storage and its notice belongs to some operations only.
		const everywhere = contact.properties
			.filter((p) => !p.displayOptions?.show?.operation)
			.map((p) => p.name);
		expect(everywhere).toEqual([
			'operation',
			'storage',
			'storage',
			'localNotice',
			'staticDataNotice',
		]);
		expect(shownFor('validDays')).toEqual(['generate', 'render']);
		expect(shownFor('options')).toEqual([
			'createCodes',
			'deleteCoupon',
			'exportCodes',
			'generate',
			'getForContact',
			'redeem',
			'release',
			'render',
			'reserve',
			'undoRedemption',
			'validate',
		]);
		const optionsOf = (operation: string) =>
			names(
				contact.properties.find(
					(p) =>
						p.name === 'options' &&
						(p.displayOptions?.show?.operation as string[]).includes(operation),
				)!.options as INodeProperties[],
			);
		expect(optionsOf('getForContact')).toEqual(['onlyActive']);
		expect(optionsOf('deleteCoupon')).toEqual(['dryRun']);
		expect(optionsOf('createCodes')).toEqual([
			'characters',
			'checkCharacter',
			'couponDetails',
			'customCharacters',
			'fileFormat',
			'fileName',
			'output',
			'pattern',
			'prefix',
			'binaryPropertyName',
			'suffix',
			'usesPerCode',
			'usesPerCustomer',
		]);
		expect(optionsOf('exportCodes')).toEqual(['fileFormat', 'fileName', 'binaryPropertyName']);
		expect(optionsOf('validate')).toEqual(['contact', 'couponName', 'orderReference']);
		expect(optionsOf('redeem')).toEqual(['contact', 'couponName', 'orderReference']);
		expect(optionsOf('undoRedemption')).toEqual([
			'contact',
			'couponName',
			'orderReference',
			'reason',
		]);
		expect(optionsOf('reserve')).toEqual(['contact', 'couponName']);
		expect(optionsOf('release')).toEqual(['contact', 'couponName']);
		expect(optionsOf('render')).toEqual([
			'characters',
			'checkCharacter',
			'customCharacters',
			'maxNewCoupons',
			'pattern',
			'prefix',
			'suffix',
		]);
		const whenMissing = contact.properties.find((p) => p.name === 'whenMissing')!;
		expect(whenMissing.default).toBe('assign');
		expect((whenMissing.options as Array<{ value: string }>).map((o) => o.value)).toEqual([
			'assign',
			'leave',
			'fail',
		]);
		const byName = Object.fromEntries(
			contact.properties
				.filter(
					(p) =>
						(p.displayOptions?.show?.operation?.includes('generate') ?? true) &&
						!p.displayOptions?.show?.['@tool']?.includes(true),
				)
				.map((p) => [p.name, p]),
		);
		expect(byName.couponName.displayName).toBe('Coupon Name');
		expect(byName.length).toMatchObject({ displayName: 'Length', default: 8 });
		expect(byName.validDays.displayName).toBe('Valid (Days)');
		expect(byName.contact).toMatchObject({ displayName: 'Contact', default: '={{ $json.email }}' });
		expect(byName.storage).toMatchObject({
			options: [
				expect.objectContaining({ name: 'Local (This n8n)', value: 'local' }),
				expect.objectContaining({ name: 'Workflow Static Data', value: 'staticData' }),
				expect.objectContaining({ name: 'Database (PostgreSQL)', value: 'database' }),
			],
		});
		expect(contact.credentials).toEqual([
			expect.objectContaining({
				name: 'couponPostgres',
				testedBy: 'couponPostgresConnectionTest',
				displayOptions: { show: { storage: ['database'] } },
			}),
		]);
		expect(Object.keys(new ContactCoupon().methods.credentialTest)).toEqual([
			'couponPostgresConnectionTest',
		]);
		expect(names(byName.options.options as INodeProperties[])).toEqual([
			'activeCoupon',
			'characters',
			'checkCharacter',
			'customCharacters',
			'pattern',
			'prefix',
			'suffix',
			'shortenToExpiry',
			'usesPerCode',
			'couponDetails',
		]);

		const importer = new CouponImport().description;
		expect(importer.name).toBe('couponImport');
		expect(names(importer.properties)).toEqual(
			expect.arrayContaining(['storage', 'binaryPropertyName', 'couponName', 'mode', 'options']),
		);
		const mode = importer.properties.find((p) => p.name === 'mode')!;
		expect(mode.default).toBe('add');
		expect((mode.options as Array<{ value: string }>).map((o) => o.value)).toEqual([
			'add',
			'replace',
			'dryRun',
		]);
		const importOptions = importer.properties.find((p) => p.name === 'options')!
			.options as INodeProperties[];
		expect(names(importOptions).sort()).toEqual([
			'couponDetails',
			'expiryColumn',
			'keepColumns',
			'maxNewCoupons',
			'maxRows',
			'maxUnpackedMegabytes',
			'nameColumn',
			'sheetName',
			'usesPerCode',
			'usesPerCustomer',
			'valueColumn',
		]);
	});
});
