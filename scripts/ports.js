// Ports for `npm run dev`: which are free, and who holds one that is not. Any other n8n on the
// machine holds 5678 and its task broker's 5679, and a second n8n exits at once on either.
const fs = require('node:fs');
const net = require('node:net');

/**
 * Whether a server can listen on `port`. Without a host Node listens on every address (`::`, as
 * n8n does by default), so a listener on any one address of the machine makes the port busy.
 */
function isPortFree(port) {
	return new Promise((resolve, reject) => {
		const server = net.createServer();
		server.once('error', (error) => (error.code === 'EADDRINUSE' ? resolve(false) : reject(error)));
		server.listen({ port }, () => server.close(() => resolve(true)));
	});
}

/** The first free port from `from` on (at most 100 tried), skipping those in `skip`. */
async function freePort(from, skip = []) {
	for (let port = from; port < from + 100 && port <= 65535; port++) {
		if (!skip.includes(port) && (await isPortFree(port))) return port;
	}
	throw new Error(`no free port between ${from} and ${from + 99}`);
}

/**
 * Who listens on `port`, as "process 1234 (node n8n start)", where the machine tells (Linux's
 * /proc, for processes this user may see); undefined elsewhere.
 */
function portHolder(port) {
	const sockets = new Set();
	for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
		let rows;
		try {
			rows = fs.readFileSync(table, 'utf8').trim().split('\n').slice(1);
		} catch {
			continue;
		}
		for (const row of rows) {
			// sl local_address rem_address st ... inode: the address as HEX_IP:HEX_PORT, 0A = LISTEN.
			const fields = row.trim().split(/\s+/);
			if (fields[3] === '0A' && parseInt(fields[1].split(':')[1], 16) === port)
				sockets.add(`socket:[${fields[9]}]`);
		}
	}
	if (sockets.size === 0) return undefined;
	for (const pid of fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
		let descriptors;
		try {
			descriptors = fs.readdirSync(`/proc/${pid}/fd`);
		} catch {
			continue; // another user's process, or gone
		}
		for (const descriptor of descriptors) {
			let target;
			try {
				target = fs.readlinkSync(`/proc/${pid}/fd/${descriptor}`);
			} catch {
				continue;
			}
			if (sockets.has(target)) return `process ${pid} (${commandLine(pid)})`;
		}
	}
	return undefined;
}

/** A process's command line, shortened to fit a message. */
function commandLine(pid) {
	let words;
	try {
		words = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
	} catch {
		return 'command unknown';
	}
	const line = words.join(' ');
	return line.length > 120 ? `${line.slice(0, 117)}...` : line;
}

module.exports = { freePort, isPortFree, portHolder };
