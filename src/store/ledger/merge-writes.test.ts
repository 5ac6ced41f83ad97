// SPDX-License-Identifier: Apache-2.0
/** The writer thread's merge of queued batches into one transaction: the same final rows as one by one. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { mergeSqliteWrites, type SqliteWrites } from './ledger-repo.ts'

const none: SqliteWrites = { accountsCreated: [], accountsUpdated: [], transfers: [], exemptTransfers: [], expiriesOpened: [], expiriesClosed: [] }
const row = (id: string, pending: bigint): (bigint | string | null)[] => [0n, null, pending, 0n, 0n, 100n, id]
const journal = (id: string): (bigint | number | string | null)[] => [id, 'pending', 'A', 'B', 5n, 'USD', null, 1_000, null, 1]

describe('mergeSqliteWrites', () => {
  it('updates each account once, with the values of the last batch that touched it', () => {
    const merged = mergeSqliteWrites([
      { ...none, accountsUpdated: [row('A', 1n), row('B', 1n)] },
      { ...none, accountsUpdated: [row('A', 2n)] },
      { ...none, accountsUpdated: [row('C', 7n), row('A', 3n)] },
    ])
    assert.deepEqual(
      new Map(merged.accountsUpdated.map((r) => [r[r.length - 1], r[2]])),
      new Map([
        ['B', 1n],
        ['C', 7n],
        ['A', 3n],
      ]),
    )
    assert.equal(merged.accountsUpdated.length, 3)
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
