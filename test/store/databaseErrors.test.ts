import { StoreError } from '../../nodes/shared/core/common/errors';
import { describeDatabaseError } from '../../nodes/shared/transport/postgres';

const pgError = (code: string | undefined, message: string) =>
	Object.assign(new Error(message), { code });

describe('describeDatabaseError', () => {
	it('says when the pool had no free connection, naming its size and the setting to raise', () => {
		const error = describeDatabaseError(
			new Error('timeout exceeded when trying to connect'),
			'db:5432',
			10,
		) as StoreError;
		expect(error).toBeInstanceOf(StoreError);
		expect(error.message).toBe(
			'Could not get a connection to PostgreSQL at db:5432 within 10 seconds: all 10 connections of this n8n process were busy, or the server did not answer',
		);
		expect(error.description).toMatch(/Raise Max Connections/);
	});

	it('words network failures without the raw codes that n8n would replace with a generic text', () => {
		const error = describeDatabaseError(
			pgError('ENOTFOUND', 'getaddrinfo ENOTFOUND db'),
			'db:5432',
		);
		expect(error.message).toBe(
			'Could not connect to PostgreSQL at db:5432: the host name was not found',
		);
		expect(error.message).not.toMatch(/ENOTFOUND/);
	});

	it('maps serialisation failures, deadlocks and lost connections to errors that say to run again', () => {
		for (const [code, text] of [
			['40001', 'could not serialise this step'],
			['40P01', 'break a deadlock'],
			['57P01', 'was lost'],
		]) {
			const error = describeDatabaseError(pgError(code, 'server said so'), 'db:5432') as StoreError;
			expect(error.message).toContain(text);
			expect(error.description).toMatch(/Nothing of this step was saved/);
		}
	});
});
