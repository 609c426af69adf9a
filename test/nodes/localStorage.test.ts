import { existsSync, mkdirSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
	NodeHelpers,
	type IDataObject,
	type INodeParameters,
	type INodeTypeDescription,
} from 'n8n-workflow';
import { ContactCoupon } from '../../nodes/ContactCoupon/ContactCoupon.node';
import { CouponImport } from '../../nodes/CouponImport/CouponImport.node';
import {
	fileItem,
	jsonItems,
	mockExecuteFunctions,
	nodeFailure,
} from '../helpers/executeFunctions';
import { temporaryLocalFile } from '../helpers/localFiles';
import {
	LOCAL_FILE_NAME,
	closeLocalDatabase,
	isQueueMode,
} from '../../nodes/shared/transport/sqlite';
import { xlsx } from '../helpers/spreadsheets';

/** The parameters n8n reads for a node saved with `saved` at this version (defaults filled in). */
const parametersOf = (
	description: INodeTypeDescription,
	typeVersion: number,
	saved: INodeParameters,
) =>
	NodeHelpers.getNodeParameters(
		description.properties,
		saved,
		true,
		false,
		{ typeVersion },
		description,
	);

describe('the Storage parameter across node versions', () => {
	it.each([
		['Contact Coupon', new ContactCoupon().description, [1, 2, 3]],
		['Coupon Import', new CouponImport().description, [1, 2]],
	])(
		'%s: a new node starts on Local, a saved version 1 node keeps workflow static data',
		(_, description, versions) => {
			expect(description.version).toEqual(versions);
			expect(description.defaultVersion).toBe(versions.at(-1));
			// n8n leaves out of the workflow JSON a parameter equal to its default: version 1 nodes saved
			// on static data have no storage at all, and must keep reading it as static data.
			expect(parametersOf(description, 1, {})!.storage).toBe('staticData');
			for (const version of versions.slice(1)) {
				expect(parametersOf(description, version, {})!.storage).toBe('local');
				expect(parametersOf(description, version, { storage: 'staticData' })!.storage).toBe(
					'staticData',
				);
			}
			expect(parametersOf(description, 1, { storage: 'database' })!.storage).toBe('database');
		},
	);
});

describe('both nodes on the Local storage', () => {
	let file: string;
	let remove: () => void;
	let n8nFolder: string;
	beforeEach(() => {
		({ file, remove } = temporaryLocalFile('nodes'));
		n8nFolder = dirname(file);
	});
	afterEach(() => {
		delete process.env.EXECUTIONS_MODE;
		remove();
	});

	const importList = async (mode: 'manual' | 'trigger', rows: string[][]) => {
		const mock = mockExecuteFunctions({
			items: [fileItem(xlsx({ Sheet1: [['coupon name', 'coupon value'], ...rows] }))],
			mode,
			n8nFolder,
			staticData: {},
			parameters: { storage: 'local', binaryPropertyName: 'data', couponName: '', options: {} },
		});
		const [output] = await new CouponImport().execute.call(mock.context);
		return { output, hints: mock.hints };
	};
	const generate = async (
		emails: string[],
		couponName: string,
		mode: 'manual' | 'trigger' = 'manual',
	) => {
		const mock = mockExecuteFunctions({
			items: jsonItems(...emails.map((email) => ({ email }))),
			mode,
			n8nFolder,
			// Each run its own workflow: Local coupons do not live in static data.
			staticData: {},
			parameters: {
				operation: 'generate',
				storage: 'local',
				couponName,
				length: 8,
				validDays: 14,
				contact: (i: number) => emails[i],
				options: {},
			},
		});
		const [output] = await new ContactCoupon().execute.call(mock.context);
		return {
			output,
			hints: mock.hints,
			coupons: output.map((item) => item.json.coupon as IDataObject),
		};
	};

	it("keeps a test run's import for a test run in another workflow, in the file next to n8n's data", async () => {
		const imported = await importList('manual', [
			['SPRING10', 'SPR-0001'],
			['SPRING10', 'SPR-0002'],
		]);
		expect(imported.output[0].json).toMatchObject({ couponName: 'SPRING10', added: 2 });
		// Saved although the run came from the editor: no "not saved" hint.
		expect(imported.hints).toEqual([]);
		expect(existsSync(join(n8nFolder, 'coupons.sqlite'))).toBe(true);

		const first = await generate(['ann@example.com', 'bob@example.com'], 'spring10');
		expect(first.coupons.map((c) => c.code).sort()).toEqual(['SPR-0001', 'SPR-0002']);
		expect(first.coupons.every((c) => c.source === 'imported')).toBe(true);
		expect(first.hints).toEqual([]);
		const again = await generate(['ANN@example.com'], 'SPRING10');
		expect(again.coupons[0]).toMatchObject({ code: first.coupons[0].code, reused: true });
	});

	it("keeps its file out of n8n 3's rename of binaryData to storage, and finds it after", async () => {
		// n8n 2.x in its filesystem binary mode keeps files in binaryData; n8n 3 renames that folder to
		// storage on its first start, and refuses to start if both exist.
		mkdirSync(join(n8nFolder, 'binaryData', 'workflows'), { recursive: true });
		writeFileSync(join(n8nFolder, 'binaryData', 'workflows', 'file-1'), 'a file of a run');
		const before = await generate(['ann@example.com'], 'WELCOME');
		expect(readdirSync(n8nFolder).filter((name) => !name.startsWith(LOCAL_FILE_NAME))).toEqual([
			'binaryData',
		]);

		closeLocalDatabase(file);
		renameSync(join(n8nFolder, 'binaryData'), join(n8nFolder, 'storage'));
		const after = await generate(['ann@example.com'], 'WELCOME');
		expect(after.coupons[0]).toMatchObject({ code: before.coupons[0].code, reused: true });
		expect(readdirSync(join(n8nFolder, 'storage'))).toEqual(['workflows']);
	});

	it('says where it created a generated coupon for a name that had no list', async () => {
		const { coupons, hints } = await generate(['ann@example.com'], 'WELCOME');
		expect(coupons[0]).toMatchObject({ name: 'WELCOME', source: 'generated' });
		expect(hints.map((h) => h.message)).toEqual([
			`No coupon was named "WELCOME" in the local file ${join(n8nFolder, 'coupons.sqlite')}, so a generated coupon of that name was created. To assign values from a list instead, import it under this name first (Coupon Import, same storage).`,
		]);
	});

	it('knows queue mode from EXECUTIONS_MODE, and in worker and webhook processes whatever it says', () => {
		const n8n = (command: string) => ['/usr/bin/node', '/usr/lib/n8n/bin/n8n', command];
		expect(isQueueMode({ EXECUTIONS_MODE: 'queue' }, n8n('start'))).toBe(true);
		expect(isQueueMode({}, n8n('worker'))).toBe(true);
		expect(isQueueMode({ EXECUTIONS_MODE: 'regular' }, n8n('webhook'))).toBe(true);
		expect(isQueueMode({}, n8n('start'))).toBe(false);
		expect(isQueueMode({ EXECUTIONS_MODE: 'regular' }, n8n('execute'))).toBe(false);
	});

	it('refuses to run in queue mode, naming PostgreSQL, and writes nothing', async () => {
		process.env.EXECUTIONS_MODE = 'queue';
		const error = await nodeFailure(generate(['ann@example.com'], 'WELCOME', 'trigger'));
		expect(error.message).toBe(
			'The Local storage cannot be used in queue mode: each worker would keep its own coupons on its own disk',
		);
		expect(error.description).toBe(
			'Choose Database (PostgreSQL) as the storage, with a Coupon PostgreSQL credential that every worker can reach.',
		);
		expect(existsSync(join(n8nFolder, 'coupons.sqlite'))).toBe(false);
	});
});
