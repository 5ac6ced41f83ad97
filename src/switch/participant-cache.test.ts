// SPDX-License-Identifier: Apache-2.0
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Row, SqlExecutor, SqlValue } from '../store/ports.ts'
import { ParticipantCache } from './participant-cache.ts'

/** Answers the participant queries from a mutable table, counting them; `gate` holds a read until released. */
function fakeStore() {
  const state = {
    participants: new Map<string, { isActive: boolean; tokenHash: string | null }>([['bank', { isActive: true, tokenHash: 'h1' }]]),
    endpoints: new Map<string, string>([['FSPIOP_CALLBACK_URL_TRANSFER_POST', 'http://bank/transfers']]),
    reads: 0,
    gate: undefined as Promise<void> | undefined,
  }
  const query = async <R extends Row>(sql: string, params: readonly SqlValue[] = []): Promise<R[]> => {
    state.reads += 1
    // Taken at the start of the read: the row as it was when the statement ran.
    const snapshot = { participants: new Map(state.participants), endpoints: new Map(state.endpoints) }
    if (state.gate !== undefined) await state.gate
    const rows: Row[] = []
    if (sql.startsWith('SELECT name, is_active')) {
      const p = snapshot.participants.get(params[0] as string)
      if (p !== undefined) rows.push({ name: params[0] as string, is_active: p.isActive ? 1n : 0n, token_hash: p.tokenHash, created_at_ms: 0n })
    } else if (sql.startsWith('SELECT currency')) {
      rows.push({ currency: 'USD', is_active: 1n })
    } else if (sql.startsWith('SELECT type, value')) {
      for (const [type, value] of snapshot.endpoints) rows.push({ type, value })
    } else if (sql.startsWith('SELECT name FROM participant WHERE token_hash')) {
      for (const [name, p] of snapshot.participants) if (p.tokenHash === params[0]) rows.push({ name })
    } else {
      throw new Error(`unexpected ${sql}`)
    }
    return rows as R[]
  }
  const ex: SqlExecutor = {
    dialect: 'sqlite',
    query,
    run: async () => 0,
    queryMany: async () => [],
    runMany: async () => 0,
  }
  return { ex, state }
}

describe('ParticipantCache', () => {
  it('reads a participant with its endpoints once, and again after an invalidation', async () => {
    const { ex, state } = fakeStore()
    const cache = new ParticipantCache({ ttlMs: Number.POSITIVE_INFINITY })
    const first = await cache.participant(ex, 'bank')
    assert.equal(first?.record.isActive, true)
    assert.equal(first?.endpoints.get('FSPIOP_CALLBACK_URL_TRANSFER_POST'), 'http://bank/transfers')
    const reads = state.reads
    assert.equal(await cache.participant(ex, 'bank'), first)
    assert.equal(state.reads, reads, 'the second look-up reads nothing')

    state.participants.set('bank', { isActive: false, tokenHash: 'h1' })
    state.endpoints.set('FSPIOP_CALLBACK_URL_TRANSFER_POST', 'http://moved/transfers')
    await cache.writing(async () => undefined)
    const after = await cache.participant(ex, 'bank')
    assert.equal(after?.record.isActive, false)
    assert.equal(after?.endpoints.get('FSPIOP_CALLBACK_URL_TRANSFER_POST'), 'http://moved/transfers')
  })

  it('invalidates when the write fails too', async () => {
    const { ex, state } = fakeStore()
    const cache = new ParticipantCache({ ttlMs: Number.POSITIVE_INFINITY })
    await cache.participant(ex, 'bank')
    state.participants.set('bank', { isActive: false, tokenHash: 'h1' })
    await assert.rejects(cache.writing(async () => Promise.reject(new Error('commit outcome unknown'))))
    assert.equal((await cache.participant(ex, 'bank'))?.record.isActive, false)
  })

  it('reads again once an entry is older than the TTL', async () => {
    const { ex, state } = fakeStore()
    let nowMs = 0
    const cache = new ParticipantCache({ ttlMs: 1_000, now: () => nowMs })
    await cache.participant(ex, 'bank')
    assert.equal(await cache.participantByTokenHash(ex, 'h1'), 'bank')
    // Another process changes the rows: not seen within the TTL, seen after it.
    state.participants.set('bank', { isActive: false, tokenHash: 'h2' })
    nowMs = 999
    assert.equal((await cache.participant(ex, 'bank'))?.record.isActive, true)
    assert.equal(await cache.participantByTokenHash(ex, 'h1'), 'bank')
    nowMs = 1_000
    assert.equal((await cache.participant(ex, 'bank'))?.record.isActive, false)
    assert.equal(await cache.participantByTokenHash(ex, 'h1'), undefined, 'the replaced token is refused')
    assert.equal(await cache.participantByTokenHash(ex, 'h2'), 'bank')
  })

  it('does not keep a read that was under way when the cache was invalidated', async () => {
    const { ex, state } = fakeStore()
    const cache = new ParticipantCache({ ttlMs: Number.POSITIVE_INFINITY })
    let release = (): void => undefined
    state.gate = new Promise<void>((resolve) => (release = resolve))
    const inFlight = cache.participant(ex, 'bank')
    const tokenInFlight = cache.participantByTokenHash(ex, 'h1')
    // The write commits and invalidates while the read (of the old row) has not returned yet.
    state.participants.set('bank', { isActive: false, tokenHash: 'h2' })
    cache.invalidate()
    state.gate = undefined
    release()
    assert.equal((await inFlight)?.record.isActive, true, 'the read answers its own caller with what it read')
    assert.equal(await tokenInFlight, 'bank')
    assert.equal((await cache.participant(ex, 'bank'))?.record.isActive, false, 'but the old row was not kept')
    assert.equal(await cache.participantByTokenHash(ex, 'h1'), undefined)
  })

  it('caches neither unknown participants nor unknown tokens', async () => {
    const { ex, state } = fakeStore()
    const cache = new ParticipantCache({ ttlMs: Number.POSITIVE_INFINITY })
    assert.equal(await cache.participant(ex, 'nobody'), undefined)
    assert.equal(await cache.participantByTokenHash(ex, 'unknown'), undefined)
    state.participants.set('nobody', { isActive: true, tokenHash: 'unknown' })
    assert.equal((await cache.participant(ex, 'nobody'))?.record.isActive, true)
    assert.equal(await cache.participantByTokenHash(ex, 'unknown'), 'nobody')
  })
})
