import type { IDataObject } from 'n8n-workflow';
import { DAY_MS } from '../../nodes/shared/core/validity';
import { nodeFailure } from '../helpers/executeFunctions';
import { contactCouponRuns, iso, T0 } from '../helpers/contactCouponRuns';

describe('Contact Coupon', () => {
	const { runEach, perItem, generate } = contactCouponRuns();

	describe('Render Placeholders', () => {
		const html =
			'<h1>Hi!</h1><p>Spring: $cst.SPRING10.coupon$</p><p>Welcome: $cst.WELCOME.coupon$</p><p>$cst.firstname$</p>';

		it("renders each contact's coupons, assigning missing ones with the settings, and lists what it used", async () => {
			const [welcome] = await generate(['bob@example.com'], 'WELCOME');
			const { output } = await runEach(
				'render',
				[
					{ email: 'ann@example.com', html },
					{ email: 'bob@example.com', html },
				],
				{
					text: perItem('html'),
					contact: perItem('email'),
					whenMissing: 'assign',
					length: 10,
					validDays: 5,
					options: { prefix: 'W-' },
				},
			);
			const ann = output[0].json.rendered as {
				text: string;
				coupons: IDataObject[];
				unresolved: IDataObject[];
			};
			expect(ann.coupons.map((c) => [c.name, c.reused, c.validUntil])).toEqual([
				['SPRING10', false, iso(T0 + 5 * DAY_MS)],
				['WELCOME', false, iso(T0 + 5 * DAY_MS)],
			]);
			expect(ann.coupons[1].code).toMatch(/^W-[23456789A-Z]{10}$/);
			expect(ann.text).toBe(
				`<h1>Hi!</h1><p>Spring: ${ann.coupons[0].code}</p><p>Welcome: ${ann.coupons[1].code}</p><p>$cst.firstname$</p>`,
			);
			expect(ann.unresolved).toEqual([
				expect.objectContaining({ placeholder: '$cst.firstname$', problem: 'not_a_coupon' }),
			]);
			const bob = output[1].json.rendered as { text: string; coupons: IDataObject[] };
			expect(bob.coupons.find((c) => c.name === 'WELCOME')).toMatchObject({
				code: welcome,
				reused: true,
			});
			expect(output[1].json).toMatchObject({ email: 'bob@example.com', html });
		});

		it('never renders an expired coupon: with "leave" the placeholder stays, with "fail" the item fails', async () => {
			await generate(['ann@example.com'], 'WELCOME', 1);
			jest.setSystemTime(T0 + DAY_MS);
			const template = 'Code: $cst.WELCOME.coupon$';
			const left = await runEach('render', [{ email: 'ann@example.com' }], {
				text: template,
				contact: perItem('email'),
				whenMissing: 'leave',
			});
			expect(left.output[0].json.rendered).toEqual({
				text: template,
				coupons: [],
				unresolved: [
					{
						placeholder: '$cst.WELCOME.coupon$',
						problem: 'no_active_coupon',
						message:
							'$cst.WELCOME.coupon$: ann@example.com has no active coupon "WELCOME" (the last one is expired)',
					},
				],
			});
			const error = await nodeFailure(
				runEach('render', [{ email: 'bob@example.com' }, { email: 'ann@example.com' }], {
					text: `$cst.SPRING10.coupon$ ${template}`,
					contact: perItem('email'),
					whenMissing: 'fail',
				}),
			);
			expect(error.message).toBe(
				'$cst.SPRING10.coupon$: bob@example.com has no active coupon "SPRING10"',
			);
			expect(error.context.itemIndex).toBe(0);
			expect(error.description).toMatch(/Generate for Contact/);
			// A test run that only renders coupons already held saves nothing and loses nothing: no hint.
			const manual = await runEach(
				'render',
				[{ email: 'ann@example.com' }],
				{ text: template, contact: perItem('email'), whenMissing: 'leave' },
				{ mode: 'manual' },
			);
			expect(manual.hints).toEqual([]);
			const assigning = await runEach(
				'render',
				[{ email: 'ann@example.com' }],
				{
					text: template,
					contact: perItem('email'),
					whenMissing: 'assign',
					length: 8,
					validDays: 3,
					options: {},
				},
				{ mode: 'manual' },
			);
			expect(assigning.hints.map((h) => h.message).join()).toMatch(
				/coupons assigned while rendering were not stored/,
			);
		});

		it('creates a generated coupon for a new name with a hint, and with Continue on Fail fails only the items a refused length concerns', async () => {
			const first = await runEach('render', [{ email: 'ann@example.com' }], {
				text: 'Code: $cst.NEWNAME.coupon$',
				contact: perItem('email'),
				whenMissing: 'assign',
				length: 10,
				validDays: 5,
				options: { characters: 'digits' },
			});
			expect((first.output[0].json.rendered as IDataObject).text).toMatch(/^Code: \d{10}$/);
			expect(first.hints.map((h) => h.message)).toEqual([
				`No coupon was named "NEWNAME" in this workflow's static data, so a generated coupon of that name was created for its placeholder. If that name is a typo, correct the template.`,
			]);
			const { output } = await runEach(
				'render',
				[{ email: 'ann@example.com' }, { email: 'bob@example.com' }],
				{
					text: 'Code: $cst.NEWNAME.coupon$',
					contact: perItem('email'),
					whenMissing: 'assign',
					length: 4,
					validDays: 5,
					options: { characters: 'digits' },
				},
				{ continueOnFail: true },
			);
			expect((output[0].json.rendered as IDataObject).text).toBe(
				(first.output[0].json.rendered as IDataObject).text,
			);
			expect(output[1].json).toMatchObject({
				email: 'bob@example.com',
				error: expect.stringMatching(/^Length 4 is too short for coupon "NEWNAME"/),
			});
			expect(output[1].pairedItem).toEqual({ item: 1 });
		});

		it('refuses a text that is not text, naming the item', async () => {
			const error = await nodeFailure(
				runEach('render', [{ email: 'a', html: { a: 1 } }], {
					text: perItem('html'),
					contact: perItem('email'),
					whenMissing: 'leave',
				}),
			);
			expect(error.message).toBe('Text must be text or HTML; got object');
			expect(error.context.itemIndex).toBe(0);
		});

		it('writes the end of validity in the format, language and time zone of the Date Options', async () => {
			await generate(['ann@example.com'], 'LATE', 1);
			// Valid until 2026-04-11 08:00 UTC: 01:00 in Los Angeles, the 11th; 17:00 in Tokyo.
			const text = 'Until $cst.LATE.coupon.validUntil$';
			const rendered = async (dateOptions: IDataObject, timezone?: string) =>
				(
					(
						await runEach(
							'render',
							[{ email: 'ann@example.com' }],
							{ text, contact: perItem('email'), whenMissing: 'leave', dateOptions },
							timezone ? { timezone } : {},
						)
					).output[0].json.rendered as IDataObject
				).text;
			expect(await rendered({})).toBe('Until 2026-04-11');
			expect(await rendered({ dateFormat: 'isoDateTime', timeZone: 'Asia/Tokyo' })).toBe(
				'Until 2026-04-11 17:00',
			);
			expect(await rendered({ dateFormat: 'long', locale: 'de-DE' }, 'America/Los_Angeles')).toBe(
				'Until 11. April 2026',
			);
			const zone = await nodeFailure(
				runEach('render', [{ email: 'ann@example.com' }], {
					text,
					contact: perItem('email'),
					whenMissing: 'leave',
					dateOptions: { timeZone: 'Mars/Base' },
				}),
			);
			expect(zone.message).toBe('Time Zone "Mars/Base" is not a time zone');
		});
	});
});
