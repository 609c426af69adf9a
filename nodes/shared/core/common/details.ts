import { CouponError } from './errors';
import { describeCharacter, UNSAFE_CHARACTER } from './names';
import type { Details } from '../storeContract';

export const MAX_DETAILS = 50;
export const MAX_DETAIL_NAME_LENGTH = 100;
export const MAX_DETAIL_TEXT_LENGTH = 1_000;
/** JSON text longer than this cannot hold MAX_DETAILS details of the allowed sizes: not parsed. */
const MAX_DETAILS_JSON = MAX_DETAILS * (MAX_DETAIL_NAME_LENGTH + MAX_DETAIL_TEXT_LENGTH + 10);

/** Why a detail's name cannot be used, or undefined. `$` ends a placeholder, so no name holds it. */
export function detailNameProblem(name: string): string | undefined {
	if (name === '') return 'a detail has an empty name';
	if (name.length > MAX_DETAIL_NAME_LENGTH)
		return `the detail name "${name.slice(0, 20)}..." is longer than ${MAX_DETAIL_NAME_LENGTH} characters`;
	const bad = /\$/.exec(name) ?? UNSAFE_CHARACTER.exec(name);
	if (bad) return `the detail name "${name}" contains ${describeCharacter(bad[0])}`;
	return undefined;
}

/** Why a detail's value cannot be kept, or undefined: details are flat text, numbers, yes/no or null. */
export function detailValueProblem(name: string, value: unknown): string | undefined {
	if (value === null || typeof value === 'boolean') return undefined;
	if (typeof value === 'number')
		return Number.isFinite(value) ? undefined : `detail "${name}" is not a finite number`;
	if (typeof value !== 'string')
		return `detail "${name}" is ${Array.isArray(value) ? 'a list' : 'an object'}; details are flat: text, numbers, true/false or null`;
	if (value.length > MAX_DETAIL_TEXT_LENGTH)
		return `detail "${name}" is longer than ${MAX_DETAIL_TEXT_LENGTH} characters`;
	const bad = UNSAFE_CHARACTER.exec(value);
	return bad ? `detail "${name}" contains ${describeCharacter(bad[0])}` : undefined;
}

/**
 * Coupon Details as the option gives them (a JSON object, as text or as an object an expression
 * returns), or undefined when empty; a CouponError names the first problem.
 */
export function parseDetails(raw: unknown): Details | undefined {
	const fix =
		'Enter the details as a flat JSON object, such as { "discount": "15%", "minimumOrder": 50 }.';
	const refuse = (problem: string) =>
		new CouponError('DETAILS_INVALID', `Coupon Details: ${problem}`, fix);
	let value = raw;
	if (typeof raw === 'string') {
		if (raw.trim() === '') return undefined;
		if (raw.length > MAX_DETAILS_JSON)
			throw refuse(
				`the text is longer than ${MAX_DETAILS_JSON.toLocaleString('en-US')} characters`,
			);
		try {
			value = JSON.parse(raw);
		} catch {
			throw refuse('the text is not JSON');
		}
	}
	if (value === undefined || value === null) return undefined;
	if (typeof value !== 'object' || Array.isArray(value)) throw refuse('they are not a JSON object');
	const entries = Object.entries(value as object);
	if (entries.length === 0) return undefined;
	if (entries.length > MAX_DETAILS) throw refuse(`there are more than ${MAX_DETAILS} details`);
	for (const [name, detail] of entries) {
		const problem = detailNameProblem(name) ?? detailValueProblem(name, detail);
		if (problem) throw refuse(problem);
	}
	// A fresh object of own entries: a "__proto__" key stays a detail, never a prototype.
	return Object.fromEntries(entries) as Details;
}

/** The details a code shows: its coupon's, with the code's own over them. */
export const mergedDetails = (coupon: Details | undefined, code: Details | undefined): Details => ({
	...coupon,
	...code,
});

/** Whether two sets of details say the same, whatever their order. */
export function sameDetails(a: Details | undefined, b: Details | undefined): boolean {
	const entriesA = Object.entries(a ?? {});
	const entriesB = new Map(Object.entries(b ?? {}));
	return (
		entriesA.length === entriesB.size &&
		entriesA.every(([name, value]) => entriesB.has(name) && entriesB.get(name) === value)
	);
}
