import { createServer, type Server } from 'node:net';

// scripts/ports.js is plain JavaScript, used by `npm run dev`.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { freePort, isPortFree, portHolder } = require('../../scripts/ports') as {
	freePort(from: number, skip?: number[]): Promise<number>;
	isPortFree(port: number): Promise<boolean>;
	portHolder(port: number): string | undefined;
};

/** A listener on `host` and a port the system picks, as another program holds one. */
async function listener(host: string): Promise<{ server: Server; port: number }> {
	const server = createServer();
	await new Promise<void>((resolve) => server.listen({ port: 0, host }, resolve));
	return { server, port: (server.address() as { port: number }).port };
}

const close = async (server: Server) => await new Promise((resolve) => server.close(resolve));

describe('the ports npm run dev chooses', () => {
	it('counts a port as busy whichever address holds it, as n8n listens on all of them', async () => {
		for (const host of ['127.0.0.1', '::', '0.0.0.0']) {
			const { server, port } = await listener(host);
			try {
				expect({ host, free: await isPortFree(port) }).toEqual({ host, free: false });
			} finally {
				await close(server);
			}
			expect(await isPortFree(port)).toBe(true);
		}
	});

	it('picks the next free port, past busy ones and those already given out', async () => {
		const { server, port } = await listener('127.0.0.1');
		try {
			const next = await freePort(port, [port + 1]);
			expect(next).toBeGreaterThan(port + 1);
			expect(await isPortFree(next)).toBe(true);
		} finally {
			await close(server);
		}
	});

	(process.platform === 'linux' ? it : it.skip)(
		'names the process that holds a port, from /proc',
		async () => {
			const { server, port } = await listener('127.0.0.1');
			try {
				expect(portHolder(port)).toMatch(new RegExp(`^process ${process.pid} \\(.*node.*\\)$`));
			} finally {
				await close(server);
			}
			expect(portHolder(port)).toBeUndefined();
		},
	);
});
