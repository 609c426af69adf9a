// One OS process of a concurrency test: several executions assigning coupons from one pool.
// argv: store (postgres:<schema> or local:<file>), worker index, rounds, unique contacts per round,
// shared contacts, start time (ms)
import { UNAMBIGUOUS_CHARACTERS } from '../../nodes/shared/core/codes/codes';
import { assignCoupons } from '../../nodes/shared/core/assign/assign';
import { closeAllDatabases } from '../../nodes/shared/transport/postgres';
import { openStore } from './workerStore';

async function main(): Promise<void> {
	const [storeSpec, worker, rounds, uniquePerRound, shared, startAt] = process.argv.slice(2);
	const store = openStore(storeSpec);
	const settings = {
		couponName: 'LOAD',
		validDays: 30,
		policy: 'reuse' as const,
		format: { characters: UNAMBIGUOUS_CHARACTERS, length: 8, prefix: '' },
		usesPerCode: 1,
	};
	const results: Array<{ contact: string; code?: string; reused?: boolean; error?: string }> = [];
	// All processes begin together, so their assignments really overlap.
	await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(startAt) - Date.now())));
	for (let round = 0; round < Number(rounds); round++) {
		const contacts = [
			...Array.from(
				{ length: Number(uniquePerRound) },
				(_, j) => `w${worker}-r${round}-${j}@example.com`,
			),
			// Shared contacts serialise the runs that ask for them, so only every other round has them.
			...(round % 2 === 0
				? Array.from({ length: Number(shared) }, (_, k) => `shared-${k}@example.com`)
				: []),
		];
		const requests = contacts.map((contact) => ({ contact, contactKey: contact }));
		try {
			const { outcomes } = await store.transaction(
				async (session) => await assignCoupons(session, settings, requests, Date.now()),
			);
			outcomes.forEach((outcome, i) =>
				results.push(
					'value' in outcome
						? { contact: contacts[i], code: outcome.value.code, reused: outcome.value.reused }
						: { contact: contacts[i], error: outcome.error.message },
				),
			);
		} catch (error) {
			results.push({ contact: '*', error: (error as Error).message });
		}
	}
	await closeAllDatabases();
	process.stdout.write(JSON.stringify(results));
}

main().catch((error: unknown) => {
	process.stderr.write(String((error as Error).stack ?? error));
	process.exit(1);
});
