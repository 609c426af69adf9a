import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { codeKey } from '../../nodes/shared/core/codes/codes';
import { PostgresStore } from '../../nodes/shared/stores/postgres/PostgresStore';
import { databaseFor } from '../../nodes/shared/transport/postgres';
import {
	describeWithDatabase,
	dropSchema,
	sql,
	testCredentials,
	uniqueSchema,
} from '../helpers/postgres';
import {
	examples,
	importInto,
	n8n,
	prepareN8n,
	startN8n,
	waitForN8n,
	waitForWebhook,
} from './n8nCli';

const PORT = 5698;
const REQUESTS = 200;
const CONCURRENCY = 25;
const POOL = 300;

describeWithDatabase(
	'in n8n queue mode: one main process and two workers on PostgreSQL and Redis',
	() => {
		const tag = randomBytes(3).toString('hex');
		const n8nDatabase = `n8n_queue_e2e_${tag}`;
		const schema = uniqueSchema('queue');
		/** The shipped PostgreSQL example's coupons, apart from those counted below. */
		const exampleSchema = uniqueSchema('queue_example');
		const url = new URL(
			process.env.COUPONS_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
		);
		// n8n's own database is a separate one from the coupon store's.
		const env = {
			DB_TYPE: 'postgresdb',
			DB_POSTGRESDB_HOST: url.hostname,
			DB_POSTGRESDB_PORT: url.port || '5432',
			DB_POSTGRESDB_DATABASE: n8nDatabase,
			DB_POSTGRESDB_USER: decodeURIComponent(url.username || 'postgres'),
			DB_POSTGRESDB_PASSWORD: decodeURIComponent(url.password),
			EXECUTIONS_MODE: 'queue',
			QUEUE_BULL_REDIS_HOST: '127.0.0.1',
			QUEUE_BULL_REDIS_PORT: '6379',
			QUEUE_BULL_PREFIX: `coupons-e2e-${tag}`,
			N8N_PORT: String(PORT),
		};
		const processes: ChildProcess[] = [];
		const workerLogs = ['', ''];
		let userFolder: string;

		beforeAll(async () => {
			userFolder = prepareN8n();
			await sql(`CREATE DATABASE ${n8nDatabase}`);
			const database = databaseFor(testCredentials(schema));
			await new PostgresStore(database).transaction(async (s) => {
				await s.createPool('QUEUE10', 'imported');
				await s.addImported(
					'QUEUE10',
					Array.from({ length: POOL }, (_, i) => ({
						code: `Q-${i}`,
						key: codeKey(`Q-${i}`),
						row: i + 2,
					})),
				);
			});
			await database.close();

			const credentialId = 'couponsQueueCred';
			const coupon = { couponPostgres: { id: credentialId, name: 'Coupon DB' } };
			const workflow = {
				id: 'e2eQueueWebhook1',
				name: 'queue webhook',
				active: false,
				nodes: [
					{
						id: 'a',
						name: 'Webhook',
						type: 'n8n-nodes-base.webhook',
						typeVersion: 2.1,
						position: [0, 0],
						webhookId: `coupons-queue-${tag}`,
						parameters: {
							httpMethod: 'POST',
							path: `coupon-${tag}`,
							responseMode: 'responseNode',
							options: {},
						},
					},
					{
						id: 'b',
						name: 'Contact Coupon',
						type: 'n8n-nodes-coupons.contactCoupon',
						typeVersion: 1,
						position: [200, 0],
						credentials: coupon,
						parameters: {
							operation: 'generate',
							storage: 'database',
							couponName: 'QUEUE10',
							length: 8,
							validDays: 30,
							contact: '={{ $json.body.email }}',
							options: {},
						},
					},
					{
						id: 'c',
						name: 'Respond',
						type: 'n8n-nodes-base.respondToWebhook',
						typeVersion: 1.5,
						position: [400, 0],
						parameters: {
							respondWith: 'json',
							responseBody: '={{ { "coupon": $json.coupon } }}',
							options: {},
						},
					},
				],
				connections: {
					Webhook: { main: [[{ node: 'Contact Coupon', type: 'main', index: 0 }]] },
					'Contact Coupon': { main: [[{ node: 'Respond', type: 'main', index: 0 }]] },
				},
				settings: {},
			};
			importInto(
				userFolder,
				'credentials',
				[
					{
						id: credentialId,
						name: 'Coupon DB',
						type: 'couponPostgres',
						data: testCredentials(schema),
					},
				],
				env,
			);
			const [example] = examples<{
				id: string;
				nodes: Array<{ credentials?: Record<string, { id: string; name: string }> }>;
			}>('coupons-postgres');
			const [exampleCredential] = Object.values(
				example.nodes.find((node) => node.credentials)!.credentials!,
			);
			importInto(
				userFolder,
				'credentials',
				[
					{
						...exampleCredential,
						type: 'couponPostgres',
						data: testCredentials(exampleSchema),
					},
				],
				env,
			);
			importInto(userFolder, 'workflow', [workflow, example], env);
			for (const id of ['e2eQueueWebhook1', example.id])
				n8n(userFolder, ['publish:workflow', `--id=${id}`], env);

			processes.push(
				startN8n(userFolder, ['start'], { ...env, N8N_RUNNERS_BROKER_PORT: '5691' }, 'ignore'),
			);
			for (const [i, brokerPort] of ['5692', '5693'].entries()) {
				const worker = startN8n(
					userFolder,
					['worker', '--concurrency=10'],
					{ ...env, N8N_RUNNERS_BROKER_PORT: brokerPort },
					['ignore', 'pipe', 'pipe'],
				);
				worker.stdout!.on('data', (chunk: Buffer) => (workerLogs[i] += chunk.toString()));
				worker.stderr!.on('data', (chunk: Buffer) => (workerLogs[i] += chunk.toString()));
				processes.push(worker);
			}
			await waitForN8n(PORT);
			// The warm-up call takes a coupon too (counted below).
			await waitForWebhook(async () => await send('warm-up@example.com'));
		}, 25 * 60_000);

		const send = async (email: string) =>
			await fetch(`http://127.0.0.1:${PORT}/webhook/coupon-${tag}`, {
				method: 'POST',
				headers: { 'content-type': 'application/json' },
				body: JSON.stringify({ email }),
				signal: AbortSignal.timeout(60_000),
			});
		const postContact = async (email: string) => {
			const response = await send(email);
			return {
				status: response.status,
				body: (await response.json()) as { coupon?: { code: string; contact: string } },
			};
		};

		afterAll(async () => {
			for (const child of processes) child.kill('SIGTERM');
			await new Promise((resolve) => setTimeout(resolve, 5000));
			for (const child of processes) child.kill('SIGKILL');
			await sql(`DROP DATABASE IF EXISTS ${n8nDatabase} WITH (FORCE)`);
			await dropSchema(schema);
			await dropSchema(exampleSchema);
			rmSync(userFolder, { recursive: true, force: true });
		}, 60_000);

		it(
			`serves ${REQUESTS} concurrent webhook calls: every caller gets a coupon, no code twice, both workers busy`,
			async () => {
				const results: Array<Awaited<ReturnType<typeof postContact>>> = [];
				const emails = Array.from({ length: REQUESTS }, (_, i) => `queue-${i}@example.com`);
				await Promise.all(
					Array.from({ length: CONCURRENCY }, async () => {
						for (let email = emails.shift(); email; email = emails.shift())
							results.push(await postContact(email));
					}),
				);
				expect(results.filter((r) => r.status !== 200 || !r.body.coupon)).toEqual([]);
				const codes = results.map((r) => r.body.coupon!.code);
				expect(new Set(codes).size).toBe(REQUESTS);

				const [counts] = await sql<{ assigned: string; available: string }>(
					`SELECT count(contact_key) AS assigned, count(*) FILTER (WHERE contact_key IS NULL) AS available FROM "${schema}".codes`,
				);
				// The warm-up call took one code too.
				expect(counts).toEqual({
					assigned: String(REQUESTS + 1),
					available: String(POOL - REQUESTS - 1),
				});
				// Both workers ran executions, and together exactly one per call.
				const started = workerLogs.map(
					(log) => (log.match(/Worker started execution \d+/g) ?? []).length,
				);
				expect(started.every((count) => count > 0)).toBe(true);
				expect(started[0] + started[1]).toBe(REQUESTS + 1);
			},
			10 * 60_000,
		);

		it(
			'answers both branches of the shipped PostgreSQL example from a worker: a coupon, or a 422 naming the fix',
			async () => {
				const post = async (body: object) =>
					await fetch(`http://127.0.0.1:${PORT}/webhook/coupon-postgres`, {
						method: 'POST',
						headers: { 'content-type': 'application/json' },
						body: JSON.stringify(body),
						signal: AbortSignal.timeout(60_000),
					});
				await waitForWebhook(async () => await post({ email: 'first@example.com' }));
				const assigned = await post({ email: 'eve@example.com' });
				expect(assigned.status).toBe(200);
				expect(await assigned.json()).toMatchObject({
					status: 'assigned',
					email: 'eve@example.com',
					coupon: { name: 'SPRING10', source: 'generated', contact: 'eve@example.com' },
				});
				const refused = await post({});
				expect({ status: refused.status, body: await refused.json() }).toEqual({
					status: 422,
					body: {
						status: 'error',
						errorCode: 'CONTACT_INVALID',
						message: 'The contact is empty',
						fix: expect.any(String),
					},
				});
				const [held] = await sql<{ contacts: string }>(
					`SELECT count(contact_key) AS contacts FROM "${exampleSchema}".codes`,
				);
				expect(held).toEqual({ contacts: '2' });
			},
			5 * 60_000,
		);
	},
);
