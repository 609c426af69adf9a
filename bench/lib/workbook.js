// Large coupon spreadsheets for the benchmark: one sheet, header "coupon name" / "coupon value",
// shared strings as Excel writes them.
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { workbookParts, zip } = require('../../test/helpers/xlsxParts');

const CACHE = path.join(__dirname, '..', '.cache');

// Codes look like real ones (10 random-looking characters), derived from the row so files are reproducible.
const ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
const codeOf = (i) => {
	const digest = createHash('sha256').update(String(i)).digest();
	let code = '';
	for (let k = 0; k < 10; k++) code += ALPHABET[digest[k] % ALPHABET.length];
	return code;
};

function build(rows, couponName) {
	const strings = ['coupon name', 'coupon value', couponName];
	const sheet = [
		'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>',
	];
	sheet.push('<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>');
	for (let i = 0; i < rows; i++) {
		const r = i + 2;
		strings.push(codeOf(i));
		sheet.push(
			`<row r="${r}"><c r="A${r}" t="s"><v>2</v></c><c r="B${r}" t="s"><v>${i + 3}</v></c></row>`,
		);
	}
	sheet.push('</sheetData></worksheet>');
	const shared = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="${rows * 2 + 2}" uniqueCount="${strings.length}">${strings.map((s) => `<si><t>${s}</t></si>`).join('')}</sst>`;
	return zip(workbookParts(Buffer.from(sheet.join('')), shared));
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
