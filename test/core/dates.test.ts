import { parseExpiry, toWallClock } from '../../nodes/shared/core/common/dates';

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

describe('toWallClock', () => {
	/** The wall clock as Intl writes it, read as UTC: the reference, one slow call each. */
	function intlWallClock(ms: number, timeZone: string): number {
		const parts = new Map(
			new Intl.DateTimeFormat('en-US', {
				timeZone,
				hourCycle: 'h23',
				year: 'numeric',
				month: 'numeric',
				day: 'numeric',
				hour: 'numeric',
				minute: 'numeric',
				second: 'numeric',
			})
				.formatToParts(new Date(ms))
				.map(({ type, value }) => [type, Number(value)]),
		);
		const part = (type: Intl.DateTimeFormatPartTypes) => parts.get(type)!;
		return (
			Date.UTC(
				part('year'),
				part('month') - 1,
				part('day'),
				part('hour'),
				part('minute'),
				part('second'),
			) +
			(ms % 1000)
		);
	}

	it('gives the wall clock of every minute around daylight-saving changes, as Intl does', () => {
		// Berlin's changes on the hour; Lord Howe's by half an hour at half past; Kathmandu is +05:45.
		const changes: Array<[string, string]> = [
			['Europe/Berlin', '2026-03-29T01:00:00.250Z'],
			['Europe/Berlin', '2026-10-25T01:00:00.250Z'],
			['Australia/Lord_Howe', '2026-04-04T15:00:00.250Z'],
			['Australia/Lord_Howe', '2026-10-03T15:30:00.250Z'],
			['America/New_York', '2026-11-01T06:00:00.250Z'],
			['Asia/Kathmandu', '2026-06-01T00:00:00.250Z'],
		];
		for (const [timeZone, change] of changes)
			for (let minute = -180; minute <= 180; minute++) {
				const ms = Date.parse(change) + minute * 60_000;
				expect([timeZone, new Date(toWallClock(ms, timeZone)).toISOString()]).toEqual([
					timeZone,
					new Date(intlWallClock(ms, timeZone)).toISOString(),
				]);
			}
	});

	it('reads back through parseExpiry, the repeated hour of an autumn change as its later turn', () => {
		const text = (ms: number) => new Date(ms).toISOString().slice(0, 19);
		const summer = utc('2026-07-01T10:00:30Z');
		expect(parseExpiry(text(toWallClock(summer, 'Europe/Berlin')), 'Europe/Berlin')).toBe(summer);
		// 02:30 in Berlin on 2026-10-25 comes twice: at 00:30 UTC (summer time), then at 01:30.
		const first = utc('2026-10-25T00:30:00Z');
		const second = utc('2026-10-25T01:30:00Z');
		expect(text(toWallClock(first, 'Europe/Berlin'))).toBe('2026-10-25T02:30:00');
		expect(text(toWallClock(second, 'Europe/Berlin'))).toBe('2026-10-25T02:30:00');
		expect(parseExpiry('2026-10-25T02:30:00', 'Europe/Berlin')).toBe(second);
	});
});
