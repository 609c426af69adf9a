import { NodeOperationError, type INodeExecutionData, type IPollFunctions } from 'n8n-workflow';
import { now } from '../shared/core/common/clock';
import { CouponError } from '../shared/core/common/errors';
import {
	parseTriggerSettings,
	pollTrigger,
	TEST_LOOK_BACK_DAYS,
	type TriggerSettings,
} from '../shared/core/events/couponEvents';
import { nodeError } from '../shared/n8n/nodeErrors';
import { openStoreOf } from '../shared/n8n/openStore';
import { nodeStoragePathOf } from '../shared/transport/sqlite';

const EVENT_WORDS: Record<TriggerSettings['event'], string> = {
	expiringSoon: 'Expiring Soon',
	holdLapsed: 'Hold Lapsed',
	lowStock: 'Low Stock',
	redeemed: 'Redeemed',
	undone: 'Redemption Undone',
};

/**
 * One poll of the Coupon Trigger: the events since the last poll, at most Max Events, as items,
 * or null when there are none. The cursor lives in the coupon store, not in n8n's static data: a
 * poll saves the workflow's static data whole, as it was when the workflow was published.
 */
export async function pollCouponEvents(
	this: IPollFunctions,
): Promise<INodeExecutionData[][] | null> {
	const param = (name: string, fallback?: unknown) => this.getNodeParameter(name, fallback);
	let settings: TriggerSettings;
	try {
		settings = parseTriggerSettings({
			event: param('event'),
			couponNames: param('couponNames', ''),
			availableBelow: param('availableBelow', 100),
			daysLeftBelow: param('daysLeftBelow', 0),
			withinDays: param('withinDays', 3),
			maxEvents: (param('options', {}) as { maxEvents?: unknown }).maxEvents ?? 100,
		});
	} catch (error) {
		throw nodeError(this, error, 0);
	}
	const storage = param('storage', 'local') as string;
	if (storage === 'staticData')
		throw nodeError(
			this,
			new CouponError(
				'STORE_NOT_SUPPORTED',
				'The Coupon Trigger cannot watch coupons kept in workflow static data: a published workflow’s trigger sees static data only as it was when the workflow was published',
				'Keep the coupons in Local (This n8n) or Database (PostgreSQL), in the trigger and in the nodes that hand out and redeem them.',
			),
			0,
		);
	const node = this.getNode();
	const { store } = await openStoreOf(this, storage, () => nodeStoragePathOf(node.type));
	const test = this.getMode() === 'manual';
	// One cursor per trigger: its workflow and node id, which a rename keeps.
	const key = `${this.getWorkflow().id ?? ''}/${node.id}`;
	let events;
	try {
		events = await pollTrigger(store, key, settings, now(), test);
	} catch (error) {
		throw nodeError(this, error, 0);
	}
	if (events.length > 0) return [this.helpers.returnJsonArray(events as never)];
	if (!test) return null;
	throw new NodeOperationError(node, noSampleMessage(settings), {
		description:
			settings.event === 'lowStock'
				? 'Raise Fewer Available Codes Than to see a list, or leave the trigger to fire when one runs low.'
				: 'Make one happen with a Contact Coupon node on the same storage (Redeem, Undo Redemption, Reserve, or Generate for Contact), then fetch again. Published, the trigger fires on new events only.',
	});
}

/** What a test run found nothing of. */
function noSampleMessage(settings: TriggerSettings): string {
	const named = settings.couponKeys ? ' of the coupons named' : '';
	if (settings.event === 'lowStock') return `No code list${named} is below the limits now`;
	if (settings.event === 'expiringSoon')
		return `No active coupon${named} ends within ${settings.withinDays} days`;
	return `No ${EVENT_WORDS[settings.event]} event${named} in the last ${TEST_LOOK_BACK_DAYS} days`;
}
