import type { IExecuteFunctions } from 'n8n-workflow';

/**
 * Whether the node runs as an AI agent's tool: n8n adds a tool variant of a node that is
 * `usableAsTool`, whose type is the node's type followed by `Tool` (as its `@tool` display option
 * reads it).
 */
export const runsAsTool = (context: IExecuteFunctions): boolean =>
	context.getNode().type.endsWith('Tool');
