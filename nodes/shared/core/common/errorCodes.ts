/**
 * Every refusal's stable code, with what it means. Workflows branch on these codes (an IF node on
 * `{{ $json.errorCode }}`), so they are a public contract like parameter names: never rename or
 * reuse one; add a new one instead. docs/errors.md lists them (a test keeps the two alike).
 */
export const ERROR_CODES = {
	// What a parameter or an item gave.
	NAME_INVALID: 'The coupon name is empty, too long, or holds a character a name cannot hold.',
	CONTACT_INVALID: 'The contact is empty, too long, or holds a control or broken character.',
	CODE_INVALID: 'The code given at checkout, or the Fallback Code, is empty or cannot be a code.',
	CONTACT_REQUIRED:
		'A shared code (a coupon with Uses per Customer) was checked without the customer: Validate, Redeem and Undo Redemption need Contact (Undo: or Order Reference).',
	ORDER_REFERENCE_INVALID:
		'The order reference is missing where the operation needs one, or holds a character it cannot.',
	TEXT_INVALID:
		'A parameter that must be text got something else (a list, an object, a boolean), or is empty or too long.',
	CHOICE_UNKNOWN: 'An options parameter holds a value that is not one of its choices.',
	NUMBER_INVALID: 'A number parameter is not a plain whole number within its range.',
	FORMAT_INVALID: 'Characters, Custom Characters, Prefix, Suffix or Pattern cannot make codes.',
	LENGTH_TOO_SHORT:
		'The codes would be too easy to guess for the number the coupon will hold: the message gives the minimum.',
	DETAILS_INVALID: 'Coupon Details (or a kept column) is not a flat set of at most 50 details.',
	DATE_SETTING_INVALID: 'Date Format, Time Zone or Locale is not one the node can use.',
	FILE_NAME_INVALID: 'File Name is not a plain file name.',
	CREDENTIAL_INVALID: 'A field of the Coupon PostgreSQL credential is empty or not allowed.',
	LIMIT_EXCEEDED:
		'The step would go past one of the documented limits (rows, cells, new coupons, codes in a run, rows of an .xlsx sheet).',
	// Files given to Coupon Import.
	FILE_EMPTY: 'The file has no bytes.',
	FILE_NOT_SPREADSHEET: 'The file is not an .xlsx workbook or a CSV file (an .xls, a PDF, a zip).',
	FILE_PROTECTED: 'The workbook is password-protected.',
	FILE_DAMAGED:
		'The file is damaged or written in a way spreadsheet programs do not write; saving it again fixes it.',
	FILE_TOO_LARGE: 'The file unpacks to more than Max Unpacked Size, or as a possible zip bomb.',
	FILE_ENCODING_UNSUPPORTED:
		'The CSV file is neither UTF-8 nor UTF-16 with a byte order mark: save it as "CSV UTF-8".',
	SHEET_NOT_FOUND: 'The workbook has no sheet of the name given (or no sheet at all).',
	SHEET_EMPTY: 'The sheet holds no coupon values.',
	SHEET_LAYOUT_INVALID:
		'The sheet lacks a column the import needs (its header names the columns), or its rows disagree with its header.',
	// Coupons.
	COUPON_NOT_FOUND: 'No coupon has this name; the message names the closest ones.',
	COUPON_EXHAUSTED:
		'The coupon has no unused code left for the contact (or none that lasts long enough).',
	COUPON_KIND_MISMATCH:
		'The step needs an imported list, and the coupon is a generated one (or the other way round).',
	CODE_SHARED:
		'A shared code (a coupon with Uses per Customer) cannot be held for one order, nor a shared coupon assigned to one contact or replaced by Coupon Import.',
	PLACEHOLDER_UNFILLED:
		'A coupon placeholder of the message cannot be filled, and If a Placeholder Cannot Be Filled says to fail the item.',
	REPLACE_WOULD_EMPTY: 'Replace would leave a coupon with no code to assign.',
	DELETE_NEEDS_CONFIRMATION:
		'Contacts hold codes of the coupon: Delete Assigned Codes Too must be on to delete them.',
	ORDER_MISMATCH:
		'(Contact Coupon versions 1 and 2) The code is held or was redeemed for another order.',
	RUN_SKIPPED: 'Not done because an earlier file of the run failed.',
	// The storage.
	STORE_UNREACHABLE: 'PostgreSQL could not be reached, or no connection was free in time.',
	STORE_ACCESS_DENIED:
		'The storage refused access: a login, a database, a right or a file that n8n may not open.',
	STORE_CONNECTION_LOST:
		'The connection to the storage broke; the step may or may not have been saved, as the message says.',
	STORE_BUSY: 'Another run held the coupons or the file too long, or a statement took too long.',
	STORE_CONFLICT:
		'Another run changed the same coupons at the same time (a deadlock, a coupon created meanwhile): run it again.',
	STORE_READ_ONLY: 'The Local coupon file is read-only, and the step changes coupons.',
	STORE_WRITE_FAILED: 'The storage could not write (a full disk, a failed sync).',
	STORE_DAMAGED: 'The stored coupons are damaged (a damaged file, or static data edited by hand).',
	STORE_NEWER: 'The stored coupons were written by a newer version of n8n-nodes-coupons.',
	STORE_NOT_SUPPORTED:
		'The storage cannot be used here (Local on an older Node.js, or at a symbolic link).',
	STORE_FAILED: 'The storage failed in another way; the message says how.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;
