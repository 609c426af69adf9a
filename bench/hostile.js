// Hostile inputs through the real node code (run `npm run bench:hostile`, part of `npm run bench`):
// each case builds its input and runs in a process of its own, which reports its time and peak
// memory (max RSS). Spreadsheet cases are compared with the raw cost of inflating the same file,
// the least any reader has to do. Prints figures only; the tests assert the outcomes.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { inflateRawSync } = require('node:zlib');
const XLSX = require('@e965/xlsx');
const { ContactCoupon } = require('../dist/nodes/ContactCoupon/ContactCoupon.node');
const { CouponImport } = require('../dist/nodes/CouponImport/CouponImport.node');
const { readZipDirectory } = require('../dist/nodes/shared/spreadsheet/zipGuard');
const { context, fileItem } = require('./lib/context');
const { workbookParts, zip } = require('../test/helpers/xlsxParts');

const CACHE = path.join(__dirname, '.cache');

/** A file built once and kept in bench/.cache: some take seconds to build. */
function cached(name, build) {
	const file = path.join(CACHE, `hostile-${name}.xlsx`);
	if (!fs.existsSync(file)) {
		fs.mkdirSync(CACHE, { recursive: true });
		fs.writeFileSync(file, build());
	}
	return fs.readFileSync(file);
}

const header = '<row r="1"><c r="A1" t="inlineStr"><is><t>coupon value</t></is></c></row>';
const sheetOf = (rows) => Buffer.from(`<worksheet><sheetData>${rows}</sheetData></worksheet>`);

const files = {
	// 1,000 cells whose number format is a run of 40,000 zeros and one other character.
	paddingFormats: () =>
		cached('padding-formats', () => {
			const format = `${'0'.repeat(40_000)}x`;
			const rows = [['coupon value'], ...Array.from({ length: 1_000 }, (_, i) => [i])];
			const sheet = XLSX.utils.aoa_to_sheet(rows);
			for (let r = 1; r <= 1_000; r++) sheet[XLSX.utils.encode_cell({ r, c: 0 })].z = format;
			const book = XLSX.utils.book_new();
			XLSX.utils.book_append_sheet(book, sheet, 'S');
			return XLSX.write(book, { type: 'buffer', bookType: 'xlsx', compression: true });
		}),
	// 24 million tiny shared strings (430 MB unpacked, within the caps) for one code.
	sharedStrings: () =>
		cached('shared-strings', () => {
			const count = 24_000_000;
			const pieces = ['<sst><si><t>coupon value</t></si><si><t>CODE1</t></si>'];
			for (let i = 0; i < count; i += 1_000_000) {
				let chunk = '';
				for (let j = i; j < i + 1_000_000; j++)
					chunk += `<si><t>${(j % 1296).toString(36)}</t></si>`;
				pieces.push(chunk);
			}
			pieces.push('</sst>');
			const sheet = sheetOf(
				'<row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2"><c r="A2" t="s"><v>1</v></c></row>',
			);
			const parts = workbookParts(sheet, '');
			parts[parts.length - 1].data = Buffer.from(pieces.join(''));
			return zip(parts);
		}),
	// One shared text of 100 MB (random letters, which pass the packing-ratio check) that the only
	// code refers to: the shared texts are unpacked a piece at a time, and each piece is read once,
	// not the text so far again.
	longSharedString: () =>
		cached('long-shared-string', () => {
			const letters = require('node:crypto').randomBytes(100 * 1024 * 1024);
			for (let i = 0; i < letters.length; i++) letters[i] = 0x41 + (letters[i] % 26);
			const sheet = sheetOf(
				'<row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2"><c r="A2" t="s"><v>1</v></c></row>',
			);
			const parts = workbookParts(sheet, '');
			parts[parts.length - 1].data = Buffer.concat([
				Buffer.from('<sst><si><t>coupon value</t></si><si><t>'),
				letters,
				Buffer.from('</t></si></sst>'),
			]);
			return zip(parts);
		}),
	// A code on the last row Excel has, below a gap of blank rows.
	lastRow: () =>
		cached('last-row', () =>
			zip(
				workbookParts(
					sheetOf(
						`${header}<row r="2"><c r="A2"><v>1</v></c></row><row r="1048576"><c r="A1048576"><v>2</v></c></row>`,
					),
				),
			),
		),
	// 200,000 rows of 60 cells: 12 million cells, most of them in columns the import never reads.
	wideRows: () =>
		cached('wide-rows', () => {
			const rows = [header];
			for (let r = 2; r <= 200_001; r++) {
				let cells = '';
				for (let c = 0; c < 60; c++)
					cells += `<c><v>${(r * 7919 + c * 104729) % 1_000_003}</v></c>`;
				rows.push(`<row r="${r}">${cells}</row>`);
			}
			return zip(workbookParts(sheetOf(rows.join(''))));
		}),
};

async function importFile(file, options = {}) {
	return await new CouponImport().execute.call(
		context(
			[fileItem(file)],
			{ storage: 'staticData', binaryPropertyName: 'data', couponName: 'HOSTILE', options },
			{ staticData: {} },
		),
	);
}

const contactCoupon = async (operation, parameters, staticData = {}, items = [{ json: {} }]) =>
	await new ContactCoupon().execute.call(
		context(
			items,
			{ operation, storage: 'staticData', options: {}, ...parameters },
			{ staticData },
		),
	);

/** Each case: what it does, and the raw baseline to compare with (a spreadsheet's inflation). */
const cases = {
	paddingFormats: {
		label: '1,000 cells with a 40,000-zero number format',
		file: files.paddingFormats,
		run: async (file) => await importFile(file),
	},
	sharedStrings: {
		label: '24,000,000 shared strings, one code',
		file: files.sharedStrings,
		run: async (file) => await importFile(file),
	},
	longSharedString: {
		label: 'one shared text of 100 MB for the only code',
		file: files.longSharedString,
		run: async (file) => await importFile(file),
	},
	lastRow: {
		label: 'a code on row 1,048,576 after blank rows',
		file: files.lastRow,
		run: async (file) => await importFile(file),
	},
	wideRows: {
		label: '200,000 rows of 60 cells',
		file: files.wideRows,
		run: async (file) => await importFile(file),
	},
	staticData30k: {
		label: 'static data: import 30,000 coupons, then Validate and Statistics',
		run: async () => {
			const rows = [
				['coupon name', 'coupon value'],
				...Array.from({ length: 30_000 }, (_, i) => [`C${i}`, `CODE${i}`]),
			];
			const book = XLSX.utils.book_new();
			XLSX.utils.book_append_sheet(book, XLSX.utils.aoa_to_sheet(rows), 'S');
			const file = XLSX.write(book, { type: 'buffer', bookType: 'xlsx', compression: true });
			const staticData = {};
			await new CouponImport().execute.call(
				context(
					[fileItem(file)],
					{
						storage: 'staticData',
						binaryPropertyName: 'data',
						couponName: '',
						options: { maxNewCoupons: 30_000 },
					},
					{ staticData },
				),
			);
			await contactCoupon('validate', { code: 'CODE29999' }, staticData);
			const [statistics] = await contactCoupon('stats', { couponName: '' }, staticData);
			return `${statistics.length.toLocaleString('en-US')} coupons reported`;
		},
	},
	render5000: {
		label: 'Render: 5,000 distinct placeholders of new coupons',
		run: async () =>
			await contactCoupon('render', {
				text: Array.from({ length: 5_000 }, (_, i) => `$cst.P${i}.coupon$`).join(' '),
				contact: 'ann@example.com',
				whenMissing: 'assign',
				length: 8,
				validDays: 30,
			}),
	},
	brokenTemplate: {
		label: 'Render: 10 MB template of distinct broken placeholders',
		run: async () => {
			const text = Array.from({ length: 1_100_000 }, (_, i) => `$cst.x${i} `)
				.join('')
				.slice(0, 10 * 1024 * 1024);
			const [[item]] = await contactCoupon('render', {
				text,
				contact: 'ann@example.com',
				whenMissing: 'leave',
			});
			const output = JSON.stringify(item.json.rendered).length - text.length;
			return `output beyond the text: ${(output / 1024).toFixed(0)} KiB, ${item.json.rendered.unresolvedNotListed.toLocaleString('en-US')} placeholders counted, not listed`;
		},
	},
	inheritedCharacters: {
		label: 'Characters option "toString"',
		run: async () =>
			await contactCoupon('generate', {
				couponName: 'W',
				contact: 'ann@example.com',
				length: 8,
				validDays: 30,
				options: { characters: 'toString' },
			}),
	},
};

/** Inflates every part of the file: the raw baseline of the spreadsheet cases. */
function inflateAll(file) {
	for (const entry of readZipDirectory(file)) {
		const at = entry.localHeaderOffset;
		const start = at + 30 + file.readUInt16LE(at + 26) + file.readUInt16LE(at + 28);
		const packed = file.subarray(start, start + entry.compressedSize);
		if (entry.method === 8) inflateRawSync(packed);
	}
}

/**
 * This process's peak resident memory. Linux's VmHWM starts afresh with the process, unlike the
 * getrusage figure, which a spawned process inherits from the one that spawned it.
 */
function peakResidentKiB() {
	try {
		const status = fs.readFileSync('/proc/self/status', 'utf8');
		return Number(/^VmHWM:\s+(\d+) kB$/m.exec(status)[1]);
	} catch {
		return process.resourceUsage().maxRSS;
	}
}

/** Runs one case (or, with `baseline`, inflates its file) and prints what it measured. */
async function runCase(name, baseline) {
	const hostile = cases[name];
	const file = hostile.file?.();
	const start = process.hrtime.bigint();
	let outcome;
	try {
		const result = baseline ? inflateAll(file) : await hostile.run(file);
		outcome = typeof result === 'string' ? result : 'accepted';
	} catch (error) {
		outcome = `refused: ${error.message}`;
	}
	const seconds = Number(process.hrtime.bigint() - start) / 1e9;
	const peakMiB = peakResidentKiB() / 1024;
	process.stdout.write(JSON.stringify({ seconds, peakMiB, size: file?.length, outcome }));
}

const measure = (...args) =>
	JSON.parse(execFileSync(process.execPath, [__filename, ...args], { maxBuffer: 16 * 2 ** 20 }));

function main() {
	console.log(
		`Hostile inputs, each in its own process: Node ${process.version}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GB`,
	);
	// Files are built here first, so that a case's peak memory is its own.
	for (const hostile of Object.values(cases)) hostile.file?.();
	for (const [name, { label, file }] of Object.entries(cases)) {
		const report = measure(name);
		const raw = file ? measure(name, 'baseline') : undefined;
		const size = report.size ? ` (${(report.size / 1024).toFixed(0)} KiB file)` : '';
		const ratio = raw
			? ` (inflating the file alone: ${raw.seconds.toFixed(2)} s, peak ${raw.peakMiB.toFixed(0)} MiB)`
			: '';
		console.log(`  ${label}${size}`);
		console.log(
			`    ${report.seconds.toFixed(2)} s, peak ${report.peakMiB.toFixed(0)} MiB${ratio}: ${report.outcome.slice(0, 150)}`,
		);
	}
}

if (process.argv[2]) void runCase(process.argv[2], process.argv[3] === 'baseline');
else main();
