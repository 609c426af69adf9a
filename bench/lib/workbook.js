// Writes large coupon spreadsheets quickly (SheetJS's writer needs minutes and gigabytes at a
// million rows): one sheet, header "coupon name" / "coupon value", shared strings as Excel writes them.
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');

const CACHE = path.join(__dirname, '..', '.cache');

function zip(parts) {
	const locals = [];
	const centrals = [];
	let offset = 0;
	for (const { name, data } of parts) {
		const packed = zlib.deflateRawSync(data, { level: 6 });
		const nameBytes = Buffer.from(name);
		const local = Buffer.alloc(30);
		local.writeUInt32LE(0x04034b50, 0);
		local.writeUInt16LE(20, 4);
		local.writeUInt16LE(8, 8);
		local.writeUInt32LE(zlib.crc32(data), 14);
		local.writeUInt32LE(packed.length, 18);
		local.writeUInt32LE(data.length, 22);
		local.writeUInt16LE(nameBytes.length, 26);
		const central = Buffer.alloc(46);
		central.writeUInt32LE(0x02014b50, 0);
		central.writeUInt16LE(20, 4);
		central.writeUInt16LE(20, 6);
		central.writeUInt16LE(8, 10);
		central.writeUInt32LE(zlib.crc32(data), 16);
		central.writeUInt32LE(packed.length, 20);
		central.writeUInt32LE(data.length, 24);
		central.writeUInt16LE(nameBytes.length, 28);
		central.writeUInt32LE(offset, 42);
		locals.push(local, nameBytes, packed);
		centrals.push(central, nameBytes);
		offset += 30 + nameBytes.length + packed.length;
	}
	const directory = Buffer.concat(centrals);
	const end = Buffer.alloc(22);
	end.writeUInt32LE(0x06054b50, 0);
	end.writeUInt16LE(parts.length, 8);
	end.writeUInt16LE(parts.length, 10);
	end.writeUInt32LE(directory.length, 12);
	end.writeUInt32LE(offset, 16);
	return Buffer.concat([...locals, directory, end]);
}

// Codes look like real ones (10 random-looking characters), derived from the row so files are reproducible.
const ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
const codeOf = (i) => {
	const digest = require('node:crypto').createHash('sha256').update(String(i)).digest();
	let code = '';
	for (let k = 0; k < 10; k++) code += ALPHABET[digest[k] % ALPHABET.length];
	return code;
};

function build(rows, couponName) {
	const strings = ['coupon name', 'coupon value', couponName];
	const sheet = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'];
	sheet.push('<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>');
	for (let i = 0; i < rows; i++) {
		const r = i + 2;
		strings.push(codeOf(i));
		sheet.push(`<row r="${r}"><c r="A${r}" t="s"><v>2</v></c><c r="B${r}" t="s"><v>${i + 3}</v></c></row>`);
	}
	sheet.push('</sheetData></worksheet>');
	const shared = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="${rows * 2 + 2}" uniqueCount="${strings.length}">${strings.map((s) => `<si><t>${s}</t></si>`).join('')}</sst>`;
	const text = (name, xml) => ({ name, data: Buffer.from(xml) });
	return zip([
		text('[Content_Types].xml', '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'),
		text('_rels/.rels', '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
		text('xl/workbook.xml', '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Codes" sheetId="1" r:id="rId1"/></sheets></workbook>'),
		text('xl/_rels/workbook.xml.rels', '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>'),
		{ name: 'xl/worksheets/sheet1.xml', data: Buffer.from(sheet.join('')) },
		text('xl/sharedStrings.xml', shared),
	]);
}

/** The path of a cached workbook with `rows` codes for coupon `couponName`, built on first use. */
function workbook(rows, couponName = 'BENCH') {
	const file = path.join(CACHE, `coupons-v2-${couponName}-${rows}.xlsx`);
	if (!fs.existsSync(file)) {
		fs.mkdirSync(CACHE, { recursive: true });
		fs.writeFileSync(file, build(rows, couponName));
	}
	return file;
}

module.exports = { workbook, codeOf };
