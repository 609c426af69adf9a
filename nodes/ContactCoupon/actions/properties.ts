import type { IDisplayOptions, INodeProperties } from 'n8n-workflow';
import { MAX_XLSX_ROWS } from '../../shared/spreadsheet/writeSheet';
import { MAX_LENGTH, MIN_LENGTH } from '../../shared/core/codes/codeFormat';
import { GUESS_ODDS, minimumSafeLength } from '../../shared/core/codes/guessProof';
import { UNAMBIGUOUS_CHARACTERS } from '../../shared/core/codes/codes';
import { MAX_VALID_DAYS } from '../../shared/core/common/validity';
import { couponNameProperty } from '../../shared/n8n/properties';

/**
 * Parameters several operations share. Internal names are stored in workflow JSON: never rename
 * them. The operations list (operations.ts) shows each operation's parameters for it alone; where
 * two operations show one, each declares its own. `displayOptions` here add conditions of their own.
 */

/** An operation's Options collection. */
export function optionsCollection(
	options: INodeProperties[],
	displayOptions?: IDisplayOptions,
): INodeProperties {
	return {
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add option',
		default: {},
		displayOptions,
		options,
	};
}

export function contactProperty(description: string): INodeProperties {
	return {
		displayName: 'Contact',
		name: 'contact',
		type: 'string',
		default: '={{ $json.email }}',
		required: true,
		description,
	};
}

/** How many codes of this length, in the default characters, stay hard enough to guess. */
const maxSafeCodes = (length: number) =>
	Math.floor(UNAMBIGUOUS_CHARACTERS.length ** length / GUESS_ODDS).toLocaleString('en-US');

/** The Length of a generated code unless the user sets another. */
export const DEFAULT_LENGTH = 8;

/** Length: how many random characters a generated code has; `more` ends the description. */
export function lengthProperty(more = ''): INodeProperties {
	return {
		displayName: 'Length',
		name: 'length',
		type: 'number',
		default: DEFAULT_LENGTH,
		typeOptions: { minValue: MIN_LENGTH, maxValue: MAX_LENGTH, numberPrecision: 0 },
		description:
			`Random characters in each generated code, up to ${MAX_LENGTH}; a Pattern in the options replaces it. Longer codes are harder to guess, and a length too short for the codes a coupon will hold is refused: with the default characters at least ${minimumSafeLength(1, UNAMBIGUOUS_CHARACTERS.length)}; 6 holds up to ${maxSafeCodes(6)} codes, 8 up to ${maxSafeCodes(8)}.${more}`.trim(),
	};
}

/**
 * Length and Valid (Days): how coupons assigned by the operation look and how long they last.
 * Whether Length applies (a generated coupon) or not (an imported list) is known only when the
 * step runs: the run's hint says so then, not a notice that would show for every new name.
 */
export function newCouponProperties(displayOptions?: IDisplayOptions): INodeProperties[] {
	return [
		{ ...lengthProperty(' Ignored for imported lists.'), displayOptions },
		{
			displayName: 'Valid (Days)',
			name: 'validDays',
			type: 'number',
			default: 30,
			required: true,
			typeOptions: { minValue: 1, maxValue: MAX_VALID_DAYS, numberPrecision: 0 },
			description:
				'How many days the coupon can be used after it is assigned. After that it is expired and never assigned again.',
			displayOptions,
		},
	];
}

/**
 * If No Coupon Is Available and its Fallback Code (Generate for Contact, and Render Placeholders
 * where it assigns): what an item gets when its coupon has no code for the contact.
 */
export function noCouponProperties(displayOptions?: IDisplayOptions): INodeProperties[] {
	return [
		{
			displayName: 'If No Coupon Is Available',
			name: 'ifNoCoupon',
			type: 'options',
			noDataExpression: true,
			options: [
				{
					name: 'Fail the Item',
					value: 'fail',
					description:
						'The item fails (error code COUPON_EXHAUSTED or LENGTH_TOO_SHORT) and the run stops, unless Continue on Fail is on',
				},
				{
					name: 'Send to a "No Coupon" Output',
					value: 'noCouponOutput',
					description:
						'The item goes to a second output, No Coupon, with noCoupon.reason: exhausted, expires_too_soon or length_too_short',
				},
				{
					name: 'Use a Fallback Code',
					value: 'fallbackCode',
					description:
						'The contact gets Fallback Code as its coupon\'s code, with source "fallback"; it is not stored',
				},
			],
			default: 'fail',
			description:
				'What to do when the coupon has no code for the contact: its imported list is used up, its unused codes end before Valid (Days), or its generated codes are too short for one more',
			displayOptions,
		},
		{
			displayName: 'Fallback Code',
			name: 'fallbackCode',
			type: 'string',
			default: '',
			required: true,
			placeholder: 'e.g. SORRY10',
			displayOptions: { show: { ...displayOptions?.show, ifNoCoupon: ['fallbackCode'] } },
			description:
				'A code your shop accepts from anyone, such as a general discount, sent when no coupon is available. It is not stored: nobody holds it, and Validate Code and Redeem Code do not know it.',
		},
	];
}

/** The options of generated codes, for an operation's Options collection, in the editor's order. */
export const codeFormatOptions: INodeProperties[] = [
	{
		displayName: 'Characters',
		name: 'characters',
		type: 'options',
		options: [
			{
				name: 'Letters and Digits Without Look-Alikes',
				value: 'unambiguous',
				description: 'A-Z and 2-9 without 0/O and 1/I/L',
			},
			{ name: 'Letters and Digits', value: 'alphanumeric', description: 'A-Z and 0-9' },
			{ name: 'Digits Only', value: 'digits', description: '0-9' },
			{
				name: 'Custom',
				value: 'custom',
				description: 'The characters entered in Custom Characters',
			},
		],
		default: 'unambiguous',
		description: 'Characters generated codes are made of; a Pattern draws its # and ? from them',
	},
	{
		displayName: 'Check Character',
		name: 'checkCharacter',
		type: 'boolean',
		default: false,
		description:
			'Whether to end the random part with a character computed from it (ISO 7064, over Characters), so that Validate Code and Redeem Code answer "typo" for a code with one character mistyped. It adds one character and no guessing odds.',
	},
	{
		displayName: 'Custom Characters',
		name: 'customCharacters',
		type: 'string',
		default: '',
		placeholder: 'e.g. ABCDEFGHJKMNPQRSTUVWXYZ23456789',
		description: 'The characters to build generated codes from, when Characters is Custom',
		displayOptions: { show: { characters: ['custom'] } },
	},
	{
		displayName: 'Pattern',
		name: 'pattern',
		type: 'string',
		default: '',
		placeholder: 'e.g. SPRING-####-??',
		description:
			'The shape of the random part instead of Length: # a digit, ? a letter, * any character of Characters; anything else is written as is. Too few possible codes for the coupon are refused, naming a pattern that would do.',
	},
	{
		displayName: 'Prefix',
		name: 'prefix',
		type: 'string',
		default: '',
		placeholder: 'e.g. SUMMER-',
		description: 'Text put before every generated code; it does not count towards Length',
	},
	{
		displayName: 'Suffix',
		name: 'suffix',
		type: 'string',
		default: '',
		placeholder: 'e.g. -2027',
		description: 'Text put after every generated code; it does not count towards Length',
	},
];

/** An Order Reference option; `description` says what the operation does with it. */
export function orderReferenceOption(description: string): INodeProperties {
	return {
		displayName: 'Order Reference',
		name: 'orderReference',
		type: 'string',
		default: '',
		placeholder: 'e.g. {{ $json.body.orderId }}',
		description,
	};
}

/**
 * Code, then `required` parameters, then the Contact and Coupon Name options and `extraOptions`:
 * the parameters of the operations that take a code at checkout.
 */
export function codeCheckProperties(
	extraOptions: INodeProperties[],
	required: INodeProperties[] = [],
): INodeProperties[] {
	return [
		{
			displayName: 'Code',
			name: 'code',
			type: 'string',
			default: '',
			required: true,
			placeholder: 'e.g. {{ $json.body.code }}',
			description:
				'The code the customer entered. Compared ignoring case, surrounding spaces, and spaces, dashes, dots or underscores inside.',
		},
		...required,
		optionsCollection([
			{
				displayName: 'Contact',
				name: 'contact',
				type: 'string',
				default: '',
				placeholder: 'e.g. {{ $json.body.email }}',
				description:
					'Accept the code only from the contact it was given to. Without it, any customer may use the code.',
			},
			couponNameProperty(
				'Accept only codes of this coupon. Without it, a code of any coupon counts.',
				{ required: false },
			),
			...extraOptions,
		]),
	];
}

/** The required Order Reference of Reserve Code and Release Code. */
export function requiredOrderReference(description: string): INodeProperties {
	return { ...orderReferenceOption(description), required: true };
}

/** File Format, File Name and Put Output File in Field: the options of an operation that outputs a spreadsheet. */
export const fileOptions: INodeProperties[] = [
	{
		displayName: 'File Format',
		name: 'fileFormat',
		type: 'options',
		options: [
			{ name: 'XLSX', value: 'xlsx', description: `Excel, up to ${MAX_XLSX_ROWS} codes` },
			{ name: 'CSV', value: 'csv', description: 'Comma-separated UTF-8, any number of codes' },
		],
		default: 'xlsx',
		description: 'The kind of spreadsheet to write',
	},
	{
		displayName: 'File Name',
		name: 'fileName',
		type: 'string',
		default: '',
		placeholder: 'e.g. spring10-codes.xlsx',
		description:
			'The name the file gets, without folders; the extension is added when missing. Empty for a name made of the coupon name and the extension.',
	},
	{
		displayName: 'Put Output File in Field',
		name: 'binaryPropertyName',
		type: 'string',
		default: 'data',
		hint: 'The name of the output binary field to put the file in',
		description: 'The binary field of the output item that holds the file',
	},
];
