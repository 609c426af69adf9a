import type { IDataObject } from 'n8n-workflow';
import { DAY_MS } from '../../nodes/shared/core/common/validity';
import { nodeFailure, type MockOptions } from '../helpers/executeFunctions';
import { contactCouponRuns, iso, T0 } from '../helpers/contactCouponRuns';

describe('Contact Coupon', () => {
	const { runEach, perItem, generate } = contactCouponRuns();
	/** Render with the defaults of a new node (version 3) but for `parameters`. */
	const renderOnly = {
		run: async (
			items: IDataObject[],
			text: string,
			parameters: Record<string, unknown> = {},
			extra: Partial<MockOptions> = {},
		) =>
			await runEach(
				'render',
				items,
				{ text, contact: perItem('email'), length: 8, validDays: 30, options: {}, ...parameters },
				extra,
			),
	};

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
				whenUnfilled: 'leave',
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
				{ text: template, contact: perItem('email'), whenMissing: 'leave', whenUnfilled: 'leave' },
				{ mode: 'manual' },
			);
			expect(manual.hints.map((hint) => hint.message)).toEqual([
				'1 coupon placeholder could not be filled and was left in the text: $cst.WELCOME.coupon$: ann@example.com has no active coupon "WELCOME" (the last one is expired).',
			]);
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

		it('creates a generated coupon for a new name when asked, with a hint, and with Continue on Fail fails only the items a refused length concerns', async () => {
			const first = await runEach('render', [{ email: 'ann@example.com' }], {
				text: 'Code: $cst.NEWNAME.coupon$',
				contact: perItem('email'),
				whenMissing: 'assign',
				createCoupons: true,
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
					createCoupons: true,
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

		it('creates no coupon for a typo: the item fails naming the closest coupons, and nothing is assigned', async () => {
			const { run } = renderOnly;
			const error = await nodeFailure(
				run([{ email: 'ann@example.com' }], 'Your code: $cst.SPRNG10.coupon$'),
			);
			expect(error.message).toBe(
				'$cst.SPRNG10.coupon$: no coupon is named "SPRNG10". The closest is "SPRING10".',
			);
			expect(error.description).toMatch(/turn on Create Unknown Coupons/);
			expect(error.context.itemIndex).toBe(0);
			const stats = await runEach('stats', [{}], { couponName: '' });
			expect(stats.output.map((item) => item.json.name)).toEqual(['SPRING10']);
		});

		it('leaves or removes the placeholders it cannot fill, as asked, and names them in a hint', async () => {
			const { run } = renderOnly;
			await generate(['ann@example.com'], 'SPRING10');
			const template =
				'A $cst.SPRING10.coupon$ B $cst.SPRING10.coupon.colour$ C $cst.a.b.coupon$ D $cst.NOPE.coupon$ E $cst.firstname$';
			const left = await run([{ email: 'ann@example.com' }], template, { whenUnfilled: 'leave' });
			const rendered = left.output[0].json.rendered as { text: string; unresolved: IDataObject[] };
			const code = (rendered as unknown as { coupons: IDataObject[] }).coupons[0].code as string;
			expect(rendered.text).toBe(template.replace('$cst.SPRING10.coupon$', code));
			expect(rendered.unresolved.map((u) => u.problem)).toEqual([
				'invalid_name',
				'not_a_coupon',
				'unknown_detail',
				'unknown_coupon',
			]);
			expect(left.hints.map((hint) => hint.message)).toEqual([
				expect.stringMatching(
					/^3 coupon placeholders could not be filled and were left in the text: \$cst\.a\.b\.coupon\$ cannot name a coupon/,
				),
			]);
			const removed = await run([{ email: 'ann@example.com' }], template, {
				whenUnfilled: 'remove',
			});
			expect((removed.output[0].json.rendered as IDataObject).text).toBe(
				`A ${code} B  C  D  E $cst.firstname$`,
			);
			expect(removed.hints.map((hint) => hint.message)).toEqual([
				expect.stringMatching(
					/^3 coupon placeholders could not be filled and were removed from the text/,
				),
			]);
			// Fail the Item, the default of new nodes, names the first one.
			const failed = await nodeFailure(run([{ email: 'ann@example.com' }], template));
			expect(failed.message).toMatch(/^\$cst\.a\.b\.coupon\$ cannot name a coupon/);
			// Where a $cst. that never ends like a placeholder stops cannot be told: not removed, failed.
			const malformed = await nodeFailure(
				run([{ email: 'ann@example.com' }], 'Hi $cst.SPRING10 coupon', { whenUnfilled: 'remove' }),
			);
			expect(malformed.message).toMatch(/^"\$cst\.SPRING10 coupon" starts a placeholder/);
			expect(malformed.description).toMatch(/cannot be removed/);
		});

		it('keeps the behaviour of nodes saved before version 3: new names become coupons, unfilled placeholders stay', async () => {
			const { run } = renderOnly;
			const { output, hints } = await run(
				[{ email: 'ann@example.com' }],
				'$cst.SPRNG10.coupon$ $cst.SPRING10.coupon.colour$',
				{},
				{ typeVersion: 2 },
			);
			const rendered = output[0].json.rendered as { text: string; unresolved: IDataObject[] };
			expect(rendered.text).toMatch(/^[2-9A-Z]{8} \$cst\.SPRING10\.coupon\.colour\$$/);
			expect(rendered.unresolved.map((u) => u.problem)).toEqual(['unknown_detail']);
			expect(hints.map((hint) => hint.message)).toEqual([
				expect.stringMatching(/^No coupon was named "SPRNG10"/),
				expect.stringMatching(/^1 coupon placeholder could not be filled and was left in the text/),
			]);
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
