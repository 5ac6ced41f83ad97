// SPDX-License-Identifier: Apache-2.0
/** The outbox's claim statement on both stores: its padded IN list claims each message once, and only those. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import * as repo from '../../src/store/outbox/outbox-repo.ts'
import { STORE_KINDS } from '../support/stores.ts'

const NOW_MS = Date.UTC(2026, 0, 1)

function message(n: number): repo.NewMessageRow {
  // Each in its own correlation, so that every one is the head of its queue and may be claimed.
  return { id: `m-${n}`, destination: 'payeefsp', method: 'PUT', url: `http://127.0.0.1:1/x/${n}`, headers: {}, body: '{}', correlation: `transfers/${n}`, holdsBack: true, createdAtMs: NOW_MS }
}

for (const kind of STORE_KINDS) {
  describe(`outbox claim on ${kind.name}`, { skip: kind.skip }, () => {
    it('claims exactly the listed messages, once each, for list lengths that are not powers of two', async () => {
      const opened = await kind.open()
      try {
        await opened.store.transaction((tx) => repo.insertMessages(tx, Array.from({ length: 12 }, (_, i) => message(i))))
        const seqs = (await opened.store.query<{ seq: bigint; id: string }>('SELECT seq, id FROM outbox_message ORDER BY seq')).map((row) => row.seq)
        const first = await opened.store.transaction((tx) => repo.claim(tx, { seqs: seqs.slice(0, 3), token: 'a', nowMs: NOW_MS, leaseUntilMs: NOW_MS + 1_000 }))
        assert.deepEqual(first.map((m) => m.id), ['m-0', 'm-1', 'm-2'])
        assert.deepEqual(first.map((m) => m.attempts), [1, 1, 1])
        const second = await opened.store.transaction((tx) => repo.claim(tx, { seqs: seqs.slice(3, 8), token: 'b', nowMs: NOW_MS, leaseUntilMs: NOW_MS + 1_000 }))
        assert.deepEqual(second.map((m) => m.id), ['m-3', 'm-4', 'm-5', 'm-6', 'm-7'])
        const counts = await opened.store.query<{ state: string; attempts: bigint }>('SELECT state, attempts FROM outbox_message ORDER BY seq')
        assert.deepEqual(counts.map((row) => `${row.state}:${row.attempts}`), [...Array(8).fill('SENDING:1'), ...Array(4).fill('PENDING:0')])
      } finally {
        await opened.close()
      }
    })
  })
}
