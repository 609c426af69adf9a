import type { IExecuteFunctions } from 'n8n-workflow';
import { parseNoCouponSetting, type NoCouponSetting } from '../../shared/core/assign/noCoupon';
import { runsAsTool } from '../../shared/n8n/agentTool';

/**
 * Contact Coupon's outputs as n8n works them out from the node's parameters, in the editor and when
 * it runs: a second output, No Coupon, only while Generate for Contact (or Render Placeholders
 * where it assigns) sends items there. n8n runs this as an expression (see `outputsExpression`),
 * so it must use nothing from outside itself.
 */
export const configuredOutputs = (parameters: {
	operation?: string;
	whenMissing?: string;
	ifNoCoupon?: string;
}) =>
	parameters.ifNoCoupon === 'noCouponOutput' &&
	((parameters.operation ?? 'generate') === 'generate' ||
		(parameters.operation === 'render' && (parameters.whenMissing ?? 'assign') === 'assign'))
		? [
				{ type: 'main', displayName: 'Coupon' },
				{ type: 'main', displayName: 'No Coupon' },
			]
		: ['main'];

/** The node description's `outputs`: `configuredOutputs` of the node's parameters. */
export const outputsExpression = `={{(${configuredOutputs.toString()})($parameter)}}` as const;

/**
 * How many outputs the node shows for a run of `operation`: what `configuredOutputs` makes of it.
 * As an AI agent's tool it has one, whose items the model reads, so a No Coupon item answers the
 * model there, with its `noCoupon` reason.
 */
export const outputCountOf = (context: IExecuteFunctions, operation: string): number =>
	runsAsTool(context)
		? 1
		: configuredOutputs({
				operation,
				whenMissing: context.getNodeParameter('whenMissing', 0, 'assign') as string,
				ifNoCoupon: context.getNodeParameter('ifNoCoupon', 0, 'fail') as string,
			}).length;

/**
 * If No Coupon Is Available for item `itemIndex`: item 0's choice (one per run, as it sets the
 * node's outputs, even where an imported workflow maps it), with the item's own fallback code.
 */
export const readNoCouponSetting = (
	context: IExecuteFunctions,
	itemIndex: number,
): NoCouponSetting =>
	parseNoCouponSetting(context.getNodeParameter('ifNoCoupon', 0, 'fail'), () =>
		context.getNodeParameter('fallbackCode', itemIndex),
	);
