// One OS process in a long write, as another n8n importing a big list would be: a Local store
// transaction (BEGIN IMMEDIATE) that creates coupon <name> and stays open until a line arrives on
// stdin, then commits. argv: file, coupon name. Prints "holding" once the lock is held.
import { once } from 'node:events';
import { LocalStore } from '../../nodes/shared/stores/local/LocalStore';
import { localDatabase } from '../../nodes/shared/transport/sqlite';

async function main(): Promise<void> {
	const [file, couponName] = process.argv.slice(2);
	await new LocalStore(localDatabase(file)).transaction(async (session) => {
		await session.createPool(couponName, 'imported');
		process.stdout.write('holding\n');
		await once(process.stdin, 'data');
	});
	process.stdin.destroy();
}

main().catch((error: unknown) => {
	process.stderr.write(String((error as Error).stack ?? error));
	process.exit(1);
});
