import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { CouponError, type Outcome } from '../../shared/core/common/errors';

/**
 * Contact Coupon's versions. Version 3 changed what saved workflows may rely on: Render creates a
 * coupon for a name nobody has only when asked (Create Unknown Coupons) and fails an item whose
 * coupon placeholder it cannot fill; Release Code and Undo Redemption answer another order's hold
 * or use as a status instead of failing the item; Get Pool Statistics calls codes Create Codes
 * made `created`. Nodes saved at 1 or 2 keep their behaviour.
 */
export const CONTACT_COUPON_VERSIONS = [1, 2, 3];

/** Whether the node runs as saved before version 3. */
export const beforeVersion3 = (context: IExecuteFunctions): boolean =>
	context.getNode().typeVersion < 3;

/**
 * A parameter as nodes before version 3 show it (`legacy`), and with `changes` from version 3 on.
 * n8n stores no parameter equal to its default, so a default belongs to a version: a saved node
 * must never find a new default under it.
 */
export function byVersion(
	legacy: INodeProperties,
	changes: Partial<INodeProperties>,
): INodeProperties[] {
	const show = legacy.displayOptions?.show;
	return [
		{
			...legacy,
			displayOptions: { ...legacy.displayOptions, show: { ...show, '@version': [1, 2] } },
		},
		{
			...legacy,
			...changes,
			displayOptions: {
				...legacy.displayOptions,
				show: { ...show, '@version': [{ _cnd: { gte: 3 } }] },
			},
		},
	];
}

/**
 * For nodes saved before version 3, which failed the item where version 3 answers `status`: those
 * answers as the item errors they were, with `fix`.
 */
export function asLegacyErrors<T extends { status: string; message: string }>(
	context: IExecuteFunctions,
	outcomes: Array<Outcome<T>>,
	status: T['status'],
	fix: string,
): Array<Outcome<T>> {
	if (!beforeVersion3(context)) return outcomes;
	return outcomes.map((outcome) =>
		'value' in outcome && outcome.value.status === status
			? { error: new CouponError('ORDER_MISMATCH', outcome.value.message, fix) }
			: outcome,
	);
}
