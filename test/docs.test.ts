import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const root = join(__dirname, '..');
const pages = [
	'README.md',
	'CHANGELOG.md',
	'examples/README.md',
	...readdirSync(join(root, 'docs'))
		.filter((file) => file.endsWith('.md'))
		.map((file) => `docs/${file}`),
];

/** The text of a page without its code blocks, where brackets are code, not links. */
const prose = (page: string) =>
	readFileSync(join(root, page), 'utf8').replace(/^```[^\n]*\n[\s\S]*?^```$/gm, '');

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens. */
const anchorOf = (heading: string) =>
	heading
		.trim()
		.toLowerCase()
		.replace(/[^\p{L}\p{N}\- _]/gu, '')
		.replace(/ /g, '-');

const anchorsOf = (page: string) =>
	new Set([...prose(page).matchAll(/^#{1,6} (.+)$/gm)].map((match) => anchorOf(match[1])));

describe('the documentation', () => {
	it('has no link that leads nowhere: every file exists and every #anchor is a heading there', () => {
		const broken: string[] = [];
		for (const page of pages) {
			for (const [, target] of prose(page).matchAll(/\]\(([^)\s]+)\)/g)) {
				if (/^[a-z]+:/.test(target)) continue;
				const [path, anchor] = target.split('#');
				const file = path === '' ? page : relative(root, join(root, dirname(page), path));
				if (!existsSync(join(root, file))) broken.push(`${page}: ${target} (no file ${file})`);
				else if (anchor !== undefined && !anchorsOf(file).has(anchor))
					broken.push(`${page}: ${target} (no heading #${anchor} in ${file})`);
			}
		}
		expect(broken).toEqual([]);
	});

	it('keeps the README to what a newcomer reads in five minutes (under 300 lines)', () => {
		expect(readFileSync(join(root, 'README.md'), 'utf8').split('\n').length).toBeLessThan(300);
	});
});
