import { Readable } from 'node:stream';
import type {
	IBinaryData,
	IDataObject,
	IExecuteFunctions,
	INode,
	INodeExecutionData,
	NodeExecutionHint,
} from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

/** A parameter's value, the same for every item or computed per item. */
type Parameter = unknown | ((itemIndex: number) => unknown);

export interface MockOptions {
	items: INodeExecutionData[];
	parameters: Record<string, Parameter>;
	/** The workflow's static data: pass the same object to later runs, as n8n keeps it between executions. */
	staticData?: IDataObject;
	continueOnFail?: boolean;
	mode?: 'manual' | 'trigger' | 'webhook' | 'cli';
	/** What getCredentials returns, for the database storage. */
	credentials?: object;
	/** n8n's own folder (`~/.n8n`), for the Local storage; tests give a temporary one. */
	n8nFolder?: string;
	/** The workflow's time zone (n8n's Settings); UTC when not given. */
	timezone?: string;
	/** The node's version, as saved in the workflow; the newest Contact Coupon version when not given. */
	typeVersion?: number;
	/** The node's type, as saved in the workflow: `...contactCouponTool` runs it as an agent's tool. */
	type?: string;
	/** The node's On Error setting; either "continue" turns Continue on Fail on, as in n8n. */
	onError?: 'stopWorkflow' | 'continueRegularOutput' | 'continueErrorOutput';
	/**
	 * Files n8n keeps outside the items (its filesystem mode), by binary data id: see storedFileItem.
	 * `bytesStreamed` and `wholeReads` say how they were read.
	 */
	storedFiles?: StoredFiles;
}

export interface StoredFiles {
	files: Map<string, Buffer>;
	bytesStreamed: number;
	wholeReads: number;
}

export interface MockContext {
	context: IExecuteFunctions;
	hints: NodeExecutionHint[];
	staticData: IDataObject;
}

/**
 * A unit-level stand-in for n8n's IExecuteFunctions: parameters, items, static data (a real object
 * kept between runs), Continue on Fail, execution hints and binary helpers.
 */
export function mockExecuteFunctions(options: MockOptions): MockContext {
	const staticData = options.staticData ?? {};
	const hints: NodeExecutionHint[] = [];
	const node: INode = {
		id: 'node-1',
		name: 'Coupon Node',
		type: options.type ?? 'test',
		typeVersion: options.typeVersion ?? 3,
		...(options.onError ? { onError: options.onError } : {}),
		position: [0, 0],
		parameters: {},
	};
	const context = {
		getInputData: () => options.items,
		getNode: () => node,
		getMode: () => options.mode ?? 'trigger',
		getTimezone: () => options.timezone ?? 'UTC',
		continueOnFail: () =>
			options.continueOnFail ?? (options.onError ?? 'stopWorkflow') !== 'stopWorkflow',
		getWorkflowStaticData: (type: string) => {
			if (type !== 'global') throw new Error(`Test expects global static data, got ${type}`);
			return staticData;
		},
		addExecutionHints: (...added: NodeExecutionHint[]) => hints.push(...added),
		getCredentials: async (type: string) => {
			if (type !== 'couponPostgres' || !options.credentials)
				throw new Error(`Node does not have credentials of type ${type}`);
			return options.credentials;
		},
		getNodeParameter: (name: string, itemIndex: number, fallback?: unknown) => {
			if (!(name in options.parameters)) {
				if (fallback !== undefined) return fallback;
				throw new Error(`Could not get parameter "${name}"`);
			}
			const value = options.parameters[name];
			return typeof value === 'function' ? (value as (i: number) => unknown)(itemIndex) : value;
		},
		helpers: {
			// As n8n does: a folder per node type inside n8n's own folder.
			getStoragePath: () => {
				if (!options.n8nFolder)
					throw new Error('This test gives no n8nFolder for the Local storage');
				return `${options.n8nFolder}/storage/${node.type}`;
			},
			assertBinaryData: (itemIndex: number, property: string): IBinaryData => {
				const binary = options.items[itemIndex].binary?.[property];
				if (!binary)
					throw new NodeOperationError(
						node,
						`This operation expects the node's input data to contain a binary file '${property}', but none was found [item ${itemIndex}]`,
						{ itemIndex },
					);
				return binary;
			},
			getBinaryDataBuffer: async (itemIndex: number, property: string): Promise<Buffer> => {
				const { id, data } = options.items[itemIndex].binary![property];
				if (id === undefined) return Buffer.from(data, 'base64');
				options.storedFiles!.wholeReads++;
				return options.storedFiles!.files.get(id)!;
			},
			// As n8n streams a file it keeps on disk: in pieces of 64 KiB, as they are read.
			getBinaryStream: async (id: string): Promise<Readable> => {
				const stored = options.storedFiles!;
				const file = stored.files.get(id)!;
				return Readable.from(
					(function* () {
						for (let at = 0; at < file.length; at += 65_536) {
							const piece = file.subarray(at, at + 65_536);
							stored.bytesStreamed += piece.length;
							yield piece;
						}
					})(),
				);
			},
			// As n8n's default binary mode keeps a file: base64 in the item.
			prepareBinaryData: async (
				data: Buffer,
				fileName: string,
				mimeType: string,
			): Promise<IBinaryData> => ({
				data: data.toString('base64'),
				fileName,
				mimeType,
				fileExtension: fileName.split('.').pop(),
				fileSize: String(data.length),
			}),
		},
	};
	return { context: context as unknown as IExecuteFunctions, hints, staticData };
}

export function jsonItems(...json: IDataObject[]): INodeExecutionData[] {
	return json.map((j) => ({ json: j }));
}

/** An item whose file n8n keeps outside it, under `id` in `storedFiles`, as its filesystem mode does. */
export function storedFileItem(
	id: string,
	fileName: string,
	property = 'data',
): INodeExecutionData {
	return {
		json: { fileName },
		binary: {
			[property]: { id, data: 'filesystem-v2', fileName, mimeType: 'text/csv' },
		},
	};
}

export function fileItem(
	file: Buffer,
	fileName = 'coupons.xlsx',
	property = 'data',
): INodeExecutionData {
	return {
		json: { fileName },
		binary: {
			[property]: {
				data: file.toString('base64'),
				fileName,
				mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
			},
		},
	};
}

/** The error of class `type` that `run` fails with; fails the test if it succeeds or fails otherwise. */
export async function failureOf<E extends Error>(
	run: Promise<unknown>,
	type: new (...args: never[]) => E,
): Promise<E> {
	try {
		await run;
	} catch (error) {
		expect(error).toBeInstanceOf(type);
		return error as E;
	}
	throw new Error(`expected a ${type.name}`);
}

/** The NodeOperationError a node run fails with. */
export const nodeFailure = async (run: Promise<unknown>) =>
	await failureOf(run, NodeOperationError);
