import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { operations } from '../../nodes/ContactCoupon/actions/operations';
import { LOCAL_FILE_NAME } from '../../nodes/shared/transport/sqlite';
import { dropSchema, sql, testCredentials, uniqueSchema } from '../helpers/postgres';
import { FakeChatModel, textOf, type OfferedTool } from './fakeChatModel';
import {
	examples,
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

const PORT = 5686;
const SHOP_KEY = 'e2e-shop-key';
const ASSISTANT = `http://127.0.0.1:${PORT}/webhook/coupon-assistant`;
/** The same assistant with a Give Coupon tool on each of the other storages. */
const STORES_ASSISTANT = `${ASSISTANT}-stores`;
const STORE_TOOLS = new Map([
	['static data', { name: 'Give Coupon on Static Data', storage: 'staticData' }],
	['PostgreSQL', { name: 'Give Coupon on PostgreSQL', storage: 'database' }],
]);

interface WorkflowNode {
	id: string;
	name: string;
	type: string;
	parameters: Record<string, unknown>;
	webhookId?: string;
	credentials?: object;
}
interface Workflow {
	id: string;
	name: string;
	nodes: WorkflowNode[];
	connections: Record<string, object>;
}

/** The shipped example with its tools replaced by one Give Coupon tool per other storage. */
function storesWorkflow(shipped: Workflow, databaseCredential: object): Workflow {
	const giveCoupon = shipped.nodes.find((node) => node.name === 'Give Coupon')!;
	const tools = [...STORE_TOOLS.values()].map(({ name, storage }) => ({
		...giveCoupon,
		id: `tool-${storage}`,
		name,
		parameters: { ...giveCoupon.parameters, storage },
		...(storage === 'database' ? { credentials: { couponPostgres: databaseCredential } } : {}),
	}));
	const toolConnection = { ai_tool: [[{ node: 'AI Agent', type: 'ai_tool', index: 0 }]] };
	return {
		...shipped,
		id: 'agentStoresTest1',
		name: 'AI agent on the other storages',
		nodes: [
			...shipped.nodes
				.filter((node) => !node.type.endsWith('.contactCouponTool'))
				.map((node) =>
					node.type === 'n8n-nodes-base.webhook'
						? {
								...node,
								webhookId: '5d0c7e2a-61b4-4f39-a8e5-0c4b1f9a7d30',
								parameters: { ...node.parameters, path: 'coupon-assistant-stores' },
							}
						: node,
				),
			...tools,
		],
		connections: {
			...Object.fromEntries(
				Object.entries(shipped.connections).filter(([name]) =>
					shipped.nodes.some((node) => node.name === name && !node.type.endsWith('Tool')),
				),
			),
			...Object.fromEntries(tools.map((tool) => [tool.name, toolConnection])),
		},
	};
}

const toolDescriptionOf = (value: string) =>
	operations.find((o) => o.value === value)!.toolDescription;

/** The model's side of the conversation: which tool a customer's message calls, with what. */
function choose(message: string, tools: OfferedTool[]) {
	const named = (name: string) => {
		if (!tools.some((tool) => tool.name === name)) throw new Error(`no tool ${name} was offered`);
		return name;
	};
	const store = /on (static data|PostgreSQL)/.exec(message);
	if (store)
		return { name: named(STORE_TOOLS.get(store[1])!.name.replace(/ /g, '_')), arguments: {} };
	if (message.includes('empty code'))
		return { name: named('Check_Code'), arguments: { code: ' ' } };
	const code = /code (\S+)/.exec(message);
	if (code) return { name: named('Check_Code'), arguments: { code: code[1] } };
	if (message.includes('which coupons')) return { name: named('Customer_Coupons'), arguments: {} };
	return { name: named('Give_Coupon'), arguments: {} };
}

/**
 * The AI agent example as shipped, published in a real n8n: n8n's AI Agent with its OpenAI Chat
 * Model (pointed at a fake OpenAI-compatible server, the one part not run for real) calls the
 * Contact Coupon tools, and the coupons are in the Local file of n8n's user folder.
 */
describe('in a real n8n, Contact Coupon as an AI agent tool', () => {
	let userFolder: string;
	let server: ChildProcess;
	const schema = uniqueSchema('agent');
	const model = new FakeChatModel(choose);
	const post = async (email: string, message: string, url = ASSISTANT) =>
		await fetch(url, {
			method: 'POST',
			headers: { 'content-type': 'application/json', 'x-shop-key': SHOP_KEY },
			body: JSON.stringify({ email, message }),
			signal: AbortSignal.timeout(120_000),
		});
	const ask = async (email: string, message: string, url = ASSISTANT) => {
		const response = await post(email, message, url);
		return { status: response.status, body: (await response.json()) as Record<string, string> };
	};
	/** What the tool called last answered the model, as the model read it. */
	const lastToolAnswer = () => {
		const tool = model.requests.at(-1)!.messages.at(-1)!;
		expect(tool.role).toBe('tool');
		return JSON.parse(textOf(tool)) as Array<Record<string, unknown>>;
	};
	const assignments = (contact: string) =>
		queryCouponFile<{ code: string }>(
			join(userFolder, '.n8n', LOCAL_FILE_NAME),
			`SELECT code FROM codes WHERE contact_key = '${contact}'`,
		);

	beforeAll(async () => {
		const modelUrl = await model.start();
		userFolder = prepareN8n();
		importInto(userFolder, 'credentials', [
			shopKeyCredential(SHOP_KEY),
			{
				id: 'couponsOpenAi001',
				name: 'OpenAI (replace with your key)',
				type: 'openAiApi',
				data: { apiKey: 'e2e-key', url: modelUrl },
			},
			{
				id: 'agentCouponDb001',
				name: 'Coupon DB',
				type: 'couponPostgres',
				data: testCredentials(schema),
			},
		]);
		const [shipped] = examples<Workflow>('ai-agent-coupon-tool');
		const stores = storesWorkflow(shipped, { id: 'agentCouponDb001', name: 'Coupon DB' });
		importInto(userFolder, 'workflow', [shipped, stores]);
		for (const { id } of [shipped, stores]) n8n(userFolder, ['publish:workflow', `--id=${id}`]);
		server = startN8n(
			userFolder,
			['start'],
			{ N8N_PORT: String(PORT), N8N_RUNNERS_BROKER_PORT: '5685' },
			'ignore',
		);
		await waitForN8n(PORT);
		// A first conversation, as n8n answers a wrong key with a 403 that is not JSON.
		await waitForWebhook(async () => await post('warm-up@example.com', 'Any discount for me?'));
	}, 25 * 60_000);

	afterAll(async () => {
		await stopN8n(server);
		await model.stop();
		await dropSchema(schema);
		if (userFolder) rmSync(userFolder, { recursive: true, force: true });
	}, 60_000);

	it("offers the model each tool with its operation's description and only the arguments it supplies", async () => {
		const { status } = await ask('ann@example.com', 'Any discount for me?');
		expect(status).toBe(200);
		const offered = new Map(model.requests.at(-1)!.tools.map((tool) => [tool.name, tool]));
		expect([...offered.keys()].sort()).toEqual(['Check_Code', 'Customer_Coupons', 'Give_Coupon']);
		expect(offered.get('Give_Coupon')!.description).toBe(toolDescriptionOf('generate'));
		expect(offered.get('Customer_Coupons')!.description).toBe(toolDescriptionOf('getForContact'));
		expect(offered.get('Check_Code')!.description).toBe(toolDescriptionOf('validate'));
		// The contact comes from the request: only Check Code's code (its tool default) is the model's.
		expect(Object.keys(offered.get('Give_Coupon')!.parameters.properties ?? {})).toEqual([]);
		expect(offered.get('Check_Code')!.parameters.properties).toEqual({
			code: expect.objectContaining({
				type: 'string',
				description: 'The coupon code the customer gave',
			}),
		});
	}, 180_000);

	it('gives the customer a coupon through the agent, and the same one when asked again', async () => {
		const first = await ask('bea@example.com', 'Any discount for me?');
		const [answer] = lastToolAnswer();
		const coupon = answer.coupon as { code: string; validUntil: string; name: string };
		expect(coupon.name).toBe('SPRING10');
		expect(first).toEqual({
			status: 200,
			body: { status: 'answered', reply: expect.stringContaining(coupon.code) },
		});
		expect(assignments('bea@example.com')).toEqual([{ code: coupon.code }]);

		const again = await ask('bea@example.com', 'And one more, please?');
		expect(again.body.reply).toContain(coupon.code);
		expect(assignments('bea@example.com')).toEqual([{ code: coupon.code }]);
	}, 180_000);

	it("checks a code the customer gives against that customer's coupons", async () => {
		const { body } = await ask('cal@example.com', 'Any discount for me?');
		const code = (lastToolAnswer()[0].coupon as { code: string }).code;
		expect(body.reply).toContain(code);

		await ask('cal@example.com', `Does my code ${code.toLowerCase()} work?`);
		expect(lastToolAnswer()[0].validation).toMatchObject({ valid: true, status: 'valid' });
		// Someone else's code, from another signed-in customer: the tool's Contact is the request's.
		await ask('dan@example.com', `Does my code ${code} work?`);
		expect(lastToolAnswer()[0].validation).toMatchObject({
			valid: false,
			status: 'other_contact',
		});

		const listed = await ask('cal@example.com', 'which coupons do I have?');
		expect(lastToolAnswer()[0].coupons).toEqual([expect.objectContaining({ code })]);
		expect(listed.body.reply).toContain(code);
		// The tools answer with the operation's result alone: the webhook's headers, which n8n hands
		// the tool as its input, never reach the model.
		expect(lastToolAnswer()).toEqual([{ coupons: [expect.objectContaining({ code })] }]);
		expect(JSON.stringify(model.requests)).not.toContain(SHOP_KEY);
	}, 240_000);

	it.each([...STORE_TOOLS.keys()])(
		'gives coupons as a tool on %s, kept from one conversation to the next',
		async (store) => {
			const codes = [];
			for (const email of ['eve@example.com', 'fay@example.com', 'eve@example.com']) {
				const { body } = await ask(email, `A coupon on ${store}, please`, STORES_ASSISTANT);
				const [{ coupon }] = lastToolAnswer() as Array<{ coupon: { code: string } }>;
				expect(body.reply).toContain(coupon.code);
				codes.push(coupon.code);
			}
			// Eve's second conversation finds the coupon her first one stored.
			expect(codes[2]).toBe(codes[0]);
			expect(codes[1]).not.toBe(codes[0]);
			if (store === 'PostgreSQL')
				expect(
					await sql(
						`SELECT code FROM "${schema}".codes WHERE contact_key IS NOT NULL ORDER BY code`,
					),
				).toEqual(
					codes
						.slice(0, 2)
						.sort()
						.map((code) => ({ code })),
				);
		},
		240_000,
	);

	it('answers the model with the refusal when a tool fails, and the conversation goes on', async () => {
		const { status, body } = await ask('gus@example.com', 'Check my empty code');
		expect(lastToolAnswer()).toEqual([{ error: 'The code is empty' }]);
		expect({ status, body }).toEqual({
			status: 200,
			body: { status: 'answered', reply: expect.stringContaining('The code is empty') },
		});
	}, 240_000);
});
