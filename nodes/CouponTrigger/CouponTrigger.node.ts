import {
	NodeConnectionTypes,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
	type IPollFunctions,
} from 'n8n-workflow';
import { MAX_EVENTS_LIMIT, TEST_LOOK_BACK_DAYS } from '../shared/core/events/couponEvents';
import { couponPostgresConnectionTest } from '../shared/n8n/methods/credentialTest';
import { storageNotices, triggerStorageProperty } from '../shared/n8n/properties';
import { pollCouponEvents } from './pollCouponEvents';

export class CouponTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Coupon Trigger',
		name: 'couponTrigger',
		icon: { light: 'file:coupon.svg', dark: 'file:coupon.dark.svg' },
		group: ['trigger'],
		version: 1,
		subtitle: '={{$parameter["event"]}}',
		description:
			'Starts the workflow when a code is redeemed or undone, a checkout hold lapses, a coupon is about to end or a code list runs low',
		defaults: { name: 'Coupon Trigger' },
		// n8n adds Poll Times.
		polling: true,
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		credentials: [
			{
				name: 'couponPostgres',
				required: true,
				testedBy: 'couponPostgresConnectionTest',
				displayOptions: { show: { storage: ['database'] } },
			},
		],
		properties: [
			{
				displayName: 'Event',
				name: 'event',
				type: 'options',
				noDataExpression: true,
				options: [
					{
						name: 'Expiring Soon',
						value: 'expiringSoon',
						description:
							'A contact’s coupon ends within the days set below and is not used yet: once per coupon, for a reminder',
					},
					{
						name: 'Hold Lapsed',
						value: 'holdLapsed',
						description:
							'A checkout held a code (Reserve) and its time ran out without a redemption: the abandoned checkout',
					},
					{
						name: 'Low Stock',
						value: 'lowStock',
						description:
							'A code list falls below the limits set below: once, and again only after it was restocked',
					},
					{
						name: 'Redeemed',
						value: 'redeemed',
						description: 'A code was used at checkout (Redeem): once per use, with its order',
					},
					{
						name: 'Redemption Undone',
						value: 'undone',
						description: 'A use was given back (Undo Redemption): once per use undone',
					},
				],
				default: 'redeemed',
			},
			triggerStorageProperty,
			...storageNotices.filter((notice) => notice.name !== 'staticDataNotice'),
			{
				displayName: 'Coupon Names',
				name: 'couponNames',
				type: 'string',
				default: '',
				placeholder: 'e.g. SPRING10, VIP',
				description:
					'The coupons to watch, separated by commas (case does not matter). Leave empty to watch every coupon of the storage.',
			},
			{
				displayName: 'Fewer Available Codes Than',
				name: 'availableBelow',
				type: 'number',
				typeOptions: { minValue: 0 },
				default: 100,
				description:
					'Fires when a list has fewer codes left to assign than this. Generated coupons make codes as needed and never run low.',
				displayOptions: { show: { event: ['lowStock'] } },
			},
			{
				displayName: 'Fewer Days of Stock Than',
				name: 'daysLeftBelow',
				type: 'number',
				typeOptions: { minValue: 0 },
				default: 0,
				description:
					'Also fires when the codes left last fewer days than this at the last 7 days’ rate of assigning (as Get Pool Statistics’ daysLeft). 0 leaves it out.',
				displayOptions: { show: { event: ['lowStock'] } },
			},
			{
				displayName: 'Days Before the End',
				name: 'withinDays',
				type: 'number',
				typeOptions: { minValue: 1, maxValue: 365 },
				default: 3,
				description:
					'Fires for each active coupon that ends within this many days. A coupon valid for fewer days fires as soon as it is assigned.',
				displayOptions: { show: { event: ['expiringSoon'] } },
			},
			{
				displayName: 'Options',
				name: 'options',
				type: 'collection',
				placeholder: 'Add option',
				default: {},
				options: [
					{
						displayName: 'Max Events per Poll',
						name: 'maxEvents',
						type: 'number',
						typeOptions: { minValue: 1, maxValue: MAX_EVENTS_LIMIT },
						default: 100,
						description:
							'Events one poll starts the workflow with, at most; the rest come at the next polls, none skipped',
					},
				],
			},
			{
				displayName: `Events show at the first poll two minutes or more after they happen, once each. Fetch Test Event shows recent ones (of the last ${TEST_LOOK_BACK_DAYS} days) and does not move the trigger on.`,
				name: 'pollNotice',
				type: 'notice',
				default: '',
				// Low Stock looks at the lists as they are at each poll.
				displayOptions: { hide: { event: ['lowStock'] } },
			},
		],
	};

	methods = { credentialTest: { couponPostgresConnectionTest } };

	async poll(this: IPollFunctions): Promise<INodeExecutionData[][] | null> {
		return await pollCouponEvents.call(this);
	}
}
