import { PostgresStore } from '../../nodes/shared/store/postgres/PostgresStore';
import { databaseFor } from '../../nodes/shared/transport/postgres';
import { databaseAvailable, describeWithDatabase, dropSchema, testCredentials, uniqueSchema } from '../helpers/postgres';
import { describeCouponStoreContract } from './contract';

if (databaseAvailable) {
	describeCouponStoreContract('PostgreSQL', async () => {
		const schema = uniqueSchema('contract');
		const database = databaseFor(testCredentials(schema));
		return {
			open: () => new PostgresStore(database),
			close: async () => {
				await database.close();
				await dropSchema(schema);
			},
		};
	});
}

describeWithDatabase('PostgresStore', () => {
	it('placeholder', () => expect(true).toBe(true));
});
