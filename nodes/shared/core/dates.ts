import { CouponError } from './errors';

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
			`Unknown choice ${JSON.stringify(format)} for Date Format`,
			'Choose one of the listed choices.',
		);
	const zone = typeof timeZone === 'string' ? timeZone.trim() : '';
	const language = (typeof locale === 'string' ? locale.trim() : '') || 'en-US';
	try {
		new Intl.DateTimeFormat('en-US', { timeZone: zone });
	} catch {
		throw new CouponError(
			`Time Zone "${zone}" is not a time zone`,
			'Enter a time zone such as Europe/Berlin or America/New_York, or leave it empty for the time zone of the workflow.',
		);
	}
	try {
		Intl.getCanonicalLocales(language);
	} catch {
		throw new CouponError(
			`Locale "${language}" is not a language tag`,
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
