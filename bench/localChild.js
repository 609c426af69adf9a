// One measured step of the Local storage benchmark, in a process of its own so that its time and
// peak memory are its alone. Prints one JSON line. Run by bench/local.js on a Node with node:sqlite.
const fs = require('node:fs');
const path = require('node:path');
const { DatabaseSync } = require('node:sqlite');
const XLSX = require('@e965/xlsx');
const { ContactCoupon } = require('../dist/nodes/ContactCoupon/ContactCoupon.node');
const { CouponImport } = require('../dist/nodes/CouponImport/CouponImport.node');
const { LocalStore } = require('../dist/nodes/shared/stores/local/LocalStore');
const { localDatabase } = require('../dist/nodes/shared/transport/sqlite');
const { context, diskFileItem } = require('./lib/context');
const { triggerSettings } = require('./lib/trigger');
const { redeemCodes } = require('../dist/nodes/shared/core/checkout/checkout');
const { codeKey } = require('../dist/nodes/shared/core/codes/codes');
const { pollTrigger } = require('../dist/nodes/shared/core/events/couponEvents');
const { eventQuery, SQLITE_EVENTS } = require('../dist/nodes/shared/stores/triggerSql');

const [step, ...args] = process.argv.slice(2);
const DAY_MS = 86_400_000;

async function waitUntil(startAt) {
	await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(startAt) - Date.now())));
}

const generate = (items) => ({
	operation: 'generate',
	storage: 'local',
	couponName: 'BENCH',
	length: 8,
	validDays: 30,
	contact: (i) => items[i].json.email,
	options: {},
});

/** A write transaction of the store on the pool's file, open until `release` is called; rolled back. */
async function openWrite(n8nFolder) {
	const store = new LocalStore(localDatabase(path.join(n8nFolder, 'coupons.sqlite')));
	let opened;
	let release;
	const open = new Promise((resolve) => (opened = resolve));
	const done = store.transaction(
		async (session) => {
			await session.createPool('BENCH-HELD', 'imported');
			opened();
			await new Promise((resolve) => (release = resolve));
		},
		{ rollBack: true },
	);
	await open;
	return async () => {
		release();
		await done;
	};
}

/** Whether another connection holds the file's write lock: a begin that does not wait is refused. */
function writeLockHeld(n8nFolder) {
	const probe = new DatabaseSync(path.join(n8nFolder, 'coupons.sqlite'), { timeout: 0 });
	try {
		probe.exec('BEGIN IMMEDIATE; ROLLBACK;');
		return false;
	} catch {
		return true;
	} finally {
		probe.close();
	}
}

const steps = {
	/** Coupon Import node, Local storage, one file into an empty coupon, streamed from disk as n8n 2.x keeps it. */
	async 'import-node'(file, n8nFolder) {
		const parameters = {
			storage: 'local',
			binaryPropertyName: 'data',
			couponName: '',
			options: {},
		};
		const started = performance.now();
		const [output] = await new CouponImport().execute.call(
			context([diskFileItem(file)], parameters, { n8nFolder }),
		);
		return { seconds: (performance.now() - started) / 1000, added: output[0].json.added };
	},

	/** Bare SheetJS parse of the same file plus bare inserts of its values into a table keyed by code, in one transaction. */
	async 'import-baseline'(file, databaseFile) {
		const buffer = fs.readFileSync(file);
		const database = new DatabaseSync(databaseFile);
		database.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;');
		database.exec('CREATE TABLE baseline (code TEXT PRIMARY KEY) STRICT, WITHOUT ROWID');
		const started = performance.now();
		const sheet = XLSX.read(buffer, { type: 'buffer', dense: true }).Sheets.Codes;
		const rows = sheet['!data'].slice(1);
		const insert = database.prepare('INSERT INTO baseline (code) VALUES (?)');
		database.exec('BEGIN IMMEDIATE');
		for (const row of rows) insert.run(row[1].v);
		database.exec('COMMIT');
		const seconds = (performance.now() - started) / 1000;
		database.close();
		return { seconds, added: rows.length };
	},

	/** Contact Coupon node, Local storage, one execution of `count` contacts. */
	async 'assign-node'(n8nFolder, count, prefix, startAt) {
		const items = Array.from({ length: Number(count) }, (_, i) => ({
			json: { email: `${prefix}-${i}@example.com` },
		}));
		// Open and migrate-check first, as a long-running n8n process has already done.
		const warmUp = [{ json: { email: `${prefix}-warm-up` } }];
		await new ContactCoupon().execute.call(context(warmUp, generate(warmUp), { n8nFolder }));
		await waitUntil(startAt);
		const started = performance.now();
		const [output] = await new ContactCoupon().execute.call(
			context(items, generate(items), { n8nFolder }),
		);
		const finished = Date.now();
		if (output.some((item) => !item.json.coupon)) throw new Error('an item got no coupon');
		return { seconds: (performance.now() - started) / 1000, finishedAt: finished };
	},

	/**
	 * Another n8n process in a long write: a store transaction held open until a line arrives on
	 * stdin, then rolled back. Prints "holding" once it holds the write lock.
	 */
	async 'hold-write'(n8nFolder) {
		const release = await openWrite(n8nFolder);
		console.log('holding');
		await new Promise((resolve) => process.stdin.once('data', resolve));
		process.stdin.destroy();
		await release();
		return {};
	},

	/**
	 * `count` Validate Code runs of one assigned code, one after the other, each timed. `writer`:
	 * "none", "another process" (bench/local.js holds one) or "this process" (a store write
	 * transaction open in this process meanwhile).
	 */
	async 'validate-latency'(n8nFolder, count, writer) {
		const check = new DatabaseSync(path.join(n8nFolder, 'coupons.sqlite'), { readOnly: true });
		const { code } = check
			.prepare('SELECT code FROM codes WHERE contact_key IS NOT NULL LIMIT 1')
			.get();
		check.close();
		const items = [{ json: {} }];
		const validate = { operation: 'validate', storage: 'local', code, options: {} };
		// Open and check the file first, as a long-running n8n process has already done.
		await new ContactCoupon().execute.call(context(items, validate, { n8nFolder }));
		const release = writer === 'this process' ? await openWrite(n8nFolder) : undefined;
		const times = [];
		for (let i = 0; i < Number(count); i++) {
			const started = performance.now();
			const [output] = await new ContactCoupon().execute.call(
				context(items, validate, { n8nFolder }),
			);
			times.push(performance.now() - started);
			if (output[0].json.validation.status !== 'valid')
				throw new Error('the code did not validate');
		}
		const writerHeld = writeLockHeld(n8nFolder);
		await release?.();
		times.sort((a, b) => a - b);
		const percentile = (p) =>
			times[Math.min(times.length - 1, Math.ceil((p / 100) * times.length) - 1)];
		return { p50: percentile(50), p99: percentile(99), writerHeld };
	},

	/**
	 * Coupon Trigger polls on the pool (its assigned codes active for 30 days): Redeemed after 1,000
	 * uses, and Expiring Soon over every active coupon, 100 events a poll until none is left; each
	 * against the same rows read by a bare indexed range query, and Expiring Soon also against a
	 * read that ignores the index. With the query plans of both streams.
	 */
	async 'trigger-poll'(n8nFolder) {
		const file = path.join(n8nFolder, 'coupons.sqlite');
		const store = new LocalStore(localDatabase(file));
		const raw = new DatabaseSync(file, { readOnly: true });
		const now = Date.now();
		/** Polls until one finds nothing; the time of each poll that found events. */
		const drain = async (key, polled, at) => {
			const times = [];
			let events = 0;
			for (;;) {
				const started = performance.now();
				const found = await pollTrigger(store, key, polled, at, false);
				if (found.length === 0) return { times, events };
				times.push(performance.now() - started);
				events += found.length;
			}
		};
		const mean = (times) => times.reduce((a, b) => a + b, 0) / times.length;
		const rawTimes = (sql, params, rounds) => {
			const statement = raw.prepare(sql);
			const times = [];
			for (let i = 0; i < rounds; i++) {
				const started = performance.now();
				const rows = statement.all(...params(i));
				times.push(performance.now() - started);
				if (rows.length === 0) throw new Error('the baseline read nothing');
			}
			return times;
		};
		const plan = (read) => {
			const { sql, params } = eventQuery(read, SQLITE_EVENTS);
			return raw
				.prepare(`EXPLAIN QUERY PLAN ${sql}`)
				.all(...params)
				.map((row) => row.detail)
				.join('; ');
		};

		// Redeemed: a first poll, then 1,000 uses twenty minutes before the measured polls.
		const redeemed = triggerSettings('redeemed');
		await pollTrigger(store, 'bench/redeemed', redeemed, now - 30 * 60_000, false);
		const codes = raw
			.prepare(
				'SELECT code FROM codes WHERE contact_key IS NOT NULL AND redeemed_at IS NULL LIMIT 1000',
			)
			.all()
			.map((row) => row.code);
		await store.transaction(
			async (s) =>
				await redeemCodes(
					s,
					codes.map((code, i) => ({ code, key: codeKey(code), orderReference: `BENCH-${i}` })),
					now - 20 * 60_000,
				),
		);
		const redeemedPolls = await drain('bench/redeemed', redeemed, now);
		if (redeemedPolls.events !== codes.length)
			throw new Error(`fired ${redeemedPolls.events} of ${codes.length} uses`);
		const redeemedRaw = rawTimes(
			`SELECT c.*, r.* FROM redemptions r JOIN codes c ON c.pool_id = r.pool_id AND c.code_key = r.code_key
			WHERE r.redeemed_at >= ? ORDER BY r.redeemed_at, r.code_key LIMIT 100`,
			() => [now - 30 * 60_000],
			redeemedPolls.times.length,
		);

		// Expiring Soon over every active coupon (valid for 30 days): 31 days ahead.
		const active = raw
			.prepare(
				'SELECT count(*) AS n FROM codes WHERE contact_key IS NOT NULL AND redeemed_at IS NULL AND replaced_at IS NULL AND valid_until > ?',
			)
			.get(now).n;
		const expiring = triggerSettings('expiringSoon', 31);
		// Ten minutes on: the coupons the assignment steps just made are settled.
		const later = now + 10 * 60_000;
		const firstRounds = 5;
		const expiringTimes = [];
		for (let i = 0; i < firstRounds; i++) {
			const started = performance.now();
			const found = await pollTrigger(store, 'bench/expiring', expiring, later, false);
			expiringTimes.push(performance.now() - started);
			if (found.length !== 100) throw new Error(`an Expiring Soon poll fired ${found.length}`);
		}
		const activeRange = `FROM codes c WHERE c.contact_key IS NOT NULL AND c.replaced_at IS NULL AND c.redeemed_at IS NULL
			AND c.valid_until > ? AND c.valid_until <= ? ORDER BY c.valid_until, c.code_key LIMIT 100`;
		const expiringRaw = rawTimes(
			`SELECT c.* ${activeRange}`,
			() => [later, later + 31 * 86_400_000],
			firstRounds,
		);
		// The poll of every minute: no coupon ends within 3 days. Against the same read without the index.
		const quiet = triggerSettings('expiringSoon', 3);
		const quietTimes = [];
		for (let i = 0; i < firstRounds; i++) {
			const started = performance.now();
			const found = await pollTrigger(store, `bench/quiet-${i}`, quiet, later, false);
			quietTimes.push(performance.now() - started);
			if (found.length !== 0) throw new Error(`a quiet Expiring Soon poll fired ${found.length}`);
		}
		const scan = raw.prepare(
			// `+` keeps SQLite off the time index: it walks every active coupon instead.
			`SELECT c.* ${activeRange.replaceAll('c.valid_until', '+c.valid_until')}`,
		);
		const scanTimes = [];
		for (let i = 0; i < firstRounds; i++) {
			const started = performance.now();
			scan.all(later, later + 3 * 86_400_000);
			scanTimes.push(performance.now() - started);
		}
		const plans = {
			redeemed: plan({
				stream: 'redeemed',
				after: { at: now, couponKey: '', codeKey: '', n: 0 },
				upTo: now,
				limit: 100,
			}),
			redeemedOfOne: plan({
				stream: 'redeemed',
				after: { at: now, couponKey: '', codeKey: '', n: 0 },
				upTo: now,
				couponKeys: ['bench'],
				limit: 100,
			}),
			expiring: plan({
				stream: 'expiring',
				after: { at: now, couponKey: '', codeKey: '', n: 0 },
				upTo: now + 86_400_000,
				activeAt: now,
				assignedAtMost: now,
				limit: 100,
			}),
		};
		raw.close();
		return {
			active,
			redeemedPollMs: mean(redeemedPolls.times),
			redeemedRawMs: mean(redeemedRaw),
			expiringPollMs: mean(expiringTimes),
			expiringRawMs: mean(expiringRaw),
			quietPollMs: mean(quietTimes),
			quietScanMs: mean(scanTimes),
			plans,
		};
	},

	/** The store's assigning statements run directly with node:sqlite, in one transaction. */
	async 'assign-raw'(n8nFolder, count, prefix, startAt) {
		const database = new DatabaseSync(path.join(n8nFolder, 'coupons.sqlite'), { timeout: 60_000 });
		const { id } = database.prepare("SELECT id FROM pools WHERE name_key = 'bench'").get();
		const free = database.prepare(
			'SELECT code_key FROM codes WHERE pool_id = ? AND contact_key IS NULL ORDER BY rank LIMIT ?',
		);
		const take = database.prepare(
			'UPDATE codes SET contact_key = ?, assigned_at = ?, valid_until = ? WHERE pool_id = ? AND code_key = ? AND contact_key IS NULL',
		);
		await waitUntil(startAt);
		const started = performance.now();
		const now = Date.now();
		database.exec('BEGIN IMMEDIATE');
		const rows = free.all(id, Number(count));
		rows.forEach((row, i) =>
			take.run(`${prefix}-${i}@example.com`, now, now + 30 * DAY_MS, id, row.code_key),
		);
		database.exec('COMMIT');
		const finished = Date.now();
		database.close();
		if (rows.length !== Number(count)) throw new Error(`assigned ${rows.length} of ${count}`);
		return { seconds: (performance.now() - started) / 1000, finishedAt: finished };
	},
};

steps[step](...args)
	.then((result) => {
		result.peakMiB = Math.round(process.resourceUsage().maxRSS / 1024);
		console.log(JSON.stringify(result));
	})
	.catch((error) => {
		console.error(error);
		process.exit(1);
	});
