// The check character's catch rate (run by `npm run bench`, after the build): for each character
// set, how many mistyped codes of each kind Validate Code answers as a typo. Prints, asserts nothing.
const { randomInt } = require('node:crypto');
const { CHARACTER_SETS, codeKey } = require('../dist/nodes/shared/core/codes/codes');
const { checkAgainstFormat, generateCode } = require('../dist/nodes/shared/core/codes/codeFormat');

const CODES = 20_000;
const LENGTH = 10;

const other = (characters, c) => {
	for (;;) {
		const pick = characters[randomInt(characters.length)];
		if (pick !== c) return pick;
	}
};

/** Each kind of mistake: the key typed instead, or undefined when the code does not allow it. */
const MISTAKES = {
	'one character wrong': (key, set) => {
		const at = randomInt(key.length);
		return key.slice(0, at) + other(set, key[at]) + key.slice(at + 1);
	},
	'two neighbours swapped': (key) => {
		const at = randomInt(key.length - 1);
		if (key[at] === key[at + 1]) return undefined;
		return key.slice(0, at) + key[at + 1] + key[at] + key.slice(at + 2);
	},
	'two apart swapped (abc -> cba)': (key) => {
		const at = randomInt(key.length - 2);
		if (key[at] === key[at + 2]) return undefined;
		return key.slice(0, at) + key[at + 2] + key[at + 1] + key[at] + key.slice(at + 3);
	},
	'twin mistyped (aa -> bb)': (key, set) => {
		const at = randomInt(key.length - 1);
		if (key[at] !== key[at + 1]) return undefined;
		const b = other(set, key[at]);
		return key.slice(0, at) + b + b + key.slice(at + 2);
	},
	'two characters wrong': (key, set) => {
		const a = randomInt(key.length);
		let b = randomInt(key.length - 1);
		if (b >= a) b++;
		const chars = [...key];
		chars[a] = other(set, chars[a]);
		chars[b] = other(set, chars[b]);
		return chars.join('');
	},
};

console.log(
	`Check character: mistyped codes of ${LENGTH} random characters + 1 check that Validate Code answers "typo" (${CODES.toLocaleString('en-US')} codes per set and mistake)`,
);
for (const [name, characters] of CHARACTER_SETS) {
	const format = { characters, length: LENGTH, prefix: '', checkCharacter: true };
	const keys = [...characters].map(codeKey);
	const rates = Object.entries(MISTAKES).map(([label, mistake]) => {
		let tried = 0;
		let caught = 0;
		while (tried < CODES) {
			const typed = mistake(codeKey(generateCode(format)), keys);
			if (typed === undefined) continue;
			tried++;
			if (checkAgainstFormat(typed, format) === 'typo') caught++;
		}
		return `${label} ${((100 * caught) / tried).toFixed(2)}%`;
	});
	console.log(`  ${name} (${characters.length} characters): ${rates.join(' | ')}`);
}
