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
			"import type { StaticDataStore } from '../stores/staticData/StaticDataStore';",
			"import type { CouponDatabase } from '../transport/postgres';",
			"import type { ReadOptions } from '../spreadsheet/readOptions';",
			"import type { INode } from 'n8n-workflow';",
			'export type Layers = [StaticDataStore, CouponDatabase, ReadOptions, INode];',
		]);
		expect(messages.map((m) => m.ruleId)).toEqual(Array(4).fill('import/no-restricted-paths'));
		expect(messages[0].message).toContain('core/ holds the rules and the store contract');
	}, 60_000);

	it('refuses an import from a store into n8n or the node layer, and lets stores use core/', () => {
		const messages = lintProbe('nodes/shared/stores', [
			"import type { INode } from 'n8n-workflow';",
			"import type { ItemOperation } from '../n8n/itemRunner';",
			"import type { CouponStore as Contract } from '../core/storeContract';",
			'export type Layers = [INode, ItemOperation<1, 2>, Contract];',
		]);
		expect(messages.map((m) => m.ruleId)).toEqual(Array(2).fill('import/no-restricted-paths'));
	}, 60_000);

	it('lets only the node folders and the n8n layer import n8n', () => {
		const imports = ["import type { INode } from 'n8n-workflow';", 'export type Layers = [INode];'];
		expect(lintProbe('nodes/shared/n8n', imports)).toEqual([]);
		expect(lintProbe('nodes/ContactCoupon/actions', imports)).toEqual([]);
		const loose = lintProbe('nodes/shared', imports);
		expect(loose.map((m) => m.ruleId)).toEqual(['@typescript-eslint/no-restricted-imports']);
		expect(loose[0].message).toContain('put n8n-facing code in nodes/shared/n8n');
	}, 60_000);

	it('refuses a circle of imports', () => {
		const partner = join(root, 'nodes/shared/core/common', `circleProbe${process.pid}.ts`);
		writeFileSync(
			partner,
			`import { probe } from './layerProbe${process.pid}';\nexport const partner = () => probe;\n`,
		);
		try {
			const messages = lintProbe('nodes/shared/core/common', [
				`import { partner } from './circleProbe${process.pid}';`,
				'export const probe = () => partner;',
			]);
			expect(messages.map((m) => m.ruleId)).toEqual(['import/no-cycle']);
		} finally {
			rmSync(partner, { force: true });
		}
	}, 60_000);
});

describe('the size of files, as npm run lint enforces it', () => {
	it('lets a file under nodes/ hold 600 lines and refuses the 601st', () => {
		const lines = (count: number) =>
			Array.from({ length: count }, (_, i) => `export const line${i} = ${i};`);
		expect(lintProbe('nodes/shared/core/common', lines(600))).toEqual([]);
		expect(lintProbe('nodes/shared/core/common', lines(601)).map((m) => m.ruleId)).toEqual([
			'max-lines',
		]);
	}, 60_000);
});
