import { SqlRows, type CountedCodes } from '../sqlRows';

/** node:sqlite hands back times as milliseconds and JSON as text. */
export const sqlRows = new SqlRows<number, number, string>({
	ms: (time) => time,
	parsed: (json) => JSON.parse(json),
});

/** Codes as one parameter of [pool, code key] pairs, read in SQL as `k` with json_each. */
export const codesList = ({ poolIds, codeKeys }: CountedCodes<number>) =>
	JSON.stringify(poolIds.map((poolId, i) => [poolId, codeKeys[i]]));

/**
 * The uses of shared codes (?1, pairs of pool and code key) that a UseScope asks for: those of
 * customers ?2 and of the customers of orders ?3, those numbered ?4, and each code's newest. Each is a look-up in an index,
 * however many customers used the code.
 */
export const SCOPED_USES = (() => {
	// INDEXED BY: without statistics SQLite takes the primary key's range of the code, every use.
	const ofCode = (index = '') =>
		`FROM json_each(?1) AS k JOIN redemptions r ${index} ON r.pool_id = k.value ->> 0 AND r.code_key = k.value ->> 1`;
	return `SELECT r.* ${ofCode('INDEXED BY redemptions_by_customer')}
			WHERE r.contact_key IS NOT NULL AND r.contact_key IN (SELECT value FROM json_each(?2))
		UNION SELECT r.* ${ofCode('INDEXED BY redemptions_by_customer')}
			WHERE r.contact_key IS NOT NULL AND r.contact_key IN (
				SELECT o.contact_key FROM redemptions o INDEXED BY redemptions_by_order
				WHERE o.pool_id = k.value ->> 0 AND o.code_key = k.value ->> 1 AND o.contact_key IS NOT NULL
					AND o.order_reference IN (SELECT value FROM json_each(?3)))
		UNION SELECT r.* ${ofCode()} WHERE r.n IN (SELECT value FROM json_each(?4))
		UNION SELECT r.* ${ofCode()}
			AND r.n = (SELECT max(m.n) FROM redemptions m WHERE m.pool_id = k.value ->> 0 AND m.code_key = k.value ->> 1)
		ORDER BY pool_id, code_key, n`;
})();

/** Every use of codes (?1, pairs of pool and code key), in order. */
export const WHOLE_USES = `SELECT r.* FROM redemptions r
	JOIN json_each(?) AS k ON r.pool_id = k.value ->> 0 AND r.code_key = k.value ->> 1 ORDER BY r.n`;
