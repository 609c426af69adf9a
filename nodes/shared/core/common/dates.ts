import { CouponError } from './errors';
import { echo } from './names';

/** How a placeholder writes a date, such as `$cst.SPRING10.coupon.validUntil$`. */
export type DateFormat = 'isoDate' | 'isoDateTime' | 'long';
export const DATE_FORMATS: readonly DateFormat[] = ['isoDate', 'isoDateTime', 'long'];

export interface DateStyle {
	format: DateFormat;
	/** An IANA time zone, such as Europe/Berlin. */
	timeZone: string;
	/** A BCP 47 locale, such as en-US, for the written-out format. */
	locale: string;
}

/** The date style the options give, checked, or a CouponError naming the option to correct. */
export function parseDateStyle(format: unknown, timeZone: unknown, locale: unknown): DateStyle {
	if (!DATE_FORMATS.includes(format as DateFormat))
		throw new CouponError(
			'CHOICE_UNKNOWN',
			`Unknown choice ${echo(format)} for Date Format`,
			'Choose one of the listed choices.',
		);
	const zone = typeof timeZone === 'string' ? timeZone.trim() : '';
	const language = (typeof locale === 'string' ? locale.trim() : '') || 'en-US';
	try {
		new Intl.DateTimeFormat('en-US', { timeZone: zone });
	} catch {
		throw new CouponError(
			'DATE_SETTING_INVALID',
			`Time Zone ${echo(zone)} is not a time zone`,
			'Enter a time zone such as Europe/Berlin or America/New_York, or leave it empty for the time zone of the workflow.',
		);
	}
	try {
		Intl.getCanonicalLocales(language);
	} catch {
		throw new CouponError(
			'DATE_SETTING_INVALID',
			`Locale ${echo(language)} is not a language tag`,
			'Enter a language tag such as en-US or de-DE.',
		);
	}
	return { format: format as DateFormat, timeZone: zone, locale: language };
}

/** The moment `ms` written in the style, in its time zone. */
export function formatDate(ms: number, style: DateStyle): string {
	const date = new Date(ms);
	if (style.format === 'long')
		return new Intl.DateTimeFormat(style.locale, {
			dateStyle: 'long',
			timeZone: style.timeZone,
		}).format(date);
	const parts = new Map(
		new Intl.DateTimeFormat('en-US', {
			timeZone: style.timeZone,
			hourCycle: 'h23',
			year: 'numeric',
			month: '2-digit',
			day: '2-digit',
			hour: '2-digit',
			minute: '2-digit',
		})
			.formatToParts(date)
			.map(({ type, value }) => [type, value]),
	);
	const day = `${parts.get('year')}-${parts.get('month')}-${parts.get('day')}`;
	return style.format === 'isoDate' ? day : `${day} ${parts.get('hour')}:${parts.get('minute')}`;
}

// YYYY-MM-DD, then optionally a time (T or a space, HH:MM, :SS, fractions), then optionally Z or
// an offset. Anchored, without nested quantifiers: linear on any text.
const DATE_TIME =
	/^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * A code's expiry as a spreadsheet gives it: a date (valid through the end of that day), a date
 * and time, each in `timeZone` unless it names its own offset. Undefined when it is not one.
 */
export function parseExpiry(text: string, timeZone: string): number | undefined {
	const match = DATE_TIME.exec(text.trim());
	if (!match) return undefined;
	const [, y, mo, d, h, mi, s, zone] = match;
	const fields = [y, mo, d, h ?? '0', mi ?? '0', s ?? '0'].map(Number);
	const [year, month, day, hour, minute, second] = fields;
	const wall = Date.UTC(year, month - 1, day, hour, minute, second);
	const check = new Date(wall);
	if (
		check.getUTCFullYear() !== year ||
		check.getUTCMonth() !== month - 1 ||
		check.getUTCDate() !== day ||
		hour > 23 ||
		minute > 59 ||
		second > 59
	)
		return undefined;
	// A date alone means the whole day: the code expires when the next day begins.
	const end = h === undefined ? wall + 24 * 60 * 60 * 1000 : wall;
	if (zone !== undefined) {
		if (zone.toUpperCase() === 'Z') return end;
		const sign = zone.startsWith('-') ? -1 : 1;
		const digits = zone.slice(1).replace(':', '');
		return end - sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
	}
	return fromWallClock(end, timeZone);
}

/**
 * The wall-clock time in `timeZone` at the moment `ms`, as the UTC time that reads the same: what a
 * spreadsheet cell without a time zone shows. Across a change back from daylight-saving time two
 * moments read alike, and parseExpiry takes the later one.
 */
export const toWallClock = (ms: number, timeZone: string): number => ms + offsetAt(ms, timeZone);

/** The moment whose wall-clock time in `timeZone` reads as `wall` does in UTC. */
function fromWallClock(wall: number, timeZone: string): number {
	// Two passes: the offset at the first guess may differ across a daylight-saving change.
	let guess = wall - offsetAt(wall, timeZone);
	guess = wall - offsetAt(guess, timeZone);
	return guess;
}

/** One formatter per time zone: making one costs far more than using it, row after row. */
const wallClocks = new Map<string, Intl.DateTimeFormat>();

const HOUR = 60 * 60 * 1000;
/** Offsets by time zone and hour; an hour holding a change of offset is not kept. */
const hourOffsets = new Map<string, Map<number, number>>();
/** Hours kept per time zone (over eleven years, a few MB); past it they are forgotten. */
const MAX_HOURS_KEPT = 100_000;

/**
 * How far `timeZone`'s wall clock is ahead of UTC at `ms`. Asking Intl takes about 10 µs, too slow
 * for a million exported dates, so an hour whose start and end have the same offset is kept: no
 * time zone changes its offset twice within an hour.
 */
function offsetAt(ms: number, timeZone: string): number {
	let offsets = hourOffsets.get(timeZone);
	if (!offsets) hourOffsets.set(timeZone, (offsets = new Map()));
	const hour = Math.floor(ms / HOUR);
	const kept = offsets.get(hour);
	if (kept !== undefined) return kept;
	const start = intlOffsetAt(hour * HOUR, timeZone);
	if (start !== intlOffsetAt(hour * HOUR + HOUR - 1000, timeZone))
		return intlOffsetAt(ms, timeZone);
	if (offsets.size >= MAX_HOURS_KEPT) offsets.clear();
	offsets.set(hour, start);
	return start;
}

/** How far `timeZone`'s wall clock is ahead of UTC at `ms`, as Intl says. */
function intlOffsetAt(ms: number, timeZone: string): number {
	let wallClock = wallClocks.get(timeZone);
	if (!wallClock) {
		wallClock = new Intl.DateTimeFormat('en-US', {
			timeZone,
			hourCycle: 'h23',
			year: 'numeric',
			month: 'numeric',
			day: 'numeric',
			hour: 'numeric',
			minute: 'numeric',
			second: 'numeric',
		});
		wallClocks.set(timeZone, wallClock);
	}
	const parts = new Map(
		wallClock.formatToParts(new Date(ms)).map(({ type, value }) => [type, Number(value)]),
	);
	const asUtc = Date.UTC(
		parts.get('year')!,
		parts.get('month')! - 1,
		parts.get('day')!,
		parts.get('hour')!,
		parts.get('minute')!,
		parts.get('second')!,
	);
	return asUtc - Math.floor(ms / 1000) * 1000;
}
