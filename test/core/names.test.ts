import { couponNameKey, parseContact, parseCouponName } from '../../nodes/shared/core/common/names';
import {
	DAY_MS,
	isActive,
	parseValidDays,
	validUntilFor,
} from '../../nodes/shared/core/common/validity';

describe('coupon names', () => {
	it('trims names and matches them ignoring case', () => {
		expect(parseCouponName('  Summer Sale 10% ')).toBe('Summer Sale 10%');
		expect(couponNameKey('SUMMER')).toBe(couponNameKey(' summer '));
	});

	it('refuses empty names and characters that mark placeholders', () => {
		expect(() => parseCouponName('  ')).toThrow('The coupon name is empty');
		expect(() => parseCouponName(undefined)).toThrow('The coupon name is empty');
		expect(() => parseCouponName('a.b')).toThrow(/contains "\."/);
		expect(() => parseCouponName('$cst')).toThrow(/contains "\$"/);
		expect(() => parseCouponName('x'.repeat(101))).toThrow(/limit is 100/);
	});

	it('treats __proto__ and constructor as ordinary names', () => {
		expect(parseCouponName('__proto__')).toBe('__proto__');
		expect(parseCouponName('constructor')).toBe('constructor');
	});
});

describe('contacts', () => {
	it('trims the contact and matches it ignoring case', () => {
		expect(parseContact('  Ann@Example.COM ')).toEqual({
			contact: 'Ann@Example.COM',
			key: 'ann@example.com',
		});
		expect(parseContact(12345)).toEqual({ contact: '12345', key: '12345' });
	});

	it('refuses empty contacts and control characters, saying what to map', () => {
		expect(() => parseContact('')).toThrow('The contact is empty');
		expect(() => parseContact(undefined)).toThrow('The contact is empty');
		expect(() => parseContact({ email: 'a' })).toThrow('The contact is an object, not text');
		expect(() => parseContact('a\tb')).toThrow('The contact contains a tab');
		expect(() => parseContact('a\u0085b')).toThrow('contains the control character U+0085');
	});
});

describe('validity', () => {
	it('accepts whole days from 1 to 3650', () => {
		expect(parseValidDays(30)).toBe(30);
		expect(parseValidDays('7')).toBe(7);
		for (const bad of [0, -1, 1.5, 3651, '', 'week', undefined, null]) {
			expect(() => parseValidDays(bad)).toThrow(
				/Valid \(Days\) must be a whole number from 1 to 3650/,
			);
		}
	});

	it('is active until, not at, validUntil, and never once replaced', () => {
		const assignedAt = Date.UTC(2026, 0, 1);
		const record = {
			code: 'A',
			contactKey: 'c',
			assignedAt,
			validUntil: validUntilFor(assignedAt, 2),
		};
		expect(record.validUntil - assignedAt).toBe(2 * DAY_MS);
		expect(isActive(record, record.validUntil - 1)).toBe(true);
		expect(isActive(record, record.validUntil)).toBe(false);
		expect(isActive({ ...record, replacedAt: assignedAt }, assignedAt + 1)).toBe(false);
	});
});
