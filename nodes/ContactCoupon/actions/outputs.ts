/**
 * Contact Coupon's outputs as n8n works them out from the node's parameters, in the editor and when
 * it runs: a second output, No Coupon, only while Generate for Contact sends items there. n8n runs
 * this as an expression (see `outputsExpression`), so it must use nothing from outside itself.
 */
export const configuredOutputs = (parameters: { operation?: string; ifNoCoupon?: string }) =>
	(parameters.operation ?? 'generate') === 'generate' && parameters.ifNoCoupon === 'noCouponOutput'
		? [
				{ type: 'main', displayName: 'Coupon' },
				{ type: 'main', displayName: 'No Coupon' },
			]
		: ['main'];

/** The node description's `outputs`: `configuredOutputs` of the node's parameters. */
export const outputsExpression = `={{(${configuredOutputs.toString()})($parameter)}}` as const;
