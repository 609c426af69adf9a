import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { now } from '../../../shared/core/common/clock';
import { couponNameKey, parseOptionalCouponName } from '../../../shared/core/common/names';
import { poolStatisticsForRun, type PoolStatistics } from '../../../shared/core/pool/statistics';
import { runItems } from '../../../shared/n8n/itemRunner';
import { beforeVersion3 } from '../versions';
import { couponNameProperty } from '../../../shared/n8n/properties';

export const properties: INodeProperties[] = [
	couponNameProperty(
		'The coupon to report on. Leave empty for one item per coupon. Each coupon comes out once per run, however many input items there are.',
		{ required: false },
	),
];

/** "Get Pool Statistics": one item per coupon with its counts and, for imported lists, the days left. */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	// A report per run, not per input item: each coupon's row goes with the first item that asked.
	const reported = new Set<string>();
	const legacy = beforeVersion3(this);
	return await runItems<string | undefined, PoolStatistics[]>(this, {
		read: (i) => {
			return parseOptionalCouponName(this.getNodeParameter('couponName', i, ''));
		},
		serve: async (session, names) => ({
			outcomes: await poolStatisticsForRun(session, names, now()),
		}),
		readOnly: true,
		// Nodes saved before version 3 called codes Create Codes made an imported list.
		output: (_json, statistics) =>
			statistics
				.filter(
					({ name }) => !reported.has(couponNameKey(name)) && reported.add(couponNameKey(name)),
				)
				.map((pool) => ({
					...pool,
					source: legacy && pool.source === 'created' ? 'imported' : pool.source,
				})),
	});
}
