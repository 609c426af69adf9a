import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties, NodeOperationError } from 'n8n-workflow';
import { now } from '../../../shared/core/clock';
import { parseLength, parsePrefix, resolveCharacters, MAX_LENGTH, MIN_LENGTH } from '../../../shared/core/codes';
import { ACTIVE_COUPON_POLICIES, issueCoupons, type ActiveCouponPolicy, type CouponRequest, type IssuedCoupon, type IssueSettings } from '../../../shared/core/issue';
import { CouponError } from '../../../shared/core/errors';
import { couponNameKey, parseContact, parseCouponName } from '../../../shared/core/names';
import { MAX_VALID_DAYS, parseValidDays } from '../../../shared/core/validity';
import { errorItem, nodeError } from '../../../shared/errors';
import { openStore, warnIfNotSaved } from '../../../shared/storage';

const show = { show: { operation: ['generate'] } };

export const description: INodeProperties[] = [
	{
		displayName: 'Name',
		name: 'couponName',
		type: 'string',
		default: '',
		required: true,
		placeholder: 'e.g. WELCOME10',
		description:
			'The coupon to hand out. If a list of this name was imported with Coupon Import, each contact gets a random unused value from it; otherwise this becomes a generated coupon and each contact gets a new random code.',
		displayOptions: show,
	},
	{
		displayName: 'Length',
		name: 'length',
		type: 'number',
		default: 8,
		typeOptions: { minValue: MIN_LENGTH, maxValue: MAX_LENGTH, numberPrecision: 0 },
		description: `Random characters in each generated code (${MIN_LENGTH} to ${MAX_LENGTH}). Ignored for imported lists, which keep their own values.`,
		displayOptions: show,
	},
	{
		displayName: 'Imported lists keep their own values: Length and the code options below apply only to generated coupons.',
		name: 'lengthNotice',
		type: 'notice',
		default: '',
		displayOptions: show,
	},
	{
		displayName: 'Valid (Days)',
		name: 'validDays',
		type: 'number',
		default: 30,
		required: true,
		typeOptions: { minValue: 1, maxValue: MAX_VALID_DAYS, numberPrecision: 0 },
		description: 'How many days the coupon can be used after it is handed out. After that it is expired and never handed out again.',
		displayOptions: show,
	},
	{
		displayName: 'Contact',
		name: 'contact',
		type: 'string',
		default: '={{ $json.email }}',
		required: true,
		description: 'Who receives the coupon, usually an email address or a CRM ID. Matched ignoring case and surrounding spaces.',
		displayOptions: show,
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add option',
		default: {},
		displayOptions: show,
		options: [
			{
				displayName: 'If Contact Already Has One',
				name: 'activeCoupon',
				type: 'options',
				options: [
					{
						name: 'Return the Same Coupon',
						value: 'reuse',
						description: 'A retried run or a contact re-entering the workflow keeps the coupon it has',
					},
					{
						name: 'Replace It',
						value: 'replace',
						description: 'The old coupon stops being valid now and a new one is handed out',
					},
					{
						name: 'Issue Another',
						value: 'issueAnother',
						description: 'The contact keeps the old coupon and gets a new one too',
					},
				],
				default: 'reuse',
				description: 'What to do when the contact already holds an active (unexpired) coupon of this name',
			},
			{
				displayName: 'Characters',
				name: 'characters',
				type: 'options',
				options: [
					{ name: 'Letters and Digits Without Look-Alikes', value: 'unambiguous', description: 'A-Z and 2-9 without 0/O and 1/I/L' },
					{ name: 'Letters and Digits', value: 'alphanumeric', description: 'A-Z and 0-9' },
					{ name: 'Digits Only', value: 'digits', description: '0-9' },
					{ name: 'Custom', value: 'custom', description: 'The characters entered in Custom Characters' },
				],
				default: 'unambiguous',
				description: 'Characters generated codes are made of',
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
				displayName: 'Prefix',
				name: 'prefix',
				type: 'string',
				default: '',
				placeholder: 'e.g. SUMMER-',
				description: 'Text put before every generated code; it does not count towards Length',
			},
		],
	},
];

interface GenerateOptions {
	activeCoupon?: string;
	characters?: string;
	customCharacters?: string;
	prefix?: string;
}

function readSettings(context: IExecuteFunctions, itemIndex: number): IssueSettings {
	const options = context.getNodeParameter('options', itemIndex, {}) as GenerateOptions;
	const policy = (options.activeCoupon ?? 'reuse') as ActiveCouponPolicy;
	if (!ACTIVE_COUPON_POLICIES.includes(policy)) {
		throw new CouponError(`Unknown choice "${policy}" for If Contact Already Has One`, 'Choose one of the listed choices.');
	}
	return {
		couponName: parseCouponName(context.getNodeParameter('couponName', itemIndex)),
		validDays: parseValidDays(context.getNodeParameter('validDays', itemIndex)),
		policy,
		format: {
			length: parseLength(context.getNodeParameter('length', itemIndex, 8)),
			characters: resolveCharacters(options.characters ?? 'unambiguous', options.customCharacters ?? ''),
			prefix: parsePrefix(options.prefix),
		},
	};
}

interface Batch {
	settings: IssueSettings;
	itemIndexes: number[];
	requests: CouponRequest[];
}

/** "Generate for Contact": one coupon per input item, added to the item as `coupon`. */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const items = this.getInputData();
	const { store, storage } = await openStore(this);
	const results: Array<IssuedCoupon | NodeOperationError> = new Array(items.length);
	const fail = (error: unknown, itemIndex: number) => {
		const failure = nodeError(this, error, itemIndex);
		if (!this.continueOnFail()) throw failure;
		results[itemIndex] = failure;
	};

	// Items with the same settings (usually all of them) are served in one batch: one round of store work.
	const batches = new Map<string, Batch>();
	for (let i = 0; i < items.length; i++) {
		try {
			const settings = readSettings(this, i);
			const { contact, key } = parseContact(this.getNodeParameter('contact', i));
			const batchKey = JSON.stringify({ ...settings, couponName: couponNameKey(settings.couponName) });
			let batch = batches.get(batchKey);
			if (!batch) batches.set(batchKey, (batch = { settings, itemIndexes: [], requests: [] }));
			batch.itemIndexes.push(i);
			batch.requests.push({ contact, contactKey: key });
		} catch (error) {
			fail(error, i);
		}
	}

	const importedCoupons = new Set<string>();
	const serve = store.transaction(async (session) => {
		for (const { settings, itemIndexes, requests } of batches.values()) {
			let outcomes;
			try {
				const result = await issueCoupons(session, settings, requests, now());
				if (result.pool.kind === 'imported') importedCoupons.add(result.pool.name);
				outcomes = result.outcomes;
			} catch (error) {
				if (!(error instanceof CouponError)) throw nodeError(this, error, itemIndexes[0]);
				outcomes = requests.map(() => ({ error }));
			}
			// A throw here rolls the whole transaction back: without Continue on Fail nothing is kept.
			outcomes.forEach((outcome, j) => ('coupon' in outcome ? (results[itemIndexes[j]] = outcome.coupon) : fail(outcome.error, itemIndexes[j])));
		}
	});
	// A storage failure (such as a lost connection) ends the whole run: nothing of it was kept.
	await serve.catch((error: unknown) => {
		throw nodeError(this, error, 0);
	});

	for (const name of importedCoupons) {
		this.addExecutionHints({
			message: `Coupon "${name}" is an imported list, so its own values were handed out; Length and the code options were ignored.`,
			location: 'outputPane',
		});
	}
	warnIfNotSaved(this, storage, 'these coupons were not stored and the same codes can be handed out again.');

	return items.map((item, i) => {
		const result = results[i];
		if (!(result instanceof Error)) {
			return { json: { ...item.json, coupon: result as unknown as IDataObject }, binary: item.binary, pairedItem: { item: i } };
		}
		return errorItem(item, result, i);
	});
}
