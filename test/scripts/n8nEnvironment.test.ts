import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// scripts/n8n.js is plain JavaScript shared with `npm run dev` and the end-to-end tests.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { n8nEnv, n8nVersion, PINNED_N8N_VERSION } = require('../../scripts/n8n') as {
	n8nEnv(userFolder: unknown): Record<string, string>;
	n8nVersion(asked: string | undefined): string;
	PINNED_N8N_VERSION: string;
};

describe('the environment of the development n8n', () => {
	it('refuses a user folder that would put n8n data in the working directory', () => {
		// n8n reads an empty N8N_USER_FOLDER as "here": its database once landed in the repository.
		for (const folder of [undefined, '', '.', 'relative/folder']) {
			expect(() => n8nEnv(folder)).toThrow('n8n needs an absolute user folder');
		}
	});

	it('keeps n8n data and file access inside the user folder', () => {
		const folder = mkdtempSync(join(tmpdir(), 'n8n-env-'));
		try {
			expect(n8nEnv(folder)).toMatchObject({
				N8N_USER_FOLDER: folder,
				N8N_RESTRICT_FILE_ACCESS_TO: join(folder, 'files'),
			});
		} finally {
			rmSync(folder, { recursive: true, force: true });
		}
	});

	it('allows the Local File Trigger, keeping Execute Command out, unless the caller says otherwise', () => {
		const excluded = () => JSON.parse(n8nEnv('/tmp/n8n-env').NODES_EXCLUDE) as string[];
		const own = process.env.NODES_EXCLUDE;
		try {
			delete process.env.NODES_EXCLUDE;
			expect(excluded()).toEqual(['n8n-nodes-base.executeCommand']);
			process.env.NODES_EXCLUDE = '[]';
			expect(excluded()).toEqual([]);
		} finally {
			if (own === undefined) delete process.env.NODES_EXCLUDE;
			else process.env.NODES_EXCLUDE = own;
		}
	});

	it('tests in the pinned n8n unless N8N_COUPONS_N8N_VERSION names another 2.x', () => {
		expect(n8nVersion(undefined)).toBe(PINNED_N8N_VERSION);
		expect(n8nVersion('')).toBe(PINNED_N8N_VERSION);
		expect(n8nVersion('2.41.3')).toBe('2.41.3');
		// It becomes part of an npm install and a cache folder: only a plain version passes.
		for (const asked of ['latest', '1.123.0', '3.0.0', '2.41', '2.41.3 --foo', '2.41.3/../x'])
			expect(() => n8nVersion(asked)).toThrow(`N8N_COUPONS_N8N_VERSION is "${asked}"`);
	});
});
