import { SqlRows } from '../sqlRows';

/** node:sqlite hands back times as milliseconds and JSON as text. */
export const sqlRows = new SqlRows<number, number, string>({
	ms: (time) => time,
	parsed: (json) => JSON.parse(json),
});
