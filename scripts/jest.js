// `npm test` and `npm run test:e2e`: jest on a Node that has node:sqlite (the Local storage), as
// n8n 2.x runs on Node 24. On an older Node (this machine's Node 20), the Node 24 of the cache.
const { spawn } = require('node:child_process');
const path = require('node:path');
const { ensureNode } = require('./n8n');

const hasSqlite = () => {
	try {
		require('node:sqlite');
		return true;
	} catch {
		return false;
	}
};

const node = hasSqlite() ? process.execPath : ensureNode();
const jest = path.join(path.dirname(require.resolve('jest/package.json')), 'bin', 'jest.js');
const child = spawn(node, [jest, ...process.argv.slice(2)], { stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
