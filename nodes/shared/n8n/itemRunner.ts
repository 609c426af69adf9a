import type {
	IBinaryKeyData,
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
} from 'n8n-workflow';
import type { Outcome } from '../core/common/errors';
import type { CouponStore, CouponStoreSession, ImportStaging } from '../core/storeContract';
import { Turns } from '../core/common/turns';
import { runsAsTool } from './agentTool';
import { errorItem, nodeError, type NodeFailure } from './nodeErrors';
import { openStore, warnIfNotSaved } from './openStore';

/**
 * What serving one transaction's requests gives: outcome i belongs to request i; `report` is what
 * the operation noticed on the way, for the run's hints.
 */
export interface Served<Result, Report> {
	outcomes: Array<Outcome<Result>>;
	report?: Report;
}

/** A run as its hints see it: where it stored, every request read, and its transactions' reports. */
export interface RunReport<Request, Report> {
	/** The storage, as OpenStore.where names it. */
	where: string;
	requests: Request[];
	reports: Report[];
}

/** One operation of either node, as `runItems` runs it. */
export interface ItemOperation<Request, Result, Report = never> {
	/** Reads one item's parameters (and input file); an error it throws concerns that item alone. */
	read(itemIndex: number): Request | Promise<Request>;
	/**
	 * Reads what the requests bring (an import's files) into the store's staging area first, outside
	 * any transaction and holding no lock; `serve` then publishes it. Outcome i is request i as it
	 * is served.
	 */
	stage?(staging: ImportStaging, requests: Request[]): Promise<Array<Outcome<Request>>>;
	/** Serves the requests of every readable (and staged) item in one store session. */
	serve(session: CouponStoreSession, requests: Request[]): Promise<Served<Result, Report>>;
	/** The output for one served item: JSON merged into the item, or a list of new items. */
	output(json: IDataObject, result: Result, request: Request): IDataObject | IDataObject[];
	/** How many outputs the node shows for this run (1 when missing), as its description computes them. */
	outputCount?: number;
	/** Which of several outputs a served item goes to (the first when missing); failed items go to the first. */
	outputIndex?(result: Result, request: Request): number;
	/**
	 * For operations that output a file: the served item's binary data, made after the transaction
	 * (n8n may write it to disk). It replaces the input item's binary data.
	 */
	binary?(result: Result, request: Request): Promise<IBinaryKeyData | undefined>;
	/** Whether the request only previews its changes: served in a transaction that is rolled back. */
	dryRun?(request: Request): boolean;
	/** Whether the operation only reads: served in a read-only transaction, which waits for no writer. */
	readOnly?: boolean;
	/** Whether a run may write up to a million rows: its store then syncs to disk off the event loop. */
	bulk?: boolean;
	/** For operations that write: what a test run on static data does not keep, for the hint. */
	notSaved?: (run: RunReport<Request, Report>) => string | undefined;
	/** Hints for the output pane, once the run is served. */
	hints?: (run: RunReport<Request, Report>) => string[];
}

/**
 * The item handling every operation of both nodes shares: read each item, serve them all in one
 * transaction, then build the output items with pairedItem, on the node's outputs. A failed item fails the run, and nothing
 * of the run is kept, unless Continue on Fail is on: then it becomes an item with the input data and
 * the error, and the others go on (the rules make sure a failed request changes nothing).
 */
export async function runItems<Request, Result, Report = never>(
	context: IExecuteFunctions,
	operation: ItemOperation<Request, Result, Report>,
): Promise<INodeExecutionData[][]> {
	const items = context.getInputData();
	const { store, storage, where } = await openStore(context);
	const results: Array<{ result: Result; request: Request } | NodeFailure> = new Array(
		items.length,
	);
	const fail = (error: unknown, itemIndex: number) => {
		const failure = nodeError(context, error, itemIndex);
		if (!context.continueOnFail()) throw failure;
		results[itemIndex] = failure;
	};

	const requests: Request[] = [];
	const itemIndexes: number[] = [];
	// Items and what they hold may run to a million (Create Codes): read and built a turn at a time.
	const turns = new Turns();
	for (let i = 0; i < items.length; i++) {
		if (turns.due()) await turns.pass();
		try {
			requests.push(await operation.read(i));
			itemIndexes.push(i);
		} catch (error) {
			fail(error, i);
		}
	}

	// A storage failure (such as a lost connection) fails every item it concerns, which kept nothing:
	// the run, or under Continue on Fail each item (n8n passes a thrown error's items on as if they
	// had succeeded, which would answer a webhook with nothing).
	const failAll = (error: unknown, indexes: number[]) => {
		if (!context.continueOnFail()) throw nodeError(context, error, 0);
		for (const i of indexes) results[i] = nodeError(context, error, i);
	};

	// The requests that change coupons first, then those that only preview (they see the first).
	const reports: Report[] = [];
	const serveAll = async (transaction: CouponStore['transaction']) => {
		for (const rollBack of [false, true]) {
			const group = requests.flatMap((request, j) =>
				(operation.dryRun?.(request) ?? false) === rollBack ? [j] : [],
			);
			if (group.length === 0) continue;
			let report: Report | undefined;
			const served = transaction(
				async (session) => {
					const { outcomes, report: noticed } = await operation.serve(
						session,
						group.map((j) => requests[j]),
					);
					report = noticed;
					// A throw here rolls the whole transaction back: without Continue on Fail nothing is kept.
					outcomes.forEach((outcome, k) => {
						const j = group[k];
						if ('value' in outcome)
							results[itemIndexes[j]] = { result: outcome.value, request: requests[j] };
						else fail(outcome.error, itemIndexes[j]);
					});
				},
				{ rollBack, readOnly: operation.readOnly, bulk: operation.bulk },
			);
			await served.then(
				() => {
					if (report !== undefined) reports.push(report);
				},
				(error: unknown) =>
					failAll(
						error,
						group.map((j) => itemIndexes[j]),
					),
			);
		}
	};
	const { stage } = operation;
	if (stage) {
		await store
			.withStaging(async (staging) => {
				const staged = await stage(staging, requests);
				const read = [...itemIndexes];
				requests.length = 0;
				itemIndexes.length = 0;
				staged.forEach((outcome, j) => {
					if ('error' in outcome) return fail(outcome.error, read[j]);
					requests.push(outcome.value);
					itemIndexes.push(read[j]);
				});
				await serveAll(async (work, options) => await staging.transaction(work, options));
			})
			// The staging area failed (an item's own failure is thrown as its n8n error already).
			.catch((error: unknown) => failAll(error, [...itemIndexes]));
	} else {
		await serveAll(async (work, options) => await store.transaction(work, options));
	}
	// A dry run keeps nothing on any storage: only requests that change coupons can be lost.
	const changing = requests.some((request) => !(operation.dryRun?.(request) ?? false));
	const run: RunReport<Request, Report> = { where, requests, reports };
	const notSaved = changing ? operation.notSaved?.(run) : undefined;
	if (notSaved) warnIfNotSaved(context, storage, notSaved);
	for (const message of operation.hints?.(run) ?? [])
		context.addExecutionHints({ message, location: 'outputPane' });

	// As an agent's tool the model reads the output, failures included: the operation's answer
	// alone, not the input item, which n8n fills with the agent's own input (a webhook's headers and
	// keys among it, and its files).
	const asTool = runsAsTool(context);
	const outputs: INodeExecutionData[][] = Array.from(
		{ length: operation.outputCount ?? 1 },
		() => [],
	);
	for (let i = 0; i < items.length; i++) {
		if (turns.due()) await turns.pass();
		const item: INodeExecutionData = asTool ? { json: {} } : items[i];
		const served = results[i];
		if (served instanceof Error) {
			outputs[0].push(errorItem(context, item, served, i));
			continue;
		}
		const output =
			outputs.length > 1
				? outputs[operation.outputIndex?.(served.result, served.request) ?? 0]
				: outputs[0];
		const json = operation.output(item.json, served.result, served.request);
		if (Array.isArray(json)) {
			// One by one: a spread of a million items (Create Codes) would pass the call stack's limit.
			for (const one of json) {
				output.push({ json: one, pairedItem: { item: i } });
				if (turns.due()) await turns.pass();
			}
			continue;
		}
		const binary = operation.binary
			? await operation.binary(served.result, served.request)
			: item.binary;
		output.push({ json, binary, pairedItem: { item: i } });
	}
	return outputs;
}
