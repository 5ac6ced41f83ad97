// SPDX-License-Identifier: Apache-2.0
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ConflictError } from '../core/errors.ts'
import { isLedgerId } from '../core/ids.ts'
import { dfspAccountId, ledgerPrefix, ledgerTransferId, parseLedgerTransferId, postId, voidId, walletAccountId } from './ledger-ids.ts'
import { isFinal, nextTransferState, statesAllowing, TRANSFER_TRANSITIONS, type TransferEvent, type TransferState } from './transfer-state.ts'

const STATES: TransferState[] = ['RECEIVED', 'RESERVED', 'COMMITTED', 'ABORTED']
const EVENTS: TransferEvent[] = ['reserve', 'commit', 'abort', 'reverse']

describe('DFSP transfer states', () => {
  it('allows exactly the table, cell by cell', () => {
    const expected: Record<TransferState, Partial<Record<TransferEvent, TransferState>>> = {
      RECEIVED: { reserve: 'RESERVED', commit: 'COMMITTED', abort: 'ABORTED' },
      RESERVED: { commit: 'COMMITTED', abort: 'ABORTED' },
      COMMITTED: { reverse: 'ABORTED' },
      ABORTED: {},
    }
    for (const from of STATES) {
      for (const event of EVENTS) {
        const to = expected[from][event]
        if (to === undefined) assert.throws(() => nextTransferState(from, event), ConflictError, `${from} ${event}`)
        else assert.equal(nextTransferState(from, event), to, `${from} ${event}`)
      }
    }
    assert.deepEqual(TRANSFER_TRANSITIONS, expected)
  })

  it('names the states each event starts from, for compare-and-set updates', () => {
    assert.deepEqual(statesAllowing('abort'), ['RECEIVED', 'RESERVED'])
    assert.deepEqual(statesAllowing('commit'), ['RECEIVED', 'RESERVED'])
    assert.deepEqual(statesAllowing('reverse'), ['COMMITTED'])
    assert.deepEqual(STATES.filter(isFinal), ['COMMITTED', 'ABORTED'])
  })
})

describe('DFSP ledger ids', () => {
  const transferId = 'c7a3a5f0-3f4e-4b9c-9d1e-2a7c3b1e0f11'

  it('are readable for short DFSP ids and digests for long or unusual ones, and always valid ledger ids', () => {
    assert.equal(ledgerPrefix('bank'), 'dfsp.bank')
    assert.match(ledgerPrefix('a very long DFSP name, 32 chars!'), /^dfsp\.h[0-9a-f]{15}$/)
    assert.notEqual(ledgerPrefix('bank.'), ledgerPrefix('bank_'))
    for (const dfspId of ['bank', 'wallet', 'x'.repeat(16), 'x'.repeat(32), 'mobile money ✓']) {
      for (const id of [
        dfspAccountId(dfspId, 'USD', 'FUNDING'),
        walletAccountId(dfspId, '0123456789abcdef'),
        postId(dfspId, 'hf', transferId),
        voidId(dfspId, 'cp', transferId),
        ledgerTransferId(dfspId, 'dep', transferId),
      ]) {
        assert.ok(isLedgerId(id), id)
      }
    }
  })

  it('parse back to their kind and reference, and only this DFSP’s', () => {
    assert.deepEqual(parseLedgerTransferId('bank', postId('bank', 'hp', transferId)), { kind: 'Php', ref: transferId })
    assert.deepEqual(parseLedgerTransferId('bank', ledgerTransferId('bank', 'dep', 'abc')), { kind: 'dep', ref: 'abc' })
    assert.equal(parseLedgerTransferId('wallet', postId('bank', 'hp', transferId)), undefined)
    assert.equal(parseLedgerTransferId('bank', `${ledgerPrefix('bank')}:zz:${transferId}`), undefined)
    assert.equal(parseLedgerTransferId('bank', transferId), undefined)
  })
})
