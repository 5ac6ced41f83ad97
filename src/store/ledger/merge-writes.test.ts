// SPDX-License-Identifier: Apache-2.0
/** The writer thread's merge of queued batches into one transaction: the same final rows as one by one. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { mergeSqliteWrites, type SqliteWrites } from './ledger-repo.ts'

const none: SqliteWrites = { accountsCreated: [], accountsUpdated: [], accountsUpdatedExempt: [], transfers: [], exemptTransfers: [], expiriesOpened: [], expiriesClosed: [] }
const row = (id: string, pending: bigint): (bigint | string | null)[] => [0n, null, pending, 0n, 0n, 100n, id]
const exempt = (id: string, pending: bigint): (bigint | string | null)[] => [0n, null, pending, 0n, 0n, 100n, 9n, id]
const rows = (flat: readonly unknown[], width: number): unknown[][] => Array.from({ length: flat.length / width }, (_, i) => flat.slice(i * width, i * width + width))
const journal = (id: string): (bigint | number | string | null)[] => [id, 'pending', 'A', 'B', 5n, 'USD', null, 1_000, null, 1]

describe('mergeSqliteWrites', () => {
  it('updates each account once, with the values of the last batch that touched it', () => {
    const merged = mergeSqliteWrites([
      { ...none, accountsUpdated: [...row('A', 1n), ...row('B', 1n)], accountsUpdatedExempt: exempt('D', 1n) },
      { ...none, accountsUpdated: row('A', 2n) },
      { ...none, accountsUpdated: [...row('C', 7n), ...row('A', 3n)], accountsUpdatedExempt: exempt('B', 4n) },
    ])
    const plain = rows(merged.accountsUpdated, 7)
    const withExempt = rows(merged.accountsUpdatedExempt, 8)
    assert.deepEqual(new Map(plain.map((r) => [r[6], r[2]])), new Map([['C', 7n], ['A', 3n]]))
    assert.deepEqual(new Map(withExempt.map((r) => [r[7], r[2]])), new Map([['D', 1n], ['B', 4n]]), 'B became exempt in the last batch')
    assert.equal(plain.length + withExempt.length, 4)
  })

  it('keeps accounts created, journal rows and exempt rows in batch order', () => {
    const merged = mergeSqliteWrites([
      { ...none, accountsCreated: ['N1', 'USD'], transfers: journal('T1'), exemptTransfers: ['E1'] },
      { ...none, accountsCreated: ['N2', 'USD'], transfers: [...journal('T2'), ...journal('T3')], exemptTransfers: ['E2'] },
    ])
    assert.deepEqual(merged.accountsCreated, ['N1', 'USD', 'N2', 'USD'])
    assert.deepEqual(merged.transfers, [...journal('T1'), ...journal('T2'), ...journal('T3')])
    assert.deepEqual(merged.exemptTransfers, ['E1', 'E2'])
  })

  it('drops the expiry row of a pending transfer opened and resolved within the group, and keeps the others', () => {
    const merged = mergeSqliteWrites([
      { ...none, expiriesOpened: [1_000, 'P1', 2_000, 'P2'], expiriesClosed: [500, 'OLD'] },
      { ...none, expiriesOpened: [3_000, 'P3'], expiriesClosed: [1_000, 'P1'] },
    ])
    assert.deepEqual(merged.expiriesOpened, [2_000, 'P2', 3_000, 'P3'])
    assert.deepEqual(merged.expiriesClosed, [500, 'OLD'])
  })
})
