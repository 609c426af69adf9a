// A Node that has node:sqlite (the Local storage), as n8n 2.x runs on Node 24: this one if it
// has it, else the Node 24 of the cache (installed on first use). `node scripts/node24.js FILE ...`
// runs FILE with it; `npm test` and `npm run bench` go through here.
const { spawn } = require('node:child_process');
const { ensureNode } = require('./n8n');

function sqliteNode() {
	try {
		require('node:sqlite');
		return process.execPath;
	} catch {
		return ensureNode();
	}
}

/** Runs `args` with that Node, passing signals on and exiting with its code. */
function runWithSqliteNode(args) {
	const child = spawn(sqliteNode(), args, { stdio: 'inherit' });
	for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
	child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

module.exports = { sqliteNode, runWithSqliteNode };

if (require.main === module) runWithSqliteNode(process.argv.slice(2));
