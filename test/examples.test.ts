import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { configuredOutputs } from '../nodes/ContactCoupon/actions/outputs';

interface ExampleNode {
	name: string;
	type: string;
	typeVersion: number;
	parameters: Record<string, unknown>;
	onError?: string;
}
interface Example {
	name: string;
	nodes: ExampleNode[];
	connections: Record<string, { main: Array<Array<{ node: string }> | null> }>;
}

const root = join(__dirname, '..');
const files = readdirSync(join(root, 'examples')).filter((file) => file.endsWith('.json'));
const example = (file: string) =>
	JSON.parse(readFileSync(join(root, 'examples', file), 'utf8')) as Example;
const coupons = (workflow: Example) =>
	workflow.nodes.filter((node) => node.type.startsWith('n8n-nodes-coupons.'));

/** The storage a saved node reads: its parameter, else its version's default (n8n leaves defaults out). */
const storageOf = (node: ExampleNode) =>
	(node.parameters.storage as string | undefined) ??
	(node.typeVersion === 1 ? 'staticData' : 'local');
const STORAGE_WORDS = new Map([
	['local', 'Local'],
	['staticData', 'Workflow static data'],
	['database', 'PostgreSQL'],
]);

/** The table of examples in examples/README.md: file and storage per row. */
function readmeTable(): Map<string, string> {
	const section = readFileSync(join(root, 'examples', 'README.md'), 'utf8');
	const rows = new Map<string, string>();
	for (const line of section.split('\n')) {
		const match = /^\| \[`([^`]+\.json)`\]\(\1\)\s*\|.*\|\s*([^|]+?)\s*\|$/.exec(line);
		if (!match) continue;
		expect(rows.has(match[1])).toBe(false);
		rows.set(match[1], match[2]);
	}
	return rows;
}

describe('the examples as shipped', () => {
	it('are each listed once in examples/README.md, with the storage their nodes use', () => {
		const table = readmeTable();
		expect([...table.keys()].sort()).toEqual([...files].sort());
		for (const file of files) {
			const storages = [...new Set(coupons(example(file)).map(storageOf))];
			expect({ file, storage: storages.map((s) => STORAGE_WORDS.get(s)).join(', ') }).toEqual({
				file,
				storage: table.get(file),
			});
		}
	});

	it('use the newest Contact Coupon, and every webhook that answers answers each failure as JSON', () => {
		for (const file of files) {
			const workflow = example(file);
			const byName = new Map(workflow.nodes.map((node) => [node.name, node]));
			for (const node of coupons(workflow)) {
				if (node.type.endsWith('.contactCoupon'))
					expect({ file, v: node.typeVersion }).toEqual({ file, v: 3 });
			}
			// Every coupon node on the way of a webhook that answers sends its failures to an answer.
			const reached = new Set<string>();
			const visit = (name: string) => {
				if (reached.has(name)) return;
				reached.add(name);
				for (const branch of workflow.connections[name]?.main ?? [])
					for (const next of branch ?? []) visit(next.node);
			};
			for (const node of workflow.nodes)
				if (
					node.type === 'n8n-nodes-base.webhook' &&
					node.parameters.responseMode === 'responseNode'
				)
					visit(node.name);
			for (const node of coupons(workflow).filter((coupon) => reached.has(coupon.name))) {
				// n8n adds the error output after the node's own (Contact Coupon may show No Coupon).
				const own = node.type.endsWith('.contactCoupon') ? configuredOutputs(node.parameters) : [0];
				const failed = workflow.connections[node.name]?.main?.[own.length];
				const answer = failed?.[0] && byName.get(failed[0].node);
				expect({ file, node: node.name, onError: node.onError, answer: answer?.type }).toEqual({
					file,
					node: node.name,
					onError: 'continueErrorOutput',
					answer: 'n8n-nodes-base.respondToWebhook',
				});
				expect(answer!.parameters.responseBody).toMatch(/"status": "error"/);
			}
		}
	});
});
