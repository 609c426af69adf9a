import type { ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOCAL_FILE_NAME } from '../../nodes/shared/transport/sqlite';
import {
	examples,
	importInto,
	n8n,
	prepareN8n,
	queryCouponFile,
	startN8n,
	waitForN8n,
	stopN8n,
	waitUntil,
} from './n8nCli';

const PORT = 5684;
const SAMPLE = join(__dirname, '../../examples/sample-coupons.xlsx');

/**
 * The watched-folder example as shipped, published in a real n8n with the Local File Trigger
 * allowed as `npm run dev` allows it: files copied into the folder are imported into the Local
 * storage, once each, and only once they are whole.
 */
describe('in a real n8n, the watched-folder import example', () => {
	let userFolder: string;
	let incoming: string;
	let server: ChildProcess;
	/** Codes per coupon in the Local storage, which the first import creates. */
	const codeCounts = () =>
		Object.fromEntries(
			(existsSync(join(userFolder, '.n8n', LOCAL_FILE_NAME))
				? queryCouponFile<{ name: string; codes: number }>(
						join(userFolder, '.n8n', LOCAL_FILE_NAME),
						'SELECT p.name, count(*) AS codes FROM pools p JOIN codes c ON c.pool_id = p.id GROUP BY p.name',
					)
				: []
			).map(({ name, codes }) => [name, codes]),
		);
	/** The n8n database of this test's n8n. */
	const n8nDatabase = () => join(userFolder, '.n8n', 'database.sqlite');
	/** The statuses of the example's runs whose data holds each of `texts` (n8n keeps the trigger's path). */
	const runsWith = (...texts: string[]) =>
		queryCouponFile<{ status: string }>(
			n8nDatabase(),
			`SELECT e.status FROM execution_entity e JOIN execution_data d ON d.executionId = e.id
			WHERE e.workflowId = 'couponsExample22' AND ${texts.map((text) => `d.data LIKE '%${text}%'`).join(' AND ')}`,
		).map(({ status }) => status);
	/** Waits until the example ran for `texts` and every such run ended (n8n saves a run as it starts). */
	const finishedRunsWith = async (...texts: string[]) =>
		await waitUntil(
			() => runsWith(...texts),
			(statuses) => statuses.length > 0 && statuses.every((s) => !['new', 'running'].includes(s)),
			120,
		);
	const failedRuns = () =>
		queryCouponFile<{ runs: number }>(
			n8nDatabase(),
			"SELECT count(*) AS runs FROM execution_entity WHERE status NOT IN ('success', 'running', 'new')",
		)[0].runs;

	beforeAll(async () => {
		userFolder = prepareN8n();
		const files = join(userFolder, 'files');
		incoming = join(files, 'incoming');
		mkdirSync(incoming);
		// As `npm run dev` imports it: n8n's files folder is this user folder's.
		const [shipped] = examples('import-watched-folder').map(
			(workflow) =>
				JSON.parse(JSON.stringify(workflow).replaceAll('/home/node/.n8n-files', files)) as {
					id: string;
				},
		);
		importInto(userFolder, 'workflow', [shipped]);
		n8n(userFolder, ['publish:workflow', `--id=${shipped.id}`]);
		server = startN8n(
			userFolder,
			['start'],
			{ N8N_PORT: String(PORT), N8N_RUNNERS_BROKER_PORT: '5683' },
			'ignore',
		);
		await waitForN8n(PORT);
		// The watcher starts a little after n8n answers, and sees only files added after it started:
		// a one-code list dropped each second until one is imported.
		let probes = 0;
		await waitUntil(
			() => {
				writeFileSync(
					join(incoming, `probe-${++probes}.csv`),
					'coupon name,coupon value\nPROBE,P-1\n',
				);
				return codeCounts();
			},
			(counts) => counts.PROBE === 1,
			120,
		);
	}, 25 * 60_000);

	afterAll(async () => {
		await stopN8n(server);
		if (userFolder) rmSync(userFolder, { recursive: true, force: true });
	}, 60_000);

	it('imports a spreadsheet copied into the folder only once it is whole', async () => {
		// Copied slowly: half the file, a pause, the rest (read early, it would be a damaged file).
		const bytes = readFileSync(SAMPLE);
		const target = join(incoming, 'spring-list.xlsx');
		writeFileSync(target, bytes.subarray(0, bytes.length / 2));
		await new Promise((resolve) => setTimeout(resolve, 1000));
		writeFileSync(target, bytes.subarray(bytes.length / 2), { flag: 'a' });

		expect(await finishedRunsWith('spring-list.xlsx')).toEqual(['success']);
		expect(codeCounts()).toEqual({ PROBE: 1, SPRING10: 20, VIP: 5 });
		// n8n's default binary mode (filesystem, the one n8n 3 keeps): the file went from Read/Write
		// Files from Disk to Coupon Import on disk, not in the item.
		expect(runsWith('spring-list.xlsx', 'filesystem-v2:')).toEqual(['success']);
		expect(failedRuns()).toBe(0);
	}, 240_000);

	it('adds nothing for a second copy of the same list, and leaves other files alone', async () => {
		copyFileSync(SAMPLE, join(incoming, 'spring-list (copy).xlsx'));
		writeFileSync(join(incoming, 'notes.txt'), 'not a code list');
		for (const name of ['spring-list (copy).xlsx', 'notes.txt'])
			expect(await finishedRunsWith(name)).toEqual(['success']);
		expect(codeCounts()).toEqual({ PROBE: 1, SPRING10: 20, VIP: 5 });
		expect(failedRuns()).toBe(0);
	}, 240_000);
});
