import {
	NodeHelpers,
	type IDataObject,
	type INodeParameters,
	type INodeTypeDescription,
} from 'n8n-workflow';
import { ContactCoupon } from '../../nodes/ContactCoupon/ContactCoupon.node';
import { CouponImport } from '../../nodes/CouponImport/CouponImport.node';
import { operations } from '../../nodes/ContactCoupon/actions/operations';
import { jsonItems, mockExecuteFunctions } from '../helpers/executeFunctions';
import { importFileInto, T0 } from '../helpers/contactCouponRuns';
import { xlsx } from '../helpers/spreadsheets';

const node = new ContactCoupon().description;
/** Contact Coupon Tool as n8n makes it of a node that is `usableAsTool` (its type ends in Tool). */
const tool: INodeTypeDescription = { ...node, name: `${node.name}Tool` };

/** The parameters n8n reads for a saved node of this type (defaults filled in, hidden ones left out). */
const parametersOf = (description: INodeTypeDescription, saved: INodeParameters) =>
	NodeHelpers.getNodeParameters(
		description.properties,
		saved,
		true,
		false,
		{ typeVersion: 3 },
		description,
	)!;

describe('Contact Coupon as an AI agent tool', () => {
	it('is offered as a tool; Coupon Import, which needs a file, is not', () => {
		expect(node.usableAsTool).toBe(true);
		expect(new CouponImport().description.usableAsTool).toBeUndefined();
	});

	it('describes each operation to the model in its own words, and only as a tool', () => {
		const descriptions = operations.map(({ value }) => {
			expect(parametersOf(node, { operation: value }).toolDescription).toBeUndefined();
			return parametersOf(tool, { operation: value }).toolDescription;
		});
		expect(descriptions).toEqual(operations.map((operation) => operation.toolDescription));
		expect(new Set(descriptions).size).toBe(operations.length);
		// The user's own words stay.
		expect(
			parametersOf(tool, { operation: 'redeem', toolDescription: 'Redeem at our shop' })
				.toolDescription,
		).toBe('Redeem at our shop');
	});

	it('lets the model supply the contact and the code by default, and only as a tool', () => {
		expect(parametersOf(node, { operation: 'generate' }).contact).toBe('={{ $json.email }}');
		expect(parametersOf(tool, { operation: 'generate' }).contact).toMatch(
			/^=\{\{ \$fromAI\('contact', /,
		);
		expect(parametersOf(node, { operation: 'validate' }).code).toBe('');
		expect(parametersOf(tool, { operation: 'validate' }).code).toMatch(/^=\{\{ \$fromAI\('code', /);
		// A value the user set is theirs, tool or not.
		const own = { operation: 'generate', contact: '={{ $json.body.email }}' };
		expect(parametersOf(tool, own).contact).toBe(own.contact);
		expect(parametersOf(node, own).contact).toBe(own.contact);
	});

	describe('a run as a tool', () => {
		let staticData: IDataObject;
		beforeEach(() => {
			staticData = {};
			jest.useFakeTimers({ now: T0 });
		});
		afterEach(() => jest.useRealTimers());

		it("answers on its one output with the operation's result alone, No Coupon items included", async () => {
			await importFileInto(
				staticData,
				xlsx({
					S: [
						['coupon name', 'coupon value'],
						['SPRING10', 'SPR-1'],
					],
				}),
			);
			const emails = ['ann@x.com', 'bob@x.com'];
			const mock = mockExecuteFunctions({
				type: 'n8n-nodes-coupons.contactCouponTool',
				// n8n hands a tool the agent's input with the model's arguments: a webhook's headers too.
				items: jsonItems({ headers: { 'x-shop-key': 'secret' }, toolCallId: 'call_1' }),
				staticData,
				parameters: {
					operation: 'generate',
					storage: 'staticData',
					couponName: 'SPRING10',
					length: 8,
					validDays: 30,
					contact: () => emails.shift(),
					ifNoCoupon: 'noCouponOutput',
					options: {},
				},
			});
			const context = mock.context;
			const first = await new ContactCoupon().execute.call(context);
			expect(first).toEqual([
				[{ json: { coupon: expect.objectContaining({ code: 'SPR-1' }) }, pairedItem: { item: 0 } }],
			]);
			// The list is used up: the model reads why, on the same output.
			const second = await new ContactCoupon().execute.call(context);
			expect(second).toEqual([
				[
					{
						json: { noCoupon: expect.objectContaining({ reason: 'exhausted' }) },
						pairedItem: { item: 0 },
					},
				],
			]);
		});

		it('fails an item under Continue on Fail without the input either', async () => {
			const mock = mockExecuteFunctions({
				type: 'n8n-nodes-coupons.contactCouponTool',
				items: jsonItems({ headers: { 'x-shop-key': 'secret' } }),
				staticData,
				onError: 'continueRegularOutput',
				parameters: { operation: 'validate', storage: 'staticData', code: ' ', options: {} },
			});
			const [[failed]] = await new ContactCoupon().execute.call(mock.context);
			expect(failed.json).toEqual({
				error: 'The code is empty',
				errorCode: expect.any(String),
				errorDescription: expect.any(String),
			});
		});
	});
});
