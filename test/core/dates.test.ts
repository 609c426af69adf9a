import { parseExpiry } from '../../nodes/shared/core/dates';

const utc = (text: string) => Date.parse(text);

describe('parseExpiry', () => {
	it('reads a date as valid through that day, in the time zone given', () => {
		expect(parseExpiry('2027-01-31', 'UTC')).toBe(utc('2027-02-01T00:00:00Z'));
		expect(parseExpiry(' 2027-01-31 ', 'Europe/Berlin')).toBe(utc('2027-01-31T23:00:00Z'));
		expect(parseExpiry('2027-07-31', 'Europe/Berlin')).toBe(utc('2027-07-31T22:00:00Z'));
		expect(parseExpiry('2027-01-31', 'America/New_York')).toBe(utc('2027-02-01T05:00:00Z'));
	});

	it('reads a date and time, around daylight-saving changes too, and an offset or Z as given', () => {
		expect(parseExpiry('2027-01-31 18:00', 'Europe/Berlin')).toBe(utc('2027-01-31T17:00:00Z'));
		expect(parseExpiry('2027-01-31T18:00:30', 'UTC')).toBe(utc('2027-01-31T18:00:30Z'));
		// Berlin moves to summer time at 02:00 on 2027-03-28: 03:30 is already UTC+2.
		expect(parseExpiry('2027-03-28 03:30', 'Europe/Berlin')).toBe(utc('2027-03-28T01:30:00Z'));
		expect(parseExpiry('2027-03-27 23:00', 'Europe/Berlin')).toBe(utc('2027-03-27T22:00:00Z'));
		expect(parseExpiry('2027-01-31T18:00:00Z', 'Europe/Berlin')).toBe(utc('2027-01-31T18:00:00Z'));
		expect(parseExpiry('2027-01-31T18:00+05:30', 'UTC')).toBe(utc('2027-01-31T12:30:00Z'));
		expect(parseExpiry('2027-01-31 18:00:00.123-0800', 'UTC')).toBe(utc('2027-02-01T02:00:00Z'));
	});

	it('refuses what is not a date', () => {
		for (const text of [
			'2027-02-30',
			'2027-13-01',
			'31.01.2027',
			'tomorrow',
			'2027-01-31 24:00',
			'2027-01-31 12:60',
			'45000',
			'',
			`2027-01-31${' '.repeat(50_000)}x`,
		])
			expect(parseExpiry(text, 'UTC')).toBeUndefined();
	});
});
