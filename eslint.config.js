const n8nNodesBase = require('eslint-plugin-n8n-nodes-base');
const tsParser = require('@typescript-eslint/parser');
const jsonParser = require('jsonc-eslint-parser');
const importPlugin = require('eslint-plugin-import');

/**
 * The layers import in one direction: nodes -> item runner -> rules (core/, which defines the store
 * contract) <- stores -> transport. The rules import nothing but themselves (and nanoid); stores,
 * transport and spreadsheet reading never import n8n or the node layer. See docs/ARCHITECTURE.md.
 */
const layerZones = [
	{
		target: './nodes/shared/core',
		from: '.',
		except: ['./nodes/shared/core', './node_modules/nanoid'],
		message: 'core/ holds the rules and the store contract; it imports only core/ (and nanoid).',
	},
	{
		target: ['./nodes/shared/store', './nodes/shared/transport', './nodes/shared/spreadsheet'],
		from: ['./nodes', './node_modules/n8n-workflow'],
		except: ['./shared/core', './shared/store', './shared/transport', './shared/spreadsheet'],
		message: 'Stores, transport and spreadsheet reading know nothing of n8n or the nodes.',
	},
	{
		target: ['./nodes/shared/transport', './nodes/shared/spreadsheet'],
		from: './nodes/shared/store',
		message:
			'Transport and spreadsheet reading are used by stores and operations, never the reverse.',
	},
];

module.exports = [
	{ ignores: ['dist/**', 'node_modules/**', 'test/**', '*.js'] },
	{
		files: ['package.json'],
		languageOptions: { parser: jsonParser },
		plugins: { 'n8n-nodes-base': n8nNodesBase },
		rules: { ...n8nNodesBase.configs.community.rules },
	},
	{
		files: ['credentials/**/*.ts'],
		languageOptions: {
			parser: tsParser,
			parserOptions: { project: './tsconfig.json', sourceType: 'module' },
		},
		plugins: { 'n8n-nodes-base': n8nNodesBase },
		rules: {
			...n8nNodesBase.configs.credentials.rules,
			// As in n8n-nodes-starter: this rule is for credentials documented on n8n's own site.
			'n8n-nodes-base/cred-class-field-documentation-url-miscased': 'off',
		},
	},
	{
		files: ['nodes/**/*.ts'],
		languageOptions: {
			parser: tsParser,
			parserOptions: { project: './tsconfig.json', sourceType: 'module' },
		},
		plugins: { 'n8n-nodes-base': n8nNodesBase, import: importPlugin },
		settings: { 'import/resolver': { node: { extensions: ['.ts', '.js'] } } },
		rules: {
			'import/no-restricted-paths': ['error', { zones: layerZones }],
			...n8nNodesBase.configs.nodes.rules,
			// Our nodes live in nodes/<Node>/ with shared code in nodes/shared/, as n8n's own packages do.
			'n8n-nodes-base/node-dirname-against-convention': 'off',
			'n8n-nodes-base/node-filename-against-convention': 'off',
			// A database credential is not an API; its name couponPostgres is public (n8n's own is "postgres").
			'n8n-nodes-base/node-class-description-credentials-name-unsuffixed': 'off',
		},
	},
];
