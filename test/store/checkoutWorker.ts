// One OS process of the checkout races: executions redeeming or reserving codes that other
// processes redeem or reserve at the same moment.
// argv: store (postgres:<schema> or local:<file>), start time (ms), requests per execution;
// stdin: the steps, as JSON, in this process's order.
import { readFileSync } from 'node:fs';
import { parseCodeRequest, redeemCodes } from '../../nodes/shared/core/checkout/checkout';
import { reserveCodes } from '../../nodes/shared/core/checkout/holds';
import { closeAllDatabases } from '../../nodes/shared/transport/postgres';
import type { CheckoutStep, StepResult } from './checkoutRaces';
import { openStore } from './workerStore';

async function main(): Promise<void> {
	const [storeSpec, startAt, perExecution] = process.argv.slice(2);
	const steps = JSON.parse(readFileSync(0, 'utf8')) as CheckoutStep[];
	const store = openStore(storeSpec);
	const results: StepResult[] = [];
	await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(startAt) - Date.now())));
	for (let i = 0; i < steps.length; i += Number(perExecution)) {
		const batch = steps.slice(i, i + Number(perExecution));
		try {
			const outcomes = await store.transaction(async (session) => {
				const now = Date.now();
				const requests = batch.map(({ code, order, contact }) => ({
					...parseCodeRequest(code, {
						orderReference: order,
						...(contact === undefined ? {} : { contact }),
					}),
					orderReference: order,
					holdMinutes: 15,
				}));
				// A batch is all of one action: the processes race each other, not themselves.
				return batch[0].action === 'reserve'
					? (await reserveCodes(session, requests, now)).map((o) =>
							'value' in o ? { status: o.value.status } : { error: o.error.message },
						)
					: (await redeemCodes(session, requests, now)).map((o) =>
							'value' in o ? { status: o.value.status } : { error: o.error.message },
						);
			});
			outcomes.forEach((outcome, j) => results.push({ ...batch[j], ...outcome }));
		} catch (error) {
			results.push({ ...batch[0], error: (error as Error).message });
		}
	}
	await closeAllDatabases();
	process.stdout.write(JSON.stringify(results));
}

main().catch((error: unknown) => {
	process.stderr.write(String((error as Error).stack ?? error));
	process.exit(1);
});
