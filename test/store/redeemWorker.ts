// One OS process of the redemption concurrency test: executions redeeming codes other processes redeem too.
// argv: schema, worker index, batch size, start time (ms); stdin: the codes, as JSON, in this worker's order.
import { readFileSync } from 'node:fs';
import { redeemCodes } from '../../nodes/shared/core/checkout';
import { codeKey } from '../../nodes/shared/core/codes';
import { PostgresStore } from '../../nodes/shared/store/postgres/PostgresStore';
import { closeAllDatabases, databaseFor } from '../../nodes/shared/transport/postgres';
import { testCredentials } from '../helpers/postgres';

async function main(): Promise<void> {
	const [schema, worker, batchSize, startAt] = process.argv.slice(2);
	const codes = JSON.parse(readFileSync(0, 'utf8')) as string[];
	const store = new PostgresStore(databaseFor(testCredentials(schema, { maxConnections: 2 })));
	const results: Array<{ code: string; status?: string; error?: string }> = [];
	await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(startAt) - Date.now())));
	for (let i = 0; i < codes.length; i += Number(batchSize)) {
		const batch = codes.slice(i, i + Number(batchSize));
		const requests = batch.map((code) => ({
			code,
			key: codeKey(code),
			orderReference: `w${worker}-${code}`,
		}));
		try {
			const outcomes = await store.transaction(
				async (session) => await redeemCodes(session, requests, Date.now()),
			);
			outcomes.forEach((outcome, j) =>
				results.push(
					'value' in outcome
						? { code: batch[j], status: outcome.value.status }
						: { code: batch[j], error: outcome.error.message },
				),
			);
		} catch (error) {
			results.push({ code: '*', error: (error as Error).message });
		}
	}
	await closeAllDatabases();
	process.stdout.write(JSON.stringify(results));
}

main().catch((error: unknown) => {
	process.stderr.write(String((error as Error).stack ?? error));
	process.exit(1);
});
