import {
	fillTemplate,
	MAX_LISTED_UNRESOLVED,
	parseTemplate,
} from '../../nodes/shared/core/render/placeholders';
import { HEAVY_TEST_MS } from '../helpers/timeouts';

describe('parseTemplate', () => {
	it(
		'lists the first unresolved placeholders of a huge template and counts the rest',
		() => {
			// 10 MB of distinct broken placeholders once made 234 MB of output.
			const broken = Array.from({ length: 400_000 }, (_, i) => `$cst.x${i} `).join('');
			const { unresolved } = parseTemplate(broken.slice(0, 10 * 1024 * 1024));
			expect(unresolved.list).toHaveLength(MAX_LISTED_UNRESOLVED);
			expect(unresolved.notListed).toBe(400_000 - MAX_LISTED_UNRESOLVED);
			expect(unresolved.firstBlocking?.placeholder).toBe('$cst.x0 $cst.x1 $cst.x2 $cst.x');
		},
		HEAVY_TEST_MS,
	);

	it('finds coupon placeholders with their names, in any case, and fills them in one pass', () => {
		const template =
			'<a href="https://shop.example/?c=$cst.Spring Sale.coupon$">$CST. spring sale .COUPON$</a> costs $5';
		const {
			placeholders,
			unresolved: { list: unresolved },
		} = parseTemplate(template);
		expect(placeholders.map((p) => [p.text, p.name, p.nameKey])).toEqual([
			['$cst.Spring Sale.coupon$', 'Spring Sale', 'spring sale'],
			['$CST. spring sale .COUPON$', 'spring sale', 'spring sale'],
		]);
		expect(unresolved).toEqual([]);
		expect(fillTemplate(template, placeholders, () => 'X-1')).toBe(
			'<a href="https://shop.example/?c=X-1">X-1</a> costs $5',
		);
		expect(
			fillTemplate(template, placeholders, (p) =>
				p.start === 0 ? undefined : p.name === 'Spring Sale' ? 'A' : undefined,
			),
		).toBe(template.replace('$cst.Spring Sale.coupon$', 'A'));
	});

	it('reports what cannot be a coupon placeholder, each distinct one once', () => {
		const name101 = 'N'.repeat(101);
		const {
			placeholders,
			unresolved: { list: unresolved },
		} = parseTemplate(
			`$cst.firstname$ $cst.firstname$ $cst..coupon$ $cst.${name101}.coupon$ $cst.a\tb.coupon$ $cst.open`,
		);
		expect(placeholders).toEqual([]);
		expect(unresolved.map((u) => u.problem)).toEqual([
			'not_a_coupon',
			'invalid_name',
			'invalid_name',
			'invalid_name',
			'malformed',
		]);
		expect(unresolved[1].message).toBe(
			'$cst..coupon$ cannot name a coupon: The coupon name is empty',
		);
		expect(unresolved[2].message).toMatch(/101 characters long; the limit is 100/);
		expect(unresolved[3].message).toMatch(/contains a tab/);
		expect(unresolved[4]).toEqual({
			placeholder: '$cst.open',
			problem: 'malformed',
			message: expect.stringContaining('does not end like one'),
		});
	});

	it('reads names written for HTML, two placeholders sharing a $, and refuses markup inside a name', () => {
		const {
			placeholders,
			unresolved: { list: unresolved },
		} = parseTemplate(
			'<p>$cst.M&amp;S&#33;.coupon$cst.A.coupon$ $cst.<b>SPRING</b>.coupon$ $cst.x&bogus;.coupon$</p>',
		);
		expect(placeholders.map((p) => [p.text, p.name])).toEqual([
			['$cst.M&amp;S&#33;.coupon$', 'M&S!'],
			['$cst.A.coupon$', 'A'],
			['$cst.x&bogus;.coupon$', 'x&bogus;'],
		]);
		expect(unresolved).toEqual([
			{
				placeholder: '$cst.<b>SPRING</b>.coupon$',
				problem: 'invalid_name',
				message: expect.stringContaining('has HTML markup (<b>) inside it'),
			},
		]);
	});

	it('never lets an unclosed placeholder swallow the next one', () => {
		const {
			placeholders,
			unresolved: { list: unresolved },
		} = parseTemplate('Use $cst.SPRING.coupon today, or $cst.VIP.coupon$ ($cst.a b$) for $10');
		expect(placeholders.map((p) => p.name)).toEqual(['VIP']);
		expect(unresolved.map((u) => [u.placeholder, u.problem])).toEqual([
			['$cst.SPRING.coupon today, or $', 'malformed'],
			['$cst.a b$) for $10', 'malformed'],
		]);
	});

	it(
		'fills a 4 MB template full of placeholders, unclosed $cst. starts and unclosed details (npm run bench times it)',
		() => {
			const chunk =
				'<p>Hello, your code: $cst.SPRING.coupon$ and $cst.no closing dollar ' +
				'x'.repeat(60) +
				// A detail part that never closes, after a name part that says .coupon again and again.
				` $cst.A${'.coupon'.repeat(15)}${'.y'.repeat(50)} ` +
				'</p>\n';
			const big = chunk.repeat(Math.ceil(4_000_000 / chunk.length));
			// A scan that went back over the text for each start would run for hours: past the timeout.
			const { placeholders } = parseTemplate(big);
			const text = fillTemplate(big, placeholders, () => 'CODE-1234');
			expect(placeholders).toHaveLength(Math.ceil(4_000_000 / chunk.length));
			expect(text.length).toBe(
				big.length - placeholders.length * ('$cst.SPRING.coupon$'.length - 'CODE-1234'.length),
			);
		},
		HEAVY_TEST_MS,
	);
});
