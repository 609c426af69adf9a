import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOCAL_FILE_NAME, closeLocalDatabase } from '../../nodes/shared/transport/sqlite';

/** A local coupon file in a folder of its own; `remove` closes it and deletes the folder. */
export function temporaryLocalFile(label = 'local'): { file: string; remove: () => void } {
	const folder = mkdtempSync(join(tmpdir(), `coupons-${label}-`));
	const file = join(folder, LOCAL_FILE_NAME);
	return {
		file,
		remove: () => {
			closeLocalDatabase(file);
			// A checkpoint thread of a database the test opened may still end its work on the -wal
			// and -shm files: removal retries (ENOTEMPTY) rather than fail the test that passed.
			rmSync(folder, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
		},
	};
}
