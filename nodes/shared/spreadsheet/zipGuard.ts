import { createInflateRaw, inflateRawSync } from 'node:zlib';
import { CouponError } from '../core/common/errors';

/** How far a spreadsheet may unpack before it is treated as a zip bomb. */
export interface UnpackLimits {
	/** Bytes all entries may unpack to together. */
	maxTotalBytes: number;
	/** Bytes one entry may unpack to. */
	maxEntryBytes: number;
	/** Unpacked-to-packed ratio allowed for an entry of more than RATIO_FLOOR bytes. */
	maxRatio: number;
}

export interface ZipEntry {
	name: string;
	method: number;
	compressedSize: number;
	uncompressedSize: number;
	localHeaderOffset: number;
}

const RATIO_FLOOR = 1024 * 1024;
const MAX_ENTRIES = 10_000;
const EOCD_SIGNATURE = 0x06054b50;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const ZIP64_EXTRA_ID = 0x0001;
const STORED = 0;
const DEFLATED = 8;

const corrupt = (detail: string) =>
	new CouponError(
		'FILE_DAMAGED',
		`The file is not a readable .xlsx file: its zip structure is damaged (${detail})`,
		'Open the file in Excel or LibreOffice and save it again as .xlsx.',
	);

const MIB = 1024 * 1024;
const mib = (bytes: number) =>
	bytes < MIB ? `${Math.ceil(bytes / 1024)} KiB` : `${(bytes / MIB).toFixed(1)} MiB`;

/** Reads the zip central directory: the entries and their declared sizes, without inflating anything. */
export function readZipDirectory(file: Buffer): ZipEntry[] {
	try {
		return readDirectory(file);
	} catch (error) {
		// A field that points past the end of the file.
		if (error instanceof RangeError) throw corrupt('a header points past the end of the file');
		throw error;
	}
}

function readDirectory(file: Buffer): ZipEntry[] {
	const eocd = findEndOfCentralDirectory(file);
	let entryCount = file.readUInt16LE(eocd + 10);
	let directoryOffset = file.readUInt32LE(eocd + 16);
	if (entryCount === 0xffff || directoryOffset === 0xffffffff) {
		const locator = eocd - 20;
		if (locator < 0 || file.readUInt32LE(locator) !== ZIP64_LOCATOR_SIGNATURE)
			throw corrupt('missing zip64 locator');
		const record = Number(file.readBigUInt64LE(locator + 8));
		if (record + 56 > file.length || file.readUInt32LE(record) !== ZIP64_EOCD_SIGNATURE)
			throw corrupt('bad zip64 record');
		entryCount = Number(file.readBigUInt64LE(record + 32));
		directoryOffset = Number(file.readBigUInt64LE(record + 48));
	}
	if (entryCount > MAX_ENTRIES) throw corrupt(`${entryCount} entries`);

	const entries: ZipEntry[] = [];
	let at = directoryOffset;
	for (let i = 0; i < entryCount; i++) {
		if (at + 46 > file.length || file.readUInt32LE(at) !== CENTRAL_SIGNATURE)
			throw corrupt('bad central directory');
		const nameLength = file.readUInt16LE(at + 28);
		const extraLength = file.readUInt16LE(at + 30);
		const commentLength = file.readUInt16LE(at + 32);
		const entry: ZipEntry = {
			name: file.toString('utf8', at + 46, at + 46 + nameLength),
			method: file.readUInt16LE(at + 10),
			compressedSize: file.readUInt32LE(at + 20),
			uncompressedSize: file.readUInt32LE(at + 24),
			localHeaderOffset: file.readUInt32LE(at + 42),
		};
		applyZip64Extra(entry, file.subarray(at + 46 + nameLength, at + 46 + nameLength + extraLength));
		entries.push(entry);
		at += 46 + nameLength + extraLength + commentLength;
	}
	return entries;
}

function findEndOfCentralDirectory(file: Buffer): number {
	// The record is 22 bytes plus a comment of at most 65,535 bytes, at the very end.
	for (let at = file.length - 22; at >= Math.max(0, file.length - 22 - 0xffff); at--) {
		if (file.readUInt32LE(at) === EOCD_SIGNATURE) return at;
	}
	throw corrupt('no end-of-directory record; the file may be cut short');
}

/** Sizes of 0xFFFFFFFF mean "see the zip64 extra field", which lists only the fields that overflowed. */
function applyZip64Extra(entry: ZipEntry, extra: Buffer): void {
	for (let at = 0; at + 4 <= extra.length;) {
		const id = extra.readUInt16LE(at);
		const size = extra.readUInt16LE(at + 2);
		if (id === ZIP64_EXTRA_ID) {
			let field = at + 4;
			for (const key of ['uncompressedSize', 'compressedSize', 'localHeaderOffset'] as const) {
				if (entry[key] !== 0xffffffff) continue;
				if (field + 8 > at + 4 + size) throw corrupt('short zip64 field');
				entry[key] = Number(extra.readBigUInt64LE(field));
				field += 8;
			}
		}
		at += 4 + size;
	}
}

/** Refuses a file whose entries declare more than the limits allow. */
export function checkDeclaredSizes(entries: ZipEntry[], limits: UnpackLimits): void {
	const fix =
		'Check that this is the spreadsheet you meant to import. For a genuinely large list, raise Max Unpacked Size (MB) in the options, or split the file.';
	let total = 0;
	for (const entry of entries) {
		if (entry.method !== STORED && entry.method !== DEFLATED)
			throw corrupt(`entry ${entry.name} uses compression method ${entry.method}`);
		total += entry.uncompressedSize;
		if (entry.uncompressedSize > limits.maxEntryBytes) {
			throw new CouponError(
				'FILE_TOO_LARGE',
				`The file is refused: its part ${entry.name} unpacks to ${mib(entry.uncompressedSize)}, over the limit of ${mib(limits.maxEntryBytes)}`,
				fix,
			);
		}
		const ratio = entry.uncompressedSize / Math.max(entry.compressedSize, 1);
		if (entry.uncompressedSize > RATIO_FLOOR && ratio > limits.maxRatio) {
			throw new CouponError(
				'FILE_TOO_LARGE',
				`The file is refused as a possible zip bomb: its part ${entry.name} unpacks ${Math.round(ratio)} times larger than it is packed (${mib(entry.compressedSize)} to ${mib(entry.uncompressedSize)}); the limit is ${limits.maxRatio} times`,
				fix,
			);
		}
	}
	if (total > limits.maxTotalBytes) {
		throw new CouponError(
			'FILE_TOO_LARGE',
			`The file is refused: it unpacks to ${mib(total)}, over the limit of ${mib(limits.maxTotalBytes)}`,
			fix,
		);
	}
}

export interface UnpackedEntry {
	name: string;
	data: Buffer;
}

/**
 * Unpacks every file entry, each capped at the size the directory declared (and checkDeclaredSizes
 * accepted). The spreadsheet parser is then given these bytes, never the zip itself: it would trust
 * the local headers and inflate without any limit, so a header that lies would get a bomb past.
 */
export function unpackEntries(file: Buffer, entries: ZipEntry[]): UnpackedEntry[] {
	return entries
		.filter((entry) => !entry.name.endsWith('/'))
		.map((entry) => {
			const packed = packedData(file, entry);
			return {
				name: entry.name,
				data: entry.method === STORED ? packed : inflateCapped(packed, entry),
			};
		});
}

function packedData(file: Buffer, entry: ZipEntry): Buffer {
	const at = entry.localHeaderOffset;
	if (at + 30 > file.length || file.readUInt32LE(at) !== LOCAL_SIGNATURE)
		throw corrupt(`bad local header for ${entry.name}`);
	if (file.readUInt16LE(at + 8) !== entry.method)
		throw corrupt(`the headers of ${entry.name} disagree on its compression`);
	const dataStart = at + 30 + file.readUInt16LE(at + 26) + file.readUInt16LE(at + 28);
	const packed = file.subarray(dataStart, dataStart + entry.compressedSize);
	if (packed.length !== entry.compressedSize) throw corrupt(`${entry.name} is cut short`);
	if (entry.method === STORED && entry.compressedSize !== entry.uncompressedSize)
		throw corrupt(`${entry.name} has inconsistent sizes`);
	return packed;
}

/**
 * An entry unpacked piece by piece, for a reader that keeps only part of it; it may stop early.
 * Capped at the size the directory declared, as `unpackEntries` is.
 */
export async function* unpackPieces(
	file: Buffer,
	entry: ZipEntry,
	pieceBytes = 1024 * 1024,
): AsyncGenerator<Buffer> {
	const packed = packedData(file, entry);
	if (entry.method === STORED) {
		for (let at = 0; at < packed.length; at += pieceBytes)
			yield packed.subarray(at, at + pieceBytes);
		return;
	}
	const inflater = createInflateRaw({ chunkSize: pieceBytes });
	inflater.end(packed);
	let total = 0;
	try {
		for await (const piece of inflater as AsyncIterable<Buffer>) {
			total += piece.length;
			if (total > entry.uncompressedSize) throw lyingSize(entry);
			yield piece;
		}
	} catch (error) {
		if (error instanceof CouponError) throw error;
		throw corrupt(`${entry.name}: ${(error as Error).message}`);
	} finally {
		inflater.destroy();
	}
}

function inflateCapped(packed: Buffer, entry: ZipEntry): Buffer {
	try {
		// One byte of slack tells "exactly the declared size" from "more than declared".
		const data = inflateRawSync(packed, { maxOutputLength: entry.uncompressedSize + 1 });
		if (data.length <= entry.uncompressedSize) return data;
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code !== 'ERR_BUFFER_TOO_LARGE')
			throw corrupt(`${entry.name}: ${(error as Error).message}`);
	}
	throw lyingSize(entry);
}

const lyingSize = (entry: ZipEntry) =>
	new CouponError(
		'FILE_TOO_LARGE',
		`The file is refused as a possible zip bomb: its part ${entry.name} unpacks to more than the ${mib(entry.uncompressedSize)} its header declares`,
		'Open the file in Excel or LibreOffice and save it again as .xlsx.',
	);
