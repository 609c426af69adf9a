// How long n8n's event loop waits at most while a million-code step runs (run by `npm run bench`
// on a Node with node:sqlite, after the build): each storage's steps in a process of their own
// (bench/eventLoopChild.js), watched by perf_hooks.monitorEventLoopDelay. Target: no wait over
// 200 ms. Prints figures; asserts nothing.
const { execFile } = require('node:child_process');
const os = require('node:os');
const path = require('node:path');
const { promisify } = require('node:util');
const { dropSchemas } = require('./lib/database');

const run = promisify(execFile);
const CODES = 1_000_000;
const STORAGES = [
	['staticData', 'workflow static data'],
	['local', 'Local (node:sqlite)'],
	['database', 'PostgreSQL'],
];

async function main() {
	console.log(
		`\nEvent loop: the longest the loop waited (and its 99th percentile, in 10 ms steps) while each step ran, and the longest garbage-collection pause in it; ${CODES.toLocaleString('en-US')} codes, Node ${process.version}, ${os.cpus().length} cores. "idle" is the monitor's own reading with nothing running.`,
	);
	const schema = `coupons_bench_loop_${process.pid}`;
	try {
		for (const [storage, label] of STORAGES) {
			const { stdout } = await run(
				process.execPath,
				[path.join(__dirname, 'eventLoopChild.js'), storage, String(CODES), schema],
				{ maxBuffer: 1 << 20, timeout: 60 * 60_000 },
			);
			console.log(`\n  ${label}`);
			for (const line of stdout.trim().split('\n')) {
				const { step, seconds, maxStallMs, p99StallMs, longestGcMs } = JSON.parse(line);
				console.log(
					`    ${step.padEnd(26)} ${seconds.toFixed(1).padStart(6)} s | longest wait ${maxStallMs.toFixed(0).padStart(4)} ms (p99 ${p99StallMs.toFixed(0).padStart(4)} ms) | longest GC ${longestGcMs.toFixed(0).padStart(4)} ms${maxStallMs > 200 ? '  over 200 ms' : ''}`,
				);
			}
		}
	} finally {
		await dropSchemas(schema);
	}
}

main().catch((error) => {
	console.error(error);
	process.exitCode = 1;
});
