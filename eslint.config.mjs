import js from '@eslint/js';
import n8nCommunityNodes from '@n8n/eslint-plugin-community-nodes';
import importPlugin from 'eslint-plugin-import';
import n8nNodesBase from 'eslint-plugin-n8n-nodes-base';
import globals from 'globals';
import jsonParser from 'jsonc-eslint-parser';
import tseslint from 'typescript-eslint';

/**
 * The layers import in one direction: nodes -> the n8n layer (nodes/shared/n8n) -> rules (core/,
 * which defines the store contract) <- stores -> transport. Only the node folders and the n8n layer
 * import n8n; the rules import nothing but themselves (and nanoid); stores, transport and
 * spreadsheet reading never import n8n, the n8n layer or the nodes. See docs/ARCHITECTURE.md.
 */
const layerZones = [
	{
		target: './nodes/shared/core',
		from: '.',
		except: ['./nodes/shared/core', './node_modules/nanoid'],
		message: 'core/ holds the rules and the store contract; it imports only core/ (and nanoid).',
	},
	{
		target: ['./nodes/shared/stores', './nodes/shared/transport', './nodes/shared/spreadsheet'],
		from: ['./nodes', './node_modules/n8n-workflow'],
		except: ['./shared/core', './shared/stores', './shared/transport', './shared/spreadsheet'],
		message: 'Stores, transport and spreadsheet reading know nothing of n8n or the nodes.',
	},
	{
		target: ['./nodes/shared/transport', './nodes/shared/spreadsheet'],
		from: './nodes/shared/stores',
		message:
			'Transport and spreadsheet reading are used by stores and operations, never the reverse.',
	},
];

/** Only the node folders and the n8n layer may import n8n (a new shared file goes below it). */
const n8nOnlyInTheN8nLayer = {
	paths: [
		{
			name: 'n8n-workflow',
			message:
				'Only the node folders and nodes/shared/n8n import n8n-workflow: put n8n-facing code in nodes/shared/n8n.',
		},
	],
};

/** The code below the n8n layer: it cannot wrap errors in n8n's classes, as it may not import n8n. */
const belowN8n = [
	'nodes/shared/core/**',
	'nodes/shared/stores/**',
	'nodes/shared/transport/**',
	'nodes/shared/spreadsheet/**',
];

/** Unused names are errors, except those written `_name` on purpose (a field left out of a copy). */
const unusedUnlessUnderscored = {
	argsIgnorePattern: '^_',
	varsIgnorePattern: '^_',
	destructuredArrayIgnorePattern: '^_',
};

const typeChecked = {
	parser: tseslint.parser,
	parserOptions: { project: './tsconfig.json', sourceType: 'module' },
};

export default [
	{ ignores: ['dist/**', 'coverage/**', 'test-artifacts/**', 'bench/.cache/**'] },

	// Everything: eslint's and typescript-eslint's recommended rules.
	js.configs.recommended,
	...tseslint.configs.recommended.map((config) => ({ ...config, files: ['**/*.ts'] })),
	{
		files: ['**/*.js', '**/*.mjs'],
		languageOptions: { globals: globals.node, sourceType: 'commonjs' },
		rules: { 'no-unused-vars': ['error', unusedUnlessUnderscored] },
	},
	{ files: ['**/*.mjs'], languageOptions: { sourceType: 'module' } },
	{
		files: ['**/*.ts'],
		languageOptions: typeChecked,
		rules: {
			'@typescript-eslint/no-unused-vars': ['error', unusedUnlessUnderscored],
		},
	},

	// The layers import in one direction.
	{
		files: ['nodes/**/*.ts'],
		plugins: { import: importPlugin },
		settings: {
			'import/resolver': { node: { extensions: ['.ts', '.js'] } },
			// The import rules read the imported files too (no-cycle follows them): with TypeScript's parser.
			'import/parsers': { '@typescript-eslint/parser': ['.ts'] },
		},
		rules: {
			'import/no-restricted-paths': ['error', { zones: layerZones }],
			// No file imports itself through others: a circle has no layer to start reading from.
			'import/no-cycle': 'error',
			// A file a newcomer can read through: past this, split it by what its parts do.
			'max-lines': ['error', { max: 600, skipBlankLines: false, skipComments: false }],
		},
	},
	{
		// The layers below n8n have their zones above; this catches any other shared file.
		files: ['nodes/shared/**/*.ts'],
		ignores: ['nodes/shared/n8n/**', ...belowN8n],
		rules: { '@typescript-eslint/no-restricted-imports': ['error', n8nOnlyInTheN8nLayer] },
	},

	// n8n's community-node rules: the classic plugin...
	{
		files: ['package.json'],
		languageOptions: { parser: jsonParser },
		plugins: { 'n8n-nodes-base': n8nNodesBase },
		rules: { ...n8nNodesBase.configs.community.rules },
	},
	{
		files: ['credentials/**/*.ts'],
		plugins: { 'n8n-nodes-base': n8nNodesBase },
		rules: {
			...n8nNodesBase.configs.credentials.rules,
			// As in n8n-nodes-starter: this rule is for credentials documented on n8n's own site.
			'n8n-nodes-base/cred-class-field-documentation-url-miscased': 'off',
		},
	},
	{
		files: ['nodes/**/*.ts'],
		plugins: { 'n8n-nodes-base': n8nNodesBase },
		rules: {
			...n8nNodesBase.configs.nodes.rules,
			// Our nodes live in nodes/<Node>/ with shared code in nodes/shared/, as n8n's own packages do.
			'n8n-nodes-base/node-dirname-against-convention': 'off',
			'n8n-nodes-base/node-filename-against-convention': 'off',
			// A database credential is not an API; its name couponPostgres is public (n8n's own is "postgres").
			'n8n-nodes-base/node-class-description-credentials-name-unsuffixed': 'off',
			// These two know only the literal 'main'; @n8n/community-nodes requires NodeConnectionTypes.Main.
			'n8n-nodes-base/node-class-description-inputs-wrong-regular-node': 'off',
			'n8n-nodes-base/node-class-description-outputs-wrong': 'off',
		},
	},

	// ...and n8n's current plugin for community packages.
	{
		...n8nCommunityNodes.configs.recommended,
		files: ['package.json', 'nodes/**/*.ts', 'credentials/**/*.ts'],
		rules: {
			...n8nCommunityNodes.configs.recommended.rules,
			// By design this package is for self-hosted n8n, not n8n Cloud: PostgreSQL (pg,
			// pg-copy-streams), spreadsheets (@e965/xlsx, with our own zip guard) and random codes
			// (nanoid) need runtime dependencies.
			'@n8n/community-nodes/no-runtime-dependencies': 'off',
		},
	},
	{
		// The code that uses those dependencies (and Node's streams, for COPY) imports them.
		files: [
			'nodes/shared/core/codes/codeFormat.ts',
			'nodes/shared/stores/**',
			'nodes/shared/transport/**',
			'nodes/shared/spreadsheet/**',
			'nodes/shared/n8n/methods/credentialTest.ts',
		],
		rules: { '@n8n/community-nodes/no-restricted-imports': 'off' },
	},
	{
		// The PostgreSQL transport keeps one pool per credential and closes it after an idle time, as
		// n8n's own PostgreSQL node does, with setTimeout and clearTimeout.
		files: ['nodes/shared/transport/postgres.ts'],
		rules: { '@n8n/community-nodes/no-restricted-globals': 'off' },
	},
	{
		// Long loops share n8n's event loop: setImmediate lets everything that waits run, then the
		// loop goes on. n8n's sleep helper (setTimeout) may not be imported below the n8n layer.
		files: ['nodes/shared/core/common/turns.ts'],
		rules: { '@n8n/community-nodes/no-restricted-globals': 'off' },
	},
	{
		// The Local storage finds queue mode where n8n itself reads it (EXECUTIONS_MODE), and names
		// the Node version it needs.
		files: ['nodes/shared/transport/sqlite.ts'],
		rules: { '@n8n/community-nodes/no-restricted-globals': 'off' },
	},
	{
		files: ['package.json'],
		languageOptions: { parser: jsonParser },
	},
	{
		// Coupon Import reads a spreadsheet from the item's binary data, which an AI agent cannot hand
		// over; Contact Coupon is an agent's tool.
		files: ['nodes/CouponImport/CouponImport.node.ts'],
		rules: { '@n8n/community-nodes/node-usable-as-tool': 'off' },
	},
	{
		// Below the n8n layer errors are plain (CouponError, StoreError); the item runner turns them
		// into NodeOperationError and NodeApiError with the item index.
		files: belowN8n,
		rules: { '@n8n/community-nodes/require-node-api-error': 'off' },
	},
];
