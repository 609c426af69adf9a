import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A message of OpenAI's Chat Completions API, as far as the fake model reads it. */
export interface ChatMessage {
	role: string;
	content?: string | Array<{ type: string; text?: string }> | null;
	tool_calls?: Array<{ id: string; function: { name: string; arguments: string } }>;
	tool_call_id?: string;
}

/** A tool n8n's agent offers the model: its name, description and JSON schema of arguments. */
export interface OfferedTool {
	name: string;
	description: string;
	parameters: { properties?: Record<string, { type?: string; description?: string }> };
}

/** One request the model received. */
export interface ChatRequest {
	messages: ChatMessage[];
	tools: OfferedTool[];
	stream: boolean;
}

/** What the model does for a user's message: call one tool with these arguments. */
export type ToolChoice = (
	userMessage: string,
	tools: OfferedTool[],
) => {
	name: string;
	arguments: Record<string, unknown>;
};

/** A message's text, whether sent as a string or as content parts. */
export const textOf = (message: ChatMessage): string =>
	typeof message.content === 'string'
		? message.content
		: (message.content ?? []).map((part) => part.text ?? '').join('');

/**
 * The one part of an agent test that is not real: an OpenAI-compatible chat server. For a user's
 * message it calls the tool `choose` picks; once the tool answered, it replies with that answer, so
 * that what the tool returned reaches the workflow's output only through the agent. Streaming and
 * plain answers both, as n8n's OpenAI Chat Model may ask either.
 */
export class FakeChatModel {
	readonly requests: ChatRequest[] = [];
	private server?: Server;
	private calls = 0;

	constructor(private readonly choose: ToolChoice) {}

	/** Starts on a free port of 127.0.0.1; returns the base URL for n8n's OpenAI credential. */
	async start(): Promise<string> {
		this.server = createServer((request, response) => void this.answer(request, response));
		await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
		return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
	}

	async stop(): Promise<void> {
		this.server?.closeAllConnections();
		await new Promise((resolve) => this.server?.close(resolve));
	}

	private async answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
		const chunks: Buffer[] = [];
		for await (const chunk of request) chunks.push(chunk as Buffer);
		if (request.method !== 'POST' || !request.url?.endsWith('/chat/completions')) {
			response.writeHead(404, { 'content-type': 'application/json' });
			response.end(JSON.stringify({ error: { message: `no ${request.method} ${request.url}` } }));
			return;
		}
		const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
			messages: ChatMessage[];
			tools?: Array<{ function: OfferedTool }>;
			stream?: boolean;
		};
		const chat: ChatRequest = {
			messages: body.messages,
			tools: (body.tools ?? []).map((tool) => tool.function),
			stream: body.stream === true,
		};
		this.requests.push(chat);
		const last = chat.messages.at(-1)!;
		const message =
			last.role === 'tool'
				? { role: 'assistant', content: `The tool answered: ${textOf(last)}` }
				: this.toolCall(chat);
		const finish = 'tool_calls' in message ? 'tool_calls' : 'stop';
		const id = `chatcmpl-${++this.calls}`;
		const created = Math.floor(Date.now() / 1000);
		if (!chat.stream) {
			response.writeHead(200, { 'content-type': 'application/json' });
			response.end(
				JSON.stringify({
					id,
					object: 'chat.completion',
					created,
					model: 'fake',
					choices: [{ index: 0, message, finish_reason: finish }],
					usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
				}),
			);
			return;
		}
		const delta =
			'tool_calls' in message
				? {
						role: 'assistant',
						tool_calls: message.tool_calls.map((call, index) => ({ index, ...call })),
					}
				: message;
		response.writeHead(200, { 'content-type': 'text/event-stream' });
		for (const choice of [
			{ index: 0, delta, finish_reason: null },
			{ index: 0, delta: {}, finish_reason: finish },
		])
			response.write(
				`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: 'fake', choices: [choice] })}\n\n`,
			);
		response.end('data: [DONE]\n\n');
	}

	private toolCall(chat: ChatRequest) {
		const user = chat.messages.filter((m) => m.role === 'user').at(-1);
		const choice = this.choose(user ? textOf(user) : '', chat.tools);
		return {
			role: 'assistant',
			content: null,
			tool_calls: [
				{
					id: `call_${this.calls + 1}`,
					type: 'function',
					function: { name: choice.name, arguments: JSON.stringify(choice.arguments) },
				},
			],
		};
	}
}
