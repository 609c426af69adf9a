import type {
	CouponStore,
	CouponStoreSession,
	ListedCode,
	StagedList,
	TransactionOptions,
} from '../../nodes/shared/core/storeContract';
import { codeKey } from '../../nodes/shared/core/codes/codes';
import { DAY_MS } from '../../nodes/shared/core/common/validity';
import { HEAVY_TEST_MS } from '../helpers/timeouts';

export interface StoreFixture {
	/** A store over the fixture's data, as a new execution would open it. */
	open(): CouponStore;
	close(): Promise<void>;
}

const T0 = Date.UTC(2026, 5, 1);
const pending = (contactKey: string, days = 30) => ({
	contactKey,
	assignedAt: T0,
	validUntil: T0 + days * DAY_MS,
});
const candidate = (code: string, row: number) => ({ code, key: codeKey(code), row });
/** Every code of the pool, read in pages of `pageSize`; the pages too. */
export async function listedCodes(
	session: CouponStoreSession,
	name: string,
	pageSize = 100,
): Promise<{ codes: ListedCode[]; pages: ListedCode[][] }> {
	const pages: ListedCode[][] = [];
	for await (const page of session.listCodes(name, pageSize)) pages.push(page);
	return { codes: pages.flat(), pages };
}

const codes = (n: number, prefix = 'C') =>
	Array.from({ length: n }, (_, i) => candidate(`${prefix}${String(i).padStart(4, '0')}`, i + 2));

/**
 * The behaviour every CouponStore must have. Each store's test file runs this suite unchanged,
 * so the stores cannot drift apart.
 */
export function describeCouponStoreContract(
	label: string,
	makeFixture: () => Promise<StoreFixture>,
): void {
	describe(`CouponStore contract: ${label}`, () => {
		let fixture: StoreFixture;
		beforeEach(async () => (fixture = await makeFixture()));
		afterEach(async () => await fixture.close());

		const run = <T>(work: (session: CouponStoreSession) => Promise<T>): Promise<T> =>
			fixture.open().transaction(work);
		/** `work` in a transaction of a staging area holding one list of these keys. */
		const withKeys = async <T>(
			keys: string[],
			work: (session: CouponStoreSession, list: StagedList) => Promise<T>,
			options?: TransactionOptions,
		): Promise<T> =>
			await fixture.open().withStaging(async (staging) => {
				const list = staging.newList();
				await staging.stage(
					list,
					keys.map((key, i) => candidate(key, i + 2)),
				);
				return await staging.transaction(async (s) => await work(s, list), options);
			});

		it('creates pools and finds them by name in any case, keeping the first spelling', async () => {
			await run(async (s) => await s.createPool('Summer Sale', 'imported'));
			const found = await run(async (s) => await s.findPool('  SUMMER sale '));
			expect(found).toEqual({
				name: 'Summer Sale',
				kind: 'imported',
				codeCount: 0,
				usesPerCode: 1,
			});
			expect(await run(async (s) => await s.findPool('Winter'))).toBeUndefined();
		});

		it('returns the existing pool when asked to create one that exists', async () => {
			await run(async (s) => await s.createPool('Twice', 'imported'));
			expect(await run(async (s) => await s.createPool('TWICE', 'generated'))).toEqual({
				name: 'Twice',
				kind: 'imported',
				codeCount: 0,
				usesPerCode: 1,
			});
		});

		it('lists at most 20 duplicate examples, in row order, and counts them all', async () => {
			await run(async (s) => {
				await s.createPool('P', 'imported');
				await s.addImported('P', codes(30));
			});
			const again = await run(async (s) => await s.addImported('P', codes(30)));
			expect(again.duplicates).toBe(30);
			expect(again.duplicateExamples).toEqual(codes(20));
		});

		it('treats __proto__ and constructor as ordinary pool names', async () => {
			await run(async (s) => {
				for (const name of ['__proto__', 'constructor']) {
					await s.createPool(name, 'imported');
					await s.addImported(name, codes(2, name));
				}
			});
			expect(await run(async (s) => await s.findPool('__proto__'))).toEqual({
				name: '__proto__',
				kind: 'imported',
				codeCount: 2,
				usesPerCode: 1,
			});
			expect(await run(async (s) => await s.findPool('constructor'))).toEqual({
				name: 'constructor',
				kind: 'imported',
				codeCount: 2,
				usesPerCode: 1,
			});
			expect(({} as Record<string, unknown>).codeCount).toBeUndefined();
		});

		it('imports codes once, reporting those the pool already holds in any case or spacing', async () => {
			const first = await run(async (s) => {
				await s.createPool('P', 'imported');
				return await s.addImported('P', [candidate('AB-12', 2), candidate('CD34', 3)]);
			});
			expect(first).toEqual({
				added: 2,
				duplicates: 0,
				duplicateExamples: [],
				codeCount: 2,
				available: 2,
			});
			const second = await run(
				async (s) => await s.addImported('P', [candidate('ab12', 2), candidate('EF56', 3)]),
			);
			expect(second).toEqual({
				added: 1,
				duplicates: 1,
				duplicateExamples: [candidate('ab12', 2)],
				codeCount: 3,
				available: 3,
			});
		});

		it('hands each imported code to one contact only, in random order, and runs dry cleanly', async () => {
			await run(async (s) => {
				await s.createPool('P', 'imported');
				await s.addImported('P', codes(60));
			});
			const assigned: string[] = [];
			for (let i = 0; i < 6; i++) {
				const batch = await run(
					async (s) =>
						await s.assignImported(
							'P',
							Array.from({ length: 10 }, (_, j) => pending(`c${i * 10 + j}`)),
						),
				);
				expect(batch.map((a) => a.contactKey)).toEqual(
					Array.from({ length: 10 }, (_, j) => `c${i * 10 + j}`),
				);
				assigned.push(...batch.map((a) => a.code));
			}
			expect(new Set(assigned).size).toBe(60);
			expect(assigned.sort()).toEqual(codes(60).map((c) => c.code));
			// The order assigned is not the import order (60! orders; equal only by a broken picker).
			const rerun = await makeFixture();
			await rerun.open().transaction(async (s) => {
				await s.createPool('P', 'imported');
				await s.addImported('P', codes(60));
			});
			const order = await rerun.open().transaction(
				async (s) =>
					await s.assignImported(
						'P',
						Array.from({ length: 60 }, (_, j) => pending(`c${j}`)),
					),
			);
			await rerun.close();
			expect(order.map((a) => a.code)).not.toEqual(codes(60).map((c) => c.code));
			expect(order.map((a) => a.code)).not.toEqual(
				codes(60)
					.map((c) => c.code)
					.reverse(),
			);

			const dry = await run(async (s) => await s.assignImported('P', [pending('late')]));
			expect(dry).toEqual([]);
			const counts = await run(async (s) => await s.countPool('P', T0, 0));
			expect(counts).toEqual({
				available: 0,
				lapsed: 0,
				assigned: 60,
				active: 60,
				expired: 0,
				redeemed: 0,
				replaced: 0,
				assignedSince: 60,
				uses: 0,
				held: 0,
			});
		});

		it('gives a partial assignment to the first requests when fewer codes are left', async () => {
			await run(async (s) => {
				await s.createPool('P', 'imported');
				await s.addImported('P', codes(2));
			});
			const assigned = await run(
				async (s) => await s.assignImported('P', [pending('a'), pending('b'), pending('c')]),
			);
			expect(assigned.map((a) => a.contactKey)).toEqual(['a', 'b']);
			expect(assigned[0]).toMatchObject({ assignedAt: T0, validUntil: T0 + 30 * DAY_MS });
		});

		it('records generated codes only when their key is new to the pool', async () => {
			await run(async (s) => await s.createPool('G', 'generated'));
			const first = await run(
				async (s) =>
					await s.insertGenerated('G', [
						{ ...pending('a'), code: 'ABCD2345' },
						{ ...pending('b'), code: 'abcd-2345' },
						{ ...pending('c'), code: 'XYZW6789' },
					]),
			);
			expect(first.map((a) => a.code)).toEqual(['ABCD2345', 'XYZW6789']);
			const second = await run(
				async (s) =>
					await s.insertGenerated('G', [
						{ ...pending('d'), code: 'xyzw 6789' },
						{ ...pending('e'), code: 'NEWCODE2' },
					]),
			);
			expect(second.map((a) => [a.code, a.contactKey])).toEqual([['NEWCODE2', 'e']]);
			expect(await run(async (s) => await s.findPool('G'))).toEqual({
				name: 'G',
				kind: 'generated',
				codeCount: 3,
				usesPerCode: 1,
			});
		});

		it("lists a contact's assignments and ends replaced ones", async () => {
			await run(async (s) => {
				await s.createPool('G', 'generated');
				await s.insertGenerated('G', [
					{ ...pending('ann'), code: 'A1' },
					{ ...pending('bob'), code: 'B1' },
					{ ...pending('ann', 1), code: 'A2', assignedAt: T0 + 1 },
				]);
			});
			const held = await run(async (s) => await s.assignmentsOf('G', ['ann', 'nobody']));
			expect([...held.keys()]).toEqual(['ann']);
			expect(
				held
					.get('ann')!
					.map((a) => a.code)
					.sort(),
			).toEqual(['A1', 'A2']);
			expect(held.get('ann')!.find((a) => a.code === 'A2')).toEqual({
				code: 'A2',
				contactKey: 'ann',
				assignedAt: T0 + 1,
				validUntil: T0 + DAY_MS,
			});

			await run(async (s) => await s.markReplaced('G', ['A1'], T0 + 5));
			const after = await run(async (s) => await s.assignmentsOf('G', ['ann']));
			expect(after.get('ann')!.find((a) => a.code === 'A1')!.replacedAt).toBe(T0 + 5);
			// Two days on, A2 (valid one day) has expired, A1 was replaced and B1 is still active.
			expect(await run(async (s) => await s.countPool('G', T0 + 2 * DAY_MS, 0))).toEqual({
				available: 0,
				lapsed: 0,
				assigned: 3,
				active: 1,
				expired: 1,
				redeemed: 0,
				replaced: 1,
				assignedSince: 3,
				uses: 0,
				held: 0,
			});
		});

		it('lists every pool ordered by name key', async () => {
			await run(async (s) => {
				for (const [name, kind] of [
					['beta', 'generated'],
					['Alpha', 'imported'],
					['_under', 'imported'],
					['Zulu', 'imported'],
				] as const)
					await s.createPool(name, kind);
				await s.addImported('Alpha', codes(3));
			});
			expect(await run(async (s) => await s.listPools())).toEqual([
				{ name: '_under', kind: 'imported', codeCount: 0, usesPerCode: 1 },
				{ name: 'Alpha', kind: 'imported', codeCount: 3, usesPerCode: 1 },
				{ name: 'beta', kind: 'generated', codeCount: 0, usesPerCode: 1 },
				{ name: 'Zulu', kind: 'imported', codeCount: 0, usesPerCode: 1 },
			]);
		});

		it("keeps a coupon's terms from its creation, and each code's imported details", async () => {
			const details = { discount: '15%', minimumOrder: 50, stackable: false, note: null };
			await run(async (s) => {
				await s.createPool('Multi', 'imported', { usesPerCode: 5, details });
				// Created meanwhile by another run: the first terms stay.
				expect(await s.createPool('MULTI', 'imported', { usesPerCode: 2 })).toMatchObject({
					usesPerCode: 5,
					details,
				});
				await s.addImported('Multi', [
					{ ...candidate('D-1', 2), details: { token: 'tok "1"\\', value: 10 } },
				]);
			});
			expect(await run(async (s) => await s.findPool('multi'))).toEqual({
				name: 'Multi',
				kind: 'imported',
				codeCount: 1,
				usesPerCode: 5,
				details,
			});
			const [assigned] = await run(async (s) => await s.assignImported('Multi', [pending('ann')]));
			expect(assigned.details).toEqual({ token: 'tok "1"\\', value: 10 });
			const [found] = await run(async (s) => await s.findCodes(['D1'], false));
			expect(found).toMatchObject({
				couponName: 'Multi',
				terms: { usesPerCode: 5, details },
				assignment: { code: 'D-1', details: { token: 'tok "1"\\', value: 10 } },
			});
			// Details are replaced whole, or removed; uses per code never change. A transaction that
			// throws keeps none of it.
			await expect(
				run(async (s) => {
					await s.setCouponDetails('Multi', { lost: true });
					throw new Error('boom');
				}),
			).rejects.toThrow('boom');
			expect((await run(async (s) => await s.findPool('Multi')))!.details).toEqual(details);
			await run(async (s) => await s.setCouponDetails('Multi', { discount: '20%' }));
			const [after] = await run(async (s) => await s.findCodes(['D1'], false));
			expect(after.terms).toEqual({ usesPerCode: 5, details: { discount: '20%' } });
			await run(async (s) => await s.setCouponDetails('Multi', undefined));
			expect(await run(async (s) => await s.findPool('Multi'))).toEqual({
				name: 'Multi',
				kind: 'imported',
				codeCount: 1,
				usesPerCode: 5,
			});
		});

		it(
			'lists values holding backslashes, tabs, line breaks, "\\N" and characters of every plane as stored',
			async () => {
				// As many codes as make a PostgreSQL copy arrive in several pieces, cut anywhere.
				const odd = 'back\\slash\ttab\nline\r\\N é\u{1F600}';
				const noteOf = (i: number) => `${odd}${'\u{1F600}'.repeat(i % 7)}`;
				await run(async (s) => {
					await s.createPool('P', 'imported', { usesPerCode: 1, details: { kind: odd } });
					await s.addImported(
						'P',
						Array.from({ length: 3000 }, (_, i) => ({
							...candidate(`E${String(i).padStart(4, '0')}`, i + 2),
							details: { note: noteOf(i) },
						})),
					);
				});
				const [given] = await run(async (s) => await s.assignImported('P', [pending('\\N')]));
				const { codes: listed } = await run(async (s) => await listedCodes(s, 'P', 1000));
				expect(listed.map((code) => [code.code, code.details])).toEqual(
					Array.from({ length: 3000 }, (_, i) => [
						`E${String(i).padStart(4, '0')}`,
						{ note: noteOf(i) },
					]),
				);
				expect(listed.find((code) => code.assignment)).toMatchObject({
					code: given.code,
					assignment: { contactKey: '\\N', validUntil: T0 + 30 * DAY_MS },
				});
			},
			HEAVY_TEST_MS,
		);

		it('lists a pool’s codes a page at a time in key order, with details and holders, each once', async () => {
			await run(async (s) => {
				await s.createPool('P', 'imported');
				await s.addImported('P', [
					...codes(5),
					{ ...candidate('d-1', 9), details: { discount: '5%' } },
				]);
				await s.createPool('Other', 'imported');
				await s.addImported('Other', codes(3, 'X'));
			});
			const [given] = await run(async (s) => await s.assignImported('P', [pending('ann')]));
			const { codes: listed, pages } = await run(async (s) => await listedCodes(s, 'p', 4));
			expect(pages.map((page) => page.length)).toEqual([4, 2]);
			expect(listed.map((code) => code.key)).toEqual(
				['C0000', 'C0001', 'C0002', 'C0003', 'C0004', 'D1'].sort(),
			);
			const holder = listed.find((code) => code.code === given.code)!;
			expect(holder.assignment).toMatchObject({ contactKey: 'ann', validUntil: T0 + 30 * DAY_MS });
			expect(holder.assignment).not.toHaveProperty('redemptions');
			expect(listed.filter((code) => code.assignment)).toHaveLength(1);
			const d1 = listed.find((code) => code.key === 'D1')!;
			expect(d1.details).toEqual({ discount: '5%' });
			// A page exactly full ends the list too, and a reader may stop after any page.
			expect((await run(async (s) => await listedCodes(s, 'P', 3))).pages).toHaveLength(2);
			const [first, pool] = await run(async (s) => {
				let firstPage: ListedCode[] = [];
				for await (const page of s.listCodes('P', 2)) {
					firstPage = page;
					break;
				}
				// The session goes on: the rest of the read was dropped, not left in its way.
				return [firstPage, await s.findPool('P')] as const;
			});
			expect(first.map((code) => code.key)).toEqual(['C0000', 'C0001']);
			expect(pool!.codeCount).toBe(6);
		});

		it("tells whether a pool's codes, unused or assigned, have details of their own", async () => {
			await run(async (s) => {
				await s.createPool('P', 'imported', { usesPerCode: 1, details: { discount: '5%' } });
				await s.addImported('P', codes(3));
				await s.createPool('Q', 'imported');
				await s.addImported('Q', [{ ...candidate('q-1', 2), details: { discount: '5%' } }]);
			});
			// The coupon's own details are not its codes'.
			expect(await run(async (s) => await s.hasCodeDetails('p'))).toBe(false);
			expect(await run(async (s) => await s.hasCodeDetails('Q'))).toBe(true);
			await run(async (s) => await s.assignImported('Q', [pending('ann')]));
			expect(await run(async (s) => await s.hasCodeDetails('Q'))).toBe(true);
			await run(
				async (s) =>
					await s.addImported('P', [{ ...candidate('p-9', 5), details: { colour: 'red' } }]),
			);
			expect(await run(async (s) => await s.hasCodeDetails('P'))).toBe(true);
		});

		it('withdraws unused codes not kept, leaving held ones, and rolls a dry run back', async () => {
			await run(async (s) => {
				await s.createPool('P', 'imported');
				await s.addImported('P', codes(6));
			});
			const [held] = await run(async (s) => await s.assignImported('P', [pending('ann')]));
			const keep = ['C0000', 'C0001'];
			const dry = await withKeys(keep, async (s, list) => await s.withdrawUnused('P', list), {
				rollBack: true,
			});
			expect(dry).toBe(keep.includes(held.code) ? 4 : 3);
			expect((await run(async (s) => await s.findPool('P')))!.codeCount).toBe(6);
			expect(await withKeys(keep, async (s, list) => await s.withdrawUnused('P', list))).toBe(dry);
			const left = (await run(async (s) => await listedCodes(s, 'P'))).codes;
			expect(left.map((code) => code.key).sort()).toEqual(
				[...new Set([...keep, codeKey(held.code)])].sort(),
			);
			const counts = await run(async (s) => await s.countPool('P', T0, T0));
			expect(counts).toMatchObject({
				available: 2 - (keep.includes(held.code) ? 1 : 0),
				lapsed: 0,
				assigned: 1,
			});
			expect((await run(async (s) => await s.findPool('P')))!.codeCount).toBe(left.length);
			expect(await withKeys(keep, async (s, list) => await s.withdrawUnused('P', list))).toBe(0);
		});

		it('stages lists apart: a repeated key comes back with its first row, and only publishing adds them', async () => {
			await run(async (s) => {
				await s.createPool('P', 'imported');
				await s.addImported('P', [candidate('OLD', 2)]);
			});
			// A key past any bound a store might use for its last window of keys.
			const last = candidate('\u{10FFFF}\u{10FFFF}Z', 8);
			const outcome = await fixture.open().withStaging(async (staging) => {
				const list = staging.newList();
				const other = staging.newList();
				expect(await staging.stage(list, [candidate('A1', 3), candidate('OLD', 4), last])).toEqual(
					[],
				);
				// A later batch: its repeat of A1 comes back, its new key goes in.
				expect(
					await staging.stage(list, [
						{ ...candidate('B2', 5), details: { colour: 'red' }, expiresAt: T0 + DAY_MS },
						candidate('A1', 6),
					]),
				).toEqual([{ row: 6, firstRow: 3 }]);
				// Another list holds its own keys.
				expect(await staging.stage(other, [candidate('A1', 7)])).toEqual([]);
				expect([list.size, other.size]).toEqual([4, 1]);
				// Nothing staged is in the pool before it is published.
				const look = async () =>
					await staging.transaction(
						async (s) => ({
							found: (await s.findCodes(['A1', 'B2'], false)).map((c) => c.code),
							counts: await s.countPool('P', T0, T0),
							pool: await s.findPool('P'),
						}),
						{ readOnly: true },
					);
				expect(await look()).toMatchObject({ found: [], counts: { available: 1 } });
				await staging.transaction(async (s) => await s.addStaged('P', list), { rollBack: true });
				expect((await look()).pool!.codeCount).toBe(1);
				return await staging.transaction(async (s) => await s.addStaged('P', list));
			});
			expect(outcome).toEqual({
				added: 3,
				duplicates: 1,
				duplicateExamples: [candidate('OLD', 4)],
				codeCount: 4,
				available: 4,
			});
			const listed = (await run(async (s) => await listedCodes(s, 'P'))).codes;
			expect(
				listed
					.map(({ code, details, expiresAt }) => ({ code, details, expiresAt }))
					.sort((a, b) => (a.code < b.code ? -1 : 1)),
			).toEqual([
				{ code: 'A1', details: undefined, expiresAt: undefined },
				{ code: 'B2', details: { colour: 'red' }, expiresAt: T0 + DAY_MS },
				{ code: 'OLD', details: undefined, expiresAt: undefined },
				{ code: last.code, details: undefined, expiresAt: undefined },
			]);
		});

		it('leaves nothing of a staging area once it ends, published or not, and holds no lock while it stages', async () => {
			await run(async (s) => await s.createPool('P', 'imported'));
			await expect(
				fixture.open().withStaging(async (staging) => {
					const list = staging.newList();
					await staging.stage(list, codes(3));
					// A checkout's write goes through between batches: staging keeps no lock it would wait for.
					await run(async (s) => await s.createPool('Q', 'imported'));
					await staging.stage(list, codes(5).slice(3));
					throw new Error('cancelled');
				}),
			).rejects.toThrow('cancelled');
			expect((await run(async (s) => await s.findPool('P')))!.codeCount).toBe(0);
			// The next staging area starts empty, its lists numbered anew.
			const sizes = await fixture.open().withStaging(async (staging) => {
				const list = staging.newList();
				const repeats = await staging.stage(list, codes(2));
				return { repeats, size: list.size };
			});
			expect(sizes).toEqual({ repeats: [], size: 2 });
			await expect(run(async (s) => await s.addStaged('P', { id: 1, size: 2 }))).rejects.toThrow(
				'A staged list is read only in a transaction of its staging area',
			);
		});

		it('deletes a pool with its codes, assignments and uses, leaving the others, and the name free', async () => {
			// P last: a store that reuses the highest id gives the next pool P's id.
			await run(async (s) => {
				for (const name of ['Q', 'P']) {
					await s.createPool(name, 'imported');
					await s.addImported(name, codes(3, name));
				}
			});
			const [held] = await run(async (s) => await s.assignImported('P', [pending('ann')]));
			await run(async (s) => {
				const [found] = await s.findCodes([codeKey(held.code)], true);
				await s.writeUses('P', [
					{ code: found.code, entries: [{ n: 1, at: T0 + 1 }], uses: 1, redeemedAt: T0 + 1 },
				]);
			});
			const dry = await fixture
				.open()
				.transaction(async (s) => await s.deletePool('P'), { rollBack: true });
			expect(dry).toEqual({ codes: 3, assigned: 1 });
			expect((await run(async (s) => await s.findPool('P')))!.codeCount).toBe(3);
			expect(await run(async (s) => await s.deletePool('p'))).toEqual({ codes: 3, assigned: 1 });
			expect(await run(async (s) => await s.findPool('P'))).toBeUndefined();
			expect((await run(async (s) => await s.listPools())).map((pool) => pool.name)).toEqual(['Q']);
			expect(await run(async (s) => await s.assignmentsOfContacts(['ann']))).toEqual(new Map());
			expect(await run(async (s) => await s.findCodes([codeKey(held.code)], false))).toEqual([]);
			// A new coupon of that name starts empty: no code, assignment or use of the old one.
			await run(async (s) => {
				await s.createPool('P', 'imported');
				await s.addImported('P', [candidate(held.code, 2)]);
			});
			const [again] = await run(async (s) => await s.assignImported('P', [pending('bob')]));
			await run(async (s) => {
				await s.findCodes([codeKey(again.code)], true);
				await s.writeUses('P', [
					{ code: again.code, entries: [{ n: 1, at: T0 + 5 }], uses: 1, redeemedAt: T0 + 5 },
				]);
			});
			const [found] = await run(async (s) => await s.findCodes([codeKey(held.code)], false));
			expect(found.assignment).toMatchObject({ contactKey: 'bob', code: again.code });
			expect(found.assignment!.redemptions).toEqual([{ n: 1, at: T0 + 5 }]);
		});

		it(
			'counts a pool of a quarter of a million codes exactly, whose counting takes several ranges',
			async () => {
				const many = Array.from({ length: 250_000 }, (_, i) => ({
					...candidate(`B${String(i).padStart(6, '0')}`, i + 2),
					// Every tenth code lapsed before T0.
					...(i % 10 === 0 ? { expiresAt: T0 - 1 } : {}),
				}));
				await run(async (s) => {
					await s.createPool('BIG', 'imported');
					await s.addImported('BIG', many);
				});
				const given = await run(
					async (s) =>
						await s.assignImported('BIG', [pending('ann'), pending('bob'), pending('cy', 1)]),
				);
				expect(await run(async (s) => await s.countPool('BIG', T0 + 2 * DAY_MS, T0))).toEqual({
					available: 225_000 - given.length,
					lapsed: 25_000,
					assigned: 3,
					active: 2,
					expired: 1,
					redeemed: 0,
					replaced: 0,
					assignedSince: 3,
					uses: 0,
					held: 0,
				});
			},
			HEAVY_TEST_MS,
		);

		it('serves reads in a read-only transaction, which never keeps a write', async () => {
			await run(async (s) => {
				await s.createPool('P', 'imported');
				await s.addImported('P', codes(2));
			});
			const read = await fixture
				.open()
				.transaction(async (s) => await s.countPool('P', T0, T0), { readOnly: true });
			expect(read).toMatchObject({ available: 2 });
			// A store may refuse the write (PostgreSQL, Local) or drop it (static data): never keep it.
			await fixture
				.open()
				.transaction(async (s) => await s.createPool('R', 'imported'), { readOnly: true })
				.catch(() => undefined);
			expect(await run(async (s) => await s.findPool('R'))).toBeUndefined();
		});

		it('counts which of some keys the pool holds, unused, and unused without lapsing', async () => {
			await run(async (s) => {
				await s.createPool('P', 'imported');
				await s.addImported('P', [
					...codes(3),
					{ ...candidate('GONE', 10), expiresAt: T0 - 1 },
					{ ...candidate('LATER', 11), expiresAt: T0 + DAY_MS },
				]);
			});
			const [held] = await run(async (s) => await s.assignImported('P', [pending('ann')]));
			const keys = ['C0000', 'C0001', 'C0002', 'GONE', 'LATER', 'NOT-THERE'];
			expect(await withKeys(keys, async (s, list) => await s.keysInPool('P', list, T0))).toEqual({
				known: 5,
				unused: 4,
				available: 3,
			});
			// LATER lapses a day on; the held code counts as known, never as unused.
			expect(
				await withKeys(
					[codeKey(held.code), 'LATER'],
					async (s, list) => await s.keysInPool('P', list, T0 + DAY_MS),
				),
			).toEqual({ known: 2, unused: 1, available: 0 });
			expect(await withKeys([], async (s, list) => await s.keysInPool('P', list, T0))).toEqual({
				known: 0,
				unused: 0,
				available: 0,
			});
		});

		it('assigns a code with its own expiry only while it lasts the validity asked for, or shortened to it', async () => {
			const day = (n: number) => T0 + n * DAY_MS;
			await run(async (s) => {
				await s.createPool('P', 'imported');
				await s.addImported('P', [
					{ ...candidate('SOON', 2), expiresAt: day(5) },
					{ ...candidate('LATER', 3), expiresAt: day(40) },
					{ ...candidate('GONE', 4), expiresAt: day(1) },
				]);
			});
			// 30 days asked for on day 2: only LATER lasts; GONE has lapsed.
			const at = day(2);
			const ask = (contactKey: string) => ({ contactKey, assignedAt: at, validUntil: day(32) });
			const first = await run(async (s) => await s.assignImported('P', [ask('ann'), ask('bob')]));
			expect(first.map((a) => [a.code, a.validUntil])).toEqual([['LATER', day(32)]]);
			expect(await run(async (s) => await s.countPool('P', at, 0))).toMatchObject({
				available: 1,
				lapsed: 1,
				assigned: 1,
			});
			const shortened = await run(
				async (s) => await s.assignImported('P', [ask('bob'), ask('cid')], true),
			);
			expect(shortened.map((a) => [a.code, a.validUntil])).toEqual([['SOON', day(5)]]);
			const listed = (await run(async (s) => await listedCodes(s, 'P'))).codes;
			expect(listed.map((code) => [code.key, code.expiresAt, code.assignment?.contactKey])).toEqual(
				[
					['GONE', day(1), undefined],
					['LATER', undefined, 'ann'],
					['SOON', undefined, 'bob'],
				],
			);
		});

		it("keeps a coupon's code format, and the format its newest codes were made in", async () => {
			const format = {
				characters: '0123456789',
				length: 8,
				prefix: 'VIP-',
				suffix: '-"26"\\',
				pattern: '##-##',
				checkCharacter: true,
			};
			await run(async (s) => {
				await s.createPool('Made', 'imported', { usesPerCode: 1, codeFormat: format });
				await s.createPool('Listed', 'imported');
			});
			expect((await run(async (s) => await s.findPool('MADE')))!.codeFormat).toEqual(format);
			expect(await run(async (s) => await s.findPool('Listed'))).not.toHaveProperty('codeFormat');
			const other = { characters: 'ABCDEF', length: 10, prefix: '' };
			await expect(
				run(async (s) => {
					await s.setCodeFormat('Made', other);
					throw new Error('boom');
				}),
			).rejects.toThrow('boom');
			expect((await run(async (s) => await s.findPool('Made')))!.codeFormat).toEqual(format);
			await run(async (s) => {
				await s.setCodeFormat('Made', other);
				await s.setCodeFormat('Listed', format);
			});
			const pools = await run(async (s) => await s.listPools());
			expect(pools.map((pool) => [pool.name, pool.codeFormat])).toEqual([
				['Listed', format],
				['Made', other],
			]);
		});

		describe('look-ups, redemption and counts', () => {
			beforeEach(async () => {
				await run(async (s) => {
					await s.createPool('Imp', 'imported');
					await s.addImported('Imp', [
						candidate('SAME-1', 2),
						candidate('IMP-2', 3),
						candidate('IMP-3', 4),
					]);
					await s.assignImported('Imp', [pending('ann', 10)]);
					await s.createPool('Gen', 'generated');
					await s.insertGenerated('Gen', [
						{ ...pending('ann', 1), code: 'same1' },
						{
							...pending('bob'),
							code: 'GEN-B',
							assignedAt: T0 + 5 * DAY_MS,
							validUntil: T0 + 35 * DAY_MS,
						},
					]);
				});
			});

			it('finds codes by key in every pool that holds one, with their holders', async () => {
				const found = await run(
					async (s) =>
						await s.findCodes([codeKey('same 1'), 'IMP2', 'IMP3', 'GENB', 'NOPE'], false),
				);
				const byPool = found
					.map((c) => `${c.couponName}:${c.code}:${c.assignment?.contactKey ?? '-'}`)
					.sort();
				const impHolder = found
					.filter((c) => c.couponName === 'Imp' && c.assignment)
					.map((c) => c.code);
				expect(impHolder).toHaveLength(1);
				expect(byPool).toEqual(
					[
						'Gen:GEN-B:bob',
						'Gen:same1:ann',
						...['SAME-1', 'IMP-2', 'IMP-3'].map(
							(code) => `Imp:${code}:${impHolder[0] === code ? 'ann' : '-'}`,
						),
					].sort(),
				);
				expect(found.find((c) => c.code === 'same1')).toEqual({
					couponName: 'Gen',
					terms: { usesPerCode: 1 },
					code: 'same1',
					key: 'SAME1',
					assignment: { code: 'same1', contactKey: 'ann', assignedAt: T0, validUntil: T0 + DAY_MS },
				});
			});

			it("lists a contact's coupons across pools, without locking or creating anything", async () => {
				const held = await run(
					async (s) => await s.assignmentsOfContacts(['ann', 'bob', 'nobody']),
				);
				expect([...held.keys()].sort()).toEqual(['ann', 'bob']);
				expect(
					held
						.get('ann')!
						.map((c) => c.couponName)
						.sort(),
				).toEqual(['Gen', 'Imp']);
				expect(held.get('bob')).toEqual([
					{
						couponName: 'Gen',
						terms: { usesPerCode: 1 },
						code: 'GEN-B',
						contactKey: 'bob',
						assignedAt: T0 + 5 * DAY_MS,
						validUntil: T0 + 35 * DAY_MS,
					},
				]);
			});

			const use = (n: number, at: number, more: object = {}) => ({ n, at, ...more });

			it('writes uses taken and undone with their history, and never frees a code', async () => {
				const redeemedAt = T0 + 6 * DAY_MS;
				await run(async (s) => {
					await s.findCodes(['GENB'], true);
					await s.writeUses('Gen', [
						{
							code: 'GEN-B',
							entries: [use(1, redeemedAt, { orderReference: 'order #1001' })],
							uses: 1,
							redeemedAt,
							orderReference: 'order #1001',
						},
					]);
				});
				const [after] = await run(async (s) => await s.findCodes(['GENB'], false));
				expect(after.assignment).toEqual({
					code: 'GEN-B',
					contactKey: 'bob',
					assignedAt: T0 + 5 * DAY_MS,
					validUntil: T0 + 35 * DAY_MS,
					redeemedAt,
					orderReference: 'order #1001',
					uses: 1,
					redemptions: [use(1, redeemedAt, { orderReference: 'order #1001' })],
				});
				// "Replace" leaves a redeemed code as it is.
				await run(async (s) => await s.markReplaced('Gen', ['GEN-B', 'same1'], T0 + 8 * DAY_MS));
				const held = await run(async (s) => await s.assignmentsOfContacts(['bob', 'ann']));
				expect(held.get('bob')![0]).toMatchObject({ redeemedAt, orderReference: 'order #1001' });
				expect(held.get('bob')![0].replacedAt).toBeUndefined();
				expect(held.get('ann')!.find((c) => c.code === 'same1')!.replacedAt).toBe(T0 + 8 * DAY_MS);

				// Undone: the entry is updated, not added; the code is no longer redeemed, and still held.
				const undoneAt = T0 + 9 * DAY_MS;
				const undone = use(1, redeemedAt, {
					orderReference: 'order #1001',
					undoneAt,
					undoReason: 'refunded',
				});
				await run(
					async (s) => await s.writeUses('Gen', [{ code: 'GEN-B', entries: [undone], uses: 0 }]),
				);
				const [reopened] = await run(async (s) => await s.findCodes(['GENB'], false));
				expect(reopened.assignment).toEqual({
					code: 'GEN-B',
					contactKey: 'bob',
					assignedAt: T0 + 5 * DAY_MS,
					validUntil: T0 + 35 * DAY_MS,
					uses: 0,
					redemptions: [undone],
				});
				// Taken again: the history grows in order.
				await run(
					async (s) =>
						await s.writeUses('Gen', [
							{ code: 'GEN-B', entries: [use(2, undoneAt + 1), use(3, undoneAt + 2)], uses: 2 },
						]),
				);
				const again = await run(async (s) => await s.assignmentsOfContacts(['bob']));
				expect(again.get('bob')![0]).toMatchObject({
					uses: 2,
					redemptions: [undone, use(2, undoneAt + 1), use(3, undoneAt + 2)],
				});
				expect(again.get('bob')![0].redeemedAt).toBeUndefined();

				// A code nobody holds takes no use: the whole write is refused (on PostgreSQL, its check
				// that only an assigned code is redeemed may be the first to refuse it).
				await expect(
					run(
						async (s) =>
							await s.writeUses('Imp', [
								{ code: 'IMP-2', entries: [use(1, T0)], uses: 1, redeemedAt: T0 },
								{ code: 'IMP-3', entries: [use(1, T0)], uses: 1, redeemedAt: T0 },
							]),
					),
				).rejects.toThrow(/not assigned|codes_redeemed_when_assigned/);
			});

			it('sets and ends holds on assigned codes only', async () => {
				const hold = { orderReference: 'cart-7', until: T0 + DAY_MS };
				await run(async (s) => await s.writeHolds('Gen', [{ code: 'GEN-B', hold }]));
				const [held] = await run(async (s) => await s.findCodes(['GENB'], false));
				expect(held.assignment!.hold).toEqual(hold);
				expect(await run(async (s) => await s.countPool('Gen', T0, T0))).toMatchObject({
					held: 1,
				});
				// Counted only while it runs.
				expect(await run(async (s) => await s.countPool('Gen', T0 + DAY_MS, T0))).toMatchObject({
					held: 0,
				});
				await run(async (s) => await s.writeHolds('Gen', [{ code: 'GEN-B' }]));
				const [released] = await run(async (s) => await s.findCodes(['GENB'], false));
				expect(released.assignment!.hold).toBeUndefined();
				const free = (await run(async (s) => await s.findCodes(['IMP2', 'IMP3'], false))).find(
					(c) => !c.assignment,
				)!;
				await expect(
					run(async (s) => await s.writeHolds('Imp', [{ code: free.code, hold }])),
				).rejects.toThrow(/not assigned|codes_held_when_assigned/);
			});

			it('counts codes by status, and those assigned since a moment', async () => {
				await run(
					async (s) =>
						await s.writeUses('Gen', [
							{
								code: 'GEN-B',
								entries: [use(1, T0 + 6 * DAY_MS)],
								uses: 1,
								redeemedAt: T0 + 6 * DAY_MS,
							},
						]),
				);
				// Two days on: ann's generated coupon (one day) has expired, bob's is redeemed.
				expect(
					await run(async (s) => await s.countPool('Gen', T0 + 2 * DAY_MS, T0 + DAY_MS)),
				).toEqual({
					available: 0,
					lapsed: 0,
					assigned: 2,
					active: 0,
					expired: 1,
					redeemed: 1,
					replaced: 0,
					assignedSince: 1,
					uses: 1,
					held: 0,
				});
				expect(await run(async (s) => await s.countPool('Imp', T0 + 2 * DAY_MS, T0))).toEqual({
					available: 2,
					lapsed: 0,
					assigned: 1,
					active: 1,
					expired: 0,
					redeemed: 0,
					replaced: 0,
					assignedSince: 1,
					uses: 0,
					held: 0,
				});
			});
		});

		it('keeps nothing of a transaction that throws', async () => {
			await run(async (s) => {
				await s.createPool('P', 'imported');
				await s.addImported('P', codes(3));
			});
			await expect(
				run(async (s) => {
					await s.createPool('New', 'generated');
					await s.insertGenerated('New', [{ ...pending('x'), code: 'QQQQ2222' }]);
					await s.addImported('P', [candidate('EXTRA', 9)]);
					await s.assignImported('P', [pending('a'), pending('b')]);
					throw new Error('boom');
				}),
			).rejects.toThrow('boom');
			expect(await run(async (s) => await s.findPool('New'))).toBeUndefined();
			expect(await run(async (s) => await s.countPool('P', T0, 0))).toEqual({
				available: 3,
				lapsed: 0,
				assigned: 0,
				active: 0,
				expired: 0,
				redeemed: 0,
				replaced: 0,
				assignedSince: 0,
				uses: 0,
				held: 0,
			});
		});
	});
}
