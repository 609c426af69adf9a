import type { CouponStore } from '../../nodes/shared/core/storeContract';
import { LocalStore } from '../../nodes/shared/stores/local/LocalStore';
import { PostgresStore } from '../../nodes/shared/stores/postgres/PostgresStore';
import { databaseFor } from '../../nodes/shared/transport/postgres';
import { localDatabase } from '../../nodes/shared/transport/sqlite';
import { testCredentials } from '../helpers/postgres';

/** The store a worker process opens: `postgres:<schema>` or `local:<file>`. */
export function openStore(spec: string): CouponStore {
	const [kind, where] = [spec.slice(0, spec.indexOf(':')), spec.slice(spec.indexOf(':') + 1)];
	if (kind === 'local') return new LocalStore(localDatabase(where));
	return new PostgresStore(databaseFor(testCredentials(where, { maxConnections: 2 })));
}
