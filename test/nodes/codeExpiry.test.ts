import type { IDataObject } from 'n8n-workflow';
import { nodeFailure } from '../helpers/executeFunctions';
import { contactCouponRuns, iso, T0 } from '../helpers/contactCouponRuns';
import { xlsx } from '../helpers/spreadsheets';

const DAY = 86_400_000;

describe('Codes with their own expiry', () => {
	const { run, importFile } = contactCouponRuns();
	const give = async (email: string, options: IDataObject = {}) =>
		await run('generate', [{ email }], {
			couponName: 'SHOP',
			length: 8,
			validDays: 30,
			contact: email,
			options,
		});

	it('imports an expiry column (date cells, dates and times as text, CSV), rejecting expired rows', async () => {
		// T0 is 2026-04-10 08:00 UTC.
		const file = xlsx({
			Codes: [
				['code', 'valid until'],
				['LONG-1', { t: 'd', v: new Date(Date.UTC(2026, 6, 31)) }],
				['SHORT-1', '2026-04-20 18:00'],
				['NONE-1', ''],
				['OLD-1', '2026-04-01'],
				['BAD-1', '31/12/2026'],
			],
		});
		const [summary] = await importFile(file, {
			couponName: 'SHOP',
			options: { valueColumn: 'code', expiryColumn: 'Valid Until' },
		});
		expect(summary.json).toMatchObject({
			added: 3,
			invalid: 2,
			rejectedRows: [
				{
					row: 5,
					value: 'OLD-1',
					reason: 'expired on 2026-04-02T00:00:00.000Z, before this import',
				},
				{
					row: 6,
					value: 'BAD-1',
					reason: 'its expiry "31/12/2026" is not a date such as 2027-01-31 or 2027-01-31 18:00',
				},
			],
		});

		// Only codes that last the 30 days are assigned: LONG-1, then the one without expiry.
		const given = [];
		for (const email of ['ann@x.com', 'bob@x.com']) {
			const { output } = await give(email);
			given.push((output[0].json.coupon as IDataObject).code);
		}
		expect(given.sort()).toEqual(['LONG-1', 'NONE-1']);
		const refused = await nodeFailure(give('cid@x.com'));
		expect(refused.message).toBe(
			'Coupon "SHOP" has no unused code that lasts 30 days: its 1 unused codes expire sooner',
		);
		expect(refused.description).toMatch(/^Turn on Assign Codes Expiring Sooner/);
		const { output } = await give('cid@x.com', { shortenToExpiry: true });
		expect(output[0].json.coupon).toMatchObject({
			code: 'SHORT-1',
			validUntil: iso(Date.UTC(2026, 3, 20, 18)),
		});

		// An export shows an unused code's own expiry, and calls it lapsed once past it.
		await importFile(Buffer.from('code;valid until\nSOON-1;2026-04-12\n'), {
			couponName: 'SHOP',
			options: { valueColumn: 'code', expiryColumn: 'valid until' },
		});
		jest.setSystemTime(T0 + 3 * DAY);
		const stats = await run('stats', [{}], { couponName: 'SHOP' });
		expect(stats.output[0].json).toMatchObject({ available: 0, lapsed: 1 });
		const exported = await run('exportCodes', [{}], {
			couponName: 'SHOP',
			status: 'lapsed',
			options: { fileFormat: 'csv' },
		});
		const text = Buffer.from(exported.output[0].binary!.data.data, 'base64').toString('utf8');
		expect(text.split('\r\n')[1]).toBe('SOON-1,lapsed,,,2026-04-13T00:00:00.000Z,,');
	});

	it('refuses an Expiry Column the sheet does not have, changing nothing', async () => {
		const error = await nodeFailure(
			importFile(xlsx({ S: [['code'], ['A-1']] }), {
				couponName: 'SHOP',
				options: { valueColumn: 'code', expiryColumn: 'expires' },
			}),
		);
		expect(error.message).toBe(
			'Sheet "S" has no "expires" column in its header row (row 1), which Expiry Column names',
		);
		const stats = await run('stats', [{}], { couponName: '' });
		expect(stats.output.map((item) => item.json.name)).toEqual(['SPRING10']);
	});
});
