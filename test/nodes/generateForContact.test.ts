import { type IDataObject, type INodeExecutionData } from 'n8n-workflow';
import { ContactCoupon } from '../../nodes/ContactCoupon/ContactCoupon.node';
import { DAY_MS } from '../../nodes/shared/core/common/validity';
import {
	jsonItems,
	mockExecuteFunctions,
	nodeFailure,
	type MockOptions,
} from '../helpers/executeFunctions';
import { importFileInto } from '../helpers/contactCouponRuns';
import { xlsx } from '../helpers/spreadsheets';

const T0 = Date.UTC(2026, 3, 10, 8, 0, 0);
const baseParameters = {
	operation: 'generate',
	storage: 'staticData',
	couponName: 'WELCOME10',
	length: 8,
	validDays: 30,
	contact: (i: number) => contacts[i],
	options: {},
};
let contacts: unknown[] = [];

async function generate(
	staticData: IDataObject,
	people: unknown[],
	overrides: Partial<MockOptions> & { parameters?: Record<string, unknown> } = {},
) {
	contacts = people;
	const mock = mockExecuteFunctions({
		items: jsonItems(...people.map((email, i) => ({ email: email as string, n: i }))),
		staticData,
		...overrides,
		parameters: { ...baseParameters, ...overrides.parameters },
	});
	const [output] = await new ContactCoupon().execute.call(mock.context);
	return { output, hints: mock.hints };
}

const importList = async (staticData: IDataObject, rows: unknown[][]) =>
	await importFileInto(staticData, xlsx({ Sheet1: rows }));

const coupon = (item: INodeExecutionData) => item.json.coupon as IDataObject;

describe('Contact Coupon: Generate for Contact', () => {
	let staticData: IDataObject;
	beforeEach(() => {
		staticData = {};
		jest.useFakeTimers({ now: T0 });
	});
	afterEach(() => jest.useRealTimers());

	it('adds a generated coupon to each item, keeping its data, with pairedItem', async () => {
		const { output } = await generate(staticData, ['ann@example.com', 'bob@example.com']);
		expect(output).toHaveLength(2);
		output.forEach((item, i) => {
			expect(item.pairedItem).toEqual({ item: i });
			expect(item.json).toMatchObject({ email: contacts[i], n: i });
			expect(coupon(item)).toEqual({
				name: 'WELCOME10',
				code: expect.stringMatching(/^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{8}$/),
				contact: contacts[i],
				details: {},
				assignedAt: '2026-04-10T08:00:00.000Z',
				validUntil: '2026-05-10T08:00:00.000Z',
				source: 'generated',
				reused: false,
			});
		});
		expect(coupon(output[0]).code).not.toBe(coupon(output[1]).code);
	});

	it('assigns random unused values from an imported list in the same workflow, ignoring Length with a hint', async () => {
		await importList(staticData, [
			['coupon name', 'coupon value', 'token'],
			...['0001', '0002', '0003', '0004'].map((v) => ['welcome10', v, 'tok']),
		]);
		const { output, hints } = await generate(staticData, ['a', 'b', 'c', 'd'], {
			parameters: { length: 20 },
		});
		expect(output.map((item) => coupon(item).code).sort()).toEqual([
			'0001',
			'0002',
			'0003',
			'0004',
		]);
		expect(output.every((item) => coupon(item).source === 'imported')).toBe(true);
		expect(hints.map((h) => h.message)).toContain(
			'Coupon "welcome10" is an imported list, so its own values were assigned; Length and the code options were ignored.',
		);
	});

	it('gives a returning contact the same active coupon in a later execution', async () => {
		const first = await generate(staticData, ['Ann@Example.com']);
		jest.setSystemTime(T0 + 5 * DAY_MS);
		const again = await generate(JSON.parse(JSON.stringify(staticData)) as IDataObject, [
			' ann@example.COM ',
		]);
		expect(coupon(again.output[0])).toMatchObject({
			code: coupon(first.output[0]).code,
			reused: true,
			assignedAt: '2026-04-10T08:00:00.000Z',
		});
		// The contact as stored, whatever spelling each run's item had.
		expect(coupon(first.output[0]).contact).toBe('ann@example.com');
		expect(coupon(again.output[0]).contact).toBe('ann@example.com');
	});

	it('never outputs a coupon past validUntil: the contact then gets a new one', async () => {
		const first = await generate(staticData, ['ann'], { parameters: { validDays: 1 } });
		jest.setSystemTime(T0 + DAY_MS);
		const later = await generate(staticData, ['ann'], { parameters: { validDays: 1 } });
		expect(coupon(later.output[0]).code).not.toBe(coupon(first.output[0]).code);
		expect(coupon(later.output[0]).validUntil).toBe(new Date(T0 + 2 * DAY_MS).toISOString());
	});

	it.each(['replace', 'issueAnother'])(
		'with "%s" a contact who holds a coupon gets a new one',
		async (activeCoupon) => {
			const first = await generate(staticData, ['ann']);
			const second = await generate(staticData, ['ann'], {
				parameters: { options: { activeCoupon } },
			});
			expect(coupon(second.output[0])).toMatchObject({ reused: false });
			expect(coupon(second.output[0]).code).not.toBe(coupon(first.output[0]).code);
		},
	);

	it('uses the character set and prefix options', async () => {
		const { output } = await generate(staticData, ['ann'], {
			parameters: { length: 12, options: { characters: 'digits', prefix: 'VIP-' } },
		});
		expect(coupon(output[0]).code).toMatch(/^VIP-\d{12}$/);
	});

	describe('an exhausted imported list', () => {
		beforeEach(
			async () =>
				await importList(staticData, [
					['coupon name', 'coupon value'],
					['WELCOME10', 'ONLY1'],
				]),
		);

		it('fails the execution naming the coupon and its counts, and consumes no code', async () => {
			const before = JSON.stringify(staticData);
			const error = await nodeFailure(generate(staticData, ['a', 'b']));
			expect(error.message).toBe(
				'Coupon "WELCOME10" has no unused codes left: 1 assigned (1 active, 0 expired, 0 redeemed, 0 replaced), 0 available',
			);
			expect(error.context.itemIndex).toBe(1);
			// The whole execution failed, so item 0's assignment was rolled back too.
			expect(JSON.stringify(staticData)).toBe(before);
		});

		it('with Continue on Fail, puts the error on that item and serves the others', async () => {
			const { output } = await generate(staticData, ['a', 'b', 'c'], { continueOnFail: true });
			expect(coupon(output[0]).code).toBe('ONLY1');
			for (const i of [1, 2]) {
				expect(output[i].json).toMatchObject({
					email: contacts[i],
					error: expect.stringContaining('has no unused codes left'),
				});
				expect(output[i].json.coupon).toBeUndefined();
				expect(output[i].pairedItem).toEqual({ item: i });
			}
			const retry = await generate(staticData, ['a']);
			expect(coupon(retry.output[0])).toMatchObject({ code: 'ONLY1', reused: true });
		});
	});

	it.each([
		['an empty Name', { couponName: '  ' }, 'The coupon name is empty'],
		[
			'Valid (Days) of 0',
			{ validDays: 0 },
			'Valid (Days) must be a whole number from 1 to 3650; got 0',
		],
		[
			'a fractional Valid (Days)',
			{ validDays: 2.5 },
			'Valid (Days) must be a whole number from 1 to 3650; got 2.5',
		],
		['a Length of 0', { length: 0 }, 'Length must be a whole number from 1 to 64; got 0'],
		[
			'a Length of "0x10"',
			{ length: '0x10' },
			'Length must be a whole number from 1 to 64; got "0x10"',
		],
	])('refuses %s with the item index and how to fix it', async (_label, parameters, message) => {
		const error = await nodeFailure(generate(staticData, ['ann'], { parameters }));
		expect(error.message).toBe(message);
		expect(error.context.itemIndex).toBe(0);
		expect(error.description).toBeTruthy();
		expect(staticData).toEqual({});
	});

	it('refuses an item without a contact, naming the item; with Continue on Fail the others go on', async () => {
		const error = await nodeFailure(generate(staticData, ['ann', '', 'bob']));
		expect(error.message).toBe('The contact is empty');
		expect(error.context.itemIndex).toBe(1);
		expect(error.description).toMatch(/\{\{ \$json\.email \}\}/);

		const { output } = await generate(staticData, ['ann', undefined, 'bob'], {
			continueOnFail: true,
		});
		expect(output.map((item) => (item.json.error ? 'error' : coupon(item).contact))).toEqual([
			'ann',
			'error',
			'bob',
		]);
	});

	it('refuses a Length the editor took, naming the minimum for the chosen characters', async () => {
		// The editor used to raise 3 to 4 silently, then the rule asked for 5.
		const error = await nodeFailure(generate(staticData, ['ann'], { parameters: { length: 3 } }));
		expect(error.message).toBe(
			'Length 3 is too short for coupon "WELCOME10": with 1 code, a random guess could match one of them about 1 in 29,791 tries',
		);
		expect(error.description).toMatch(/^Set Length to 5 or more \(31 possible characters\)/);
		const [item] = (await generate(staticData, ['ann'], { parameters: { length: '6' } })).output;
		expect(coupon(item).code).toMatch(/^[2-9A-Z]{6}$/);
	});

	it('refuses a length too short for the coupon, saying which length to enter', async () => {
		const error = await nodeFailure(
			generate(staticData, ['ann', 'bob'], {
				parameters: { length: 6, options: { characters: 'digits' } },
			}),
		);
		expect(error.message).toMatch(/^Length 6 is too short for coupon "WELCOME10"/);
		expect(error.description).toMatch(/Set Length to 7 or more/);
	});

	it('with Continue on Fail, a refused length leaves no coupon behind that would block a later import', async () => {
		const { output } = await generate(staticData, ['ann'], {
			continueOnFail: true,
			parameters: { couponName: 'SPRING', length: 4 },
		});
		expect(output[0].json.error).toMatch(/Length 4 is too short/);
		const [summary] = await importList(staticData, [
			['coupon name', 'coupon value'],
			['SPRING', 'S1'],
		]);
		expect(summary.json).toMatchObject({ couponName: 'SPRING', added: 1 });
	});

	it('tells the user that a test run from the editor saves nothing, and that the name had no list', async () => {
		const manual = await generate(staticData, ['ann'], { mode: 'manual' });
		expect(manual.hints.map((h) => h.message)).toEqual([
			'Test run on workflow static data, which n8n does not save for runs started from the editor: these coupons were not stored and the same codes can be assigned again. Publish the workflow so that its trigger runs it (those runs are saved), or choose the Local storage, which keeps coupons in test runs too.',
			`No coupon was named "WELCOME10" in this workflow's static data, so a generated coupon of that name was created. To assign values from a list instead, import it under this name first (Coupon Import, same storage).`,
		]);
		// A production run is saved; the coupon exists now, so a second run has nothing to say.
		const production = await generate(staticData, ['bob'], { mode: 'webhook' });
		expect(production.hints).toEqual([]);
	});

	it('says Length was ignored for an imported list only when Length or a code option was set', async () => {
		await importList(staticData, [
			['coupon name', 'coupon value'],
			...['0001', '0002', '0003'].map((v) => ['WELCOME10', v]),
		]);
		expect((await generate(staticData, ['a'])).hints).toEqual([]);
		const prefixed = await generate(staticData, ['b'], {
			parameters: { options: { prefix: 'W-' } },
		});
		expect(prefixed.hints.map((h) => h.message)).toEqual([
			'Coupon "WELCOME10" is an imported list, so its own values were assigned; Length and the code options were ignored.',
		]);
	});

	it('passes binary data through', async () => {
		contacts = ['ann'];
		const mock = mockExecuteFunctions({
			items: [
				{
					json: { email: 'ann' },
					binary: { attachment: { data: 'aGk=', mimeType: 'text/plain' } },
				},
			],
			staticData,
			parameters: baseParameters,
		});
		const [[item]] = await new ContactCoupon().execute.call(mock.context);
		expect(item.binary).toEqual({ attachment: { data: 'aGk=', mimeType: 'text/plain' } });
	});

	it("sets the coupon's details from Coupon Details, replacing them when they change, and refuses nested ones", async () => {
		const staticData: IDataObject = {};
		const withDetails = async (people: string[], couponDetails: unknown) =>
			await generate(staticData, people, {
				parameters: { options: { couponDetails } },
			});
		const first = await withDetails(['ann'], '{ "discount": "10%", "minimumOrder": 50 }');
		expect(coupon(first.output[0]).details).toEqual({ discount: '10%', minimumOrder: 50 });
		// Reused, and the coupon's details replaced for every code, old and new.
		const second = await withDetails(['ann', 'bob'], { discount: '15%' });
		expect(second.output.map((item) => [coupon(item).reused, coupon(item).details])).toEqual([
			[true, { discount: '15%' }],
			[false, { discount: '15%' }],
		]);
		// Left empty, the option changes nothing.
		const third = await withDetails(['cy'], '{}');
		expect(coupon(third.output[0]).details).toEqual({ discount: '15%' });
		const nested = await nodeFailure(withDetails(['dan'], '{ "tiers": { "gold": 1 } }'));
		expect(nested.message).toBe(
			'Coupon Details: detail "tiers" is an object; details are flat: text, numbers, true/false or null',
		);
		expect(nested.description).toMatch(/flat JSON object/);
		const broken = await nodeFailure(withDetails(['dan'], '{ "discount": '));
		expect(broken.message).toBe('Coupon Details: the text is not JSON');
	});
});
