import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..');

/**
 * The messages `npm run lint` gives for a file in `folder` holding `lines`. The probe file lives in
 * the tree only while eslint reads it (eslint's import rule does not resolve text from stdin).
 */
function lintProbe(folder: string, lines: string[]): Array<{ ruleId: string; message: string }> {
	const file = join(root, folder, `layerProbe${process.pid}.ts`);
	writeFileSync(file, `${lines.join('\n')}\n`);
	try {
		const eslint = spawnSync(
			process.execPath,
			[join(root, 'node_modules/eslint/bin/eslint.js'), '--format=json', file],
			{ cwd: root, encoding: 'utf8' },
		);
		const [result] = JSON.parse(eslint.stdout) as Array<{
			messages: Array<{ ruleId: string; message: string }>;
		}>;
		return result.messages;
	} finally {
		rmSync(file, { force: true });
	}
}

// The layers import one way (docs/ARCHITECTURE.md): the lint must say so, or a later change could
// quietly make the rules depend on a store or on n8n.
describe('the direction of imports, as npm run lint enforces it', () => {
	it('refuses an import from core/ into a store, the transport, spreadsheet reading or n8n', () => {
		const messages = lintProbe('nodes/shared/core', [
			"import type { StaticDataStore } from '../store/StaticDataStore';",
			"import type { CouponDatabase } from '../transport/postgres';",
			"import type { ReadOptions } from '../spreadsheet/readSheet';",
			"import type { INode } from 'n8n-workflow';",
			'export type Layers = [StaticDataStore, CouponDatabase, ReadOptions, INode];',
		]);
		expect(messages.map((m) => m.ruleId)).toEqual(Array(4).fill('import/no-restricted-paths'));
		expect(messages[0].message).toContain('core/ holds the rules and the store contract');
	}, 60_000);

	it('refuses an import from a store into n8n or the node layer, and lets stores use core/', () => {
		const messages = lintProbe('nodes/shared/store', [
			"import type { INode } from 'n8n-workflow';",
			"import type { ItemOperation } from '../itemRunner';",
			"import type { CouponStore as Contract } from '../core/store';",
			'export type Layers = [INode, ItemOperation<1, 2>, Contract];',
		]);
		expect(messages.map((m) => m.ruleId)).toEqual(Array(2).fill('import/no-restricted-paths'));
	}, 60_000);
});
