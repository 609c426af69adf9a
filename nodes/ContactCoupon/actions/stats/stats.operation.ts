import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { now } from '../../../shared/core/clock';
import { outcomesOf } from '../../../shared/core/errors';
import { couponNameKey, parseCouponName } from '../../../shared/core/names';
import { poolStatistics, type PoolStatistics } from '../../../shared/core/statistics';
import { serveItems } from '../serveItems';

export const description: INodeProperties[] = [
	{
		displayName: 'Coupon Name',
		name: 'couponName',
		type: 'string',
		default: '',
		placeholder: 'e.g. SPRING10',
		description: 'The coupon to report on. Leave empty for one item per coupon.',
		displayOptions: { show: { operation: ['stats'] } },
	},
];

/** "Get Pool Statistics": one item per coupon with its counts and, for imported lists, the days left. */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	return await serveItems<string | undefined, PoolStatistics[]>(this, {
		read: (i) => {
			const raw = this.getNodeParameter('couponName', i, '');
			return String(raw ?? '').trim() === '' ? undefined : parseCouponName(raw);
		},
		serve: async (session, names) => {
			// Items asking for the same coupon (or all) share one count: a report after 500 items counts once.
			const keyOf = (name: string | undefined) => (name === undefined ? '' : couponNameKey(name));
			const distinct = [...new Map(names.map((name) => [keyOf(name), name])).values()];
			const outcomes = await outcomesOf(
				distinct,
				async (name) => await poolStatistics(session, name, now()),
			);
			const byKey = new Map(distinct.map((name, i) => [keyOf(name), outcomes[i]]));
			return names.map((name) => byKey.get(keyOf(name))!);
		},
		output: (_json, statistics) => statistics.map((pool) => ({ ...pool })),
	});
}
