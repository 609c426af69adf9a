import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { NodeApiError } from 'n8n-workflow';
import { ContactCoupon } from '../../nodes/ContactCoupon/ContactCoupon.node';
import { CouponImport } from '../../nodes/CouponImport/CouponImport.node';
import { ERROR_CODES } from '../../nodes/shared/core/common/errorCodes';
import {
	failureOf,
	fileItem,
	jsonItems,
	mockExecuteFunctions,
	nodeFailure,
	type MockOptions,
} from '../helpers/executeFunctions';
import { xlsx } from '../helpers/spreadsheets';

const root = join(__dirname, '..', '..');

/** Every TypeScript file under `folder`, as text. */
function sources(folder: string): string[] {
	return readdirSync(folder).flatMap((name) => {
		const path = join(folder, name);
		if (statSync(path).isDirectory()) return sources(path);
		return name.endsWith('.ts') ? [readFileSync(path, 'utf8')] : [];
	});
}

const generate = (parameters: Record<string, unknown>, options: Partial<MockOptions> = {}) =>
	mockExecuteFunctions({
		items: jsonItems({ email: 'ann@example.com' }),
		staticData: {},
		...options,
		parameters: {
			operation: 'generate',
			storage: 'staticData',
			couponName: 'WELCOME',
			contact: 'ann@example.com',
			length: 8,
			validDays: 30,
			options: {},
			...parameters,
		},
	});

describe('stable error codes', () => {
	it('are each documented in docs/errors.md, and each is given by some refusal', () => {
		const documented = [
			...readFileSync(join(root, 'docs', 'errors.md'), 'utf8').matchAll(/^\| `([A-Z_]+)` +\|/gm),
		].map((match) => match[1]);
		expect(documented).toEqual(Object.keys(ERROR_CODES));
		const code = sources(join(root, 'nodes'))
			.filter((text) => !text.includes('export const ERROR_CODES'))
			.join('\n');
		const unused = Object.keys(ERROR_CODES).filter((name) => !code.includes(`'${name}'`));
		expect(unused).toEqual([]);
	});

	it.each([
		['an empty coupon name', { couponName: '  ' }, 'NAME_INVALID'],
		['an empty contact', { contact: '' }, 'CONTACT_INVALID'],
		['Valid (Days) given as hexadecimal text', { validDays: '0x10' }, 'NUMBER_INVALID'],
		['a length too short for the codes', { length: 2 }, 'LENGTH_TOO_SHORT'],
		['an unknown character set', { options: { characters: 'toString' } }, 'CHOICE_UNKNOWN'],
		['a pattern without a placeholder', { options: { pattern: 'SPRING' } }, 'FORMAT_INVALID'],
		['details that are not an object', { options: { couponDetails: '[1]' } }, 'DETAILS_INVALID'],
	])(
		'name the problem of %s: in the thrown error, and in the item under either On Error',
		async (_, parameters, code) => {
			const thrown = await nodeFailure(
				new ContactCoupon().execute.call(generate(parameters).context),
			);
			expect(thrown.context.errorCode).toBe(code);

			const regular = generate(parameters, { onError: 'continueRegularOutput' });
			const [[item]] = await new ContactCoupon().execute.call(regular.context);
			expect(item.json).toMatchObject({ email: 'ann@example.com', errorCode: code });
			expect(item.json.error).toBe(thrown.message);

			const errorOutput = generate(parameters, { onError: 'continueErrorOutput' });
			const [[routed]] = await new ContactCoupon().execute.call(errorOutput.context);
			// Nothing but error and details, or n8n would not route the item to the error output.
			expect(routed.json).toEqual({
				error: thrown.message,
				details: { errorCode: code, fix: thrown.description },
			});
		},
	);

	it("writes refusals n8n's error popup shows whole: a placeholder in them is a real one, no <name> it would take for a tag", async () => {
		const thrown = await nodeFailure(
			new ContactCoupon().execute.call(generate({ couponName: 'SPRING$10' }).context),
		);
		expect(thrown.context.errorCode).toBe('NAME_INVALID');
		expect(thrown.message).toContain('$cst.SPRING10.coupon$');
		expect(`${thrown.message} ${thrown.description}`).not.toMatch(/<[a-z]/i);
	});

	it('names an operation the node does not have CHOICE_UNKNOWN', async () => {
		const thrown = await nodeFailure(
			new ContactCoupon().execute.call(generate({ operation: 'giveAway' }).context),
		);
		expect(thrown.context.errorCode).toBe('CHOICE_UNKNOWN');
		expect(thrown.message).toContain('"giveAway"');
	});

	it('names a list with no code left COUPON_EXHAUSTED, and an unreadable file FILE_NOT_SPREADSHEET', async () => {
		const staticData = {};
		const importing = mockExecuteFunctions({
			items: [
				fileItem(
					xlsx({
						Codes: [
							['coupon name', 'coupon value'],
							['ONE', 'ONE-1'],
						],
					}),
				),
			],
			staticData,
			parameters: {
				storage: 'staticData',
				binaryPropertyName: 'data',
				couponName: '',
				options: {},
			},
		});
		await new CouponImport().execute.call(importing.context);
		const twoContacts = mockExecuteFunctions({
			items: jsonItems({ email: 'a@x.com' }, { email: 'b@x.com' }),
			staticData,
			onError: 'continueRegularOutput',
			parameters: {
				operation: 'generate',
				storage: 'staticData',
				couponName: 'ONE',
				contact: (i: number) => ['a@x.com', 'b@x.com'][i],
				length: 8,
				validDays: 30,
				options: {},
			},
		});
		const [assigned] = await new ContactCoupon().execute.call(twoContacts.context);
		expect(assigned.map((item) => item.json.errorCode)).toEqual([undefined, 'COUPON_EXHAUSTED']);

		const notASheet = mockExecuteFunctions({
			items: [fileItem(Buffer.from([0, 1, 2, 3]))],
			staticData,
			parameters: {
				storage: 'staticData',
				binaryPropertyName: 'data',
				couponName: '',
				options: {},
			},
		});
		const thrown = await nodeFailure(new CouponImport().execute.call(notASheet.context));
		expect(thrown.context.errorCode).toBe('FILE_NOT_SPREADSHEET');
	});

	it('names damaged stored coupons STORE_DAMAGED, and a PostgreSQL server nobody answers at STORE_UNREACHABLE', async () => {
		const damaged = generate({}, { staticData: { n8nNodesCoupons: 'oops' } });
		const thrown = await nodeFailure(new ContactCoupon().execute.call(damaged.context));
		expect(thrown.context.errorCode).toBe('STORE_DAMAGED');

		const unreachable = generate(
			{ storage: 'database' },
			{
				credentials: {
					host: '127.0.0.1',
					port: 9,
					database: 'test',
					user: 'postgres',
					password: '',
					schema: 'coupons_nobody',
					ssl: 'disable',
					maxConnections: 2,
				},
			},
		);
		const failed = await failureOf(
			new ContactCoupon().execute.call(unreachable.context),
			NodeApiError,
		);
		expect(failed.context.errorCode).toBe('STORE_UNREACHABLE');
	}, 60_000);
});
