import { LocalStore } from '../../nodes/shared/stores/local/LocalStore';
import { localDatabase } from '../../nodes/shared/transport/sqlite';
import { temporaryLocalFile } from '../helpers/localFiles';
import { describeCouponStoreContract, type StoreFixture } from './contract';
import { describeOperationsContract } from './operationsContract';
import { describeSharedCodesContract } from './sharedCodesContract';
import { describeTriggerEventsContract } from './eventsContract';

async function localFixture(): Promise<StoreFixture> {
	const { file, remove } = temporaryLocalFile('contract');
	return {
		open: () => new LocalStore(localDatabase(file)),
		close: async () => remove(),
	};
}

describeCouponStoreContract('Local (SQLite file)', localFixture);
describeOperationsContract('Local (SQLite file)', localFixture);
describeSharedCodesContract('Local (SQLite file)', localFixture);
describeTriggerEventsContract('Local (SQLite file)', localFixture);
