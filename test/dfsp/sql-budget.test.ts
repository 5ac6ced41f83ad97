// SPDX-License-Identifier: Apache-2.0
/**
 * What one P2P transfer costs the DFSP in statements on its own tables, in each role, on both stores: the
 * reads and writes each message needs and no more (customers are kept in memory, a quote is stored once with
 * its answer, nothing just written is read back). A change that adds a statement per message fails here.
 */
import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { formatAmount, parseAmount } from '../../src/core/money.ts'
import { startDfsp, type DfspHandle } from '../../src/http/dfsp/index.ts'
import type { Store } from '../../src/store/open-store.ts'
import type { SqlExecutor, SqlValue } from '../../src/store/ports.ts'
import { STORE_KINDS, type TestStore } from '../support/stores.ts'
import { FakeSwitch } from './fake-switch.ts'
import { ALICE, BANK_SECRET, PAYEE_SECRET, aPrepareFor, aQuoteRequest, api, assertAllFspiopValid, bankConfig, sdkIlp, sdkRequests, silentLogger } from './support.ts'

const CAROL = '256780000001'

/**
 * The store, counting statements on the DFSP's tables by kind and table (e.g. `SELECT dfsp_transfer`), and
 * the write transactions they make (`transactions`: a write outside a transaction is one of its own).
 */
function counting(store: Store): { store: Store; counts: Map<string, number> } {
  const counts = new Map<string, number>()
  const bump = (key: string): void => void counts.set(key, (counts.get(key) ?? 0) + 1)
  /** The executor, counting what it runs; `onDfspStatement` hears of each statement on a DFSP table. */
  const counted = <T extends SqlExecutor>(executor: T, onDfspStatement: (kind: string) => void): T =>
    new Proxy(executor, {
      get(target, property, receiver) {
        if (property === 'query' || property === 'run') {
          return (sql: string, params?: readonly SqlValue[]) => {
            const table = /\b(dfsp_[a-z]+)/.exec(sql)?.[1]
            if (table !== undefined) {
              const kind = /^\s*(\w+)/.exec(sql)?.[1]?.toUpperCase() ?? '?'
              bump(`${kind} ${table}`)
              onDfspStatement(kind)
            }
            return (target[property] as (sql: string, params?: readonly SqlValue[]) => Promise<unknown>).call(target, sql, params)
          }
        }
        if (property === 'transaction') {
          return (work: (tx: SqlExecutor) => Promise<unknown>) =>
            (target as unknown as Store).transaction(async (tx) => {
              let touched = false
              const result = await work(counted(tx, () => (touched = true)))
              if (touched) bump('transactions')
              return result
            })
        }
        const value = Reflect.get(target, property, receiver) as unknown
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value
      },
    })
  return { store: counted(store, (kind) => kind !== 'SELECT' && bump('transactions')), counts }
}

const snapshot = (counts: Map<string, number>): Record<string, number> => Object.fromEntries([...counts].sort(([a], [b]) => a.localeCompare(b)))

for (const kind of STORE_KINDS) {
  describe(`DFSP statements per P2P transfer on ${kind.name}`, { skip: kind.skip }, () => {
    let testStore: TestStore
    let fake: FakeSwitch
    let handle: DfspHandle
    let counts: Map<string, number>

    beforeEach(async () => {
      testStore = await kind.open()
      fake = await FakeSwitch.start()
      const wrapped = counting(testStore.store)
      handle = await startDfsp(bankConfig(fake.url), wrapped.store, { logger: silentLogger })
      counts = wrapped.counts
      counts.clear()
    })

    afterEach(async () => {
      await handle.dfsp.idle()
      assertAllFspiopValid(fake.received)
      await handle.close()
      await fake.close()
      await testStore.close()
    })

    it('as payee: look-up, quote and transfer write three rows and read nothing back', async () => {
      const payer = sdkRequests(handle.urls.fspiop, 'payerfsp')
      await payer.getParties('MSISDN', ALICE, undefined, 'bank')
      await fake.nextAt('PUT', `/parties/MSISDN/${ALICE}`)
      const quote = aQuoteRequest()
      await payer.postQuotes(quote, 'bank')
      const quoted = (await fake.nextAt('PUT', `/quotes/${quote.quoteId}`)).body
      const prepare = aPrepareFor(quote, quoted)
      await payer.postTransfers(prepare, 'bank')
      assert.equal((await fake.nextAt('PUT', `/transfers/${prepare.transferId}`)).body.transferState, 'COMMITTED')
      await handle.dfsp.idle()
      assert.deepEqual(snapshot(counts), { 'INSERT dfsp_quote': 1, 'INSERT dfsp_transfer': 1, 'UPDATE dfsp_transfer': 1, transactions: 3 })
    })

    it('as payee: a prepare for a quote another process of this DFSP gave reads the quote, and is fulfilled the same', async () => {
      // Another process of the bank on the same store (a restart, or a second instance on PostgreSQL).
      const other = await startDfsp(bankConfig(fake.url), testStore.store, { logger: silentLogger })
      try {
        const quote = aQuoteRequest({ amountType: 'SEND', amount: { amount: '20', currency: 'USD' }, note: 'rent' })
        await sdkRequests(other.urls.fspiop, 'payerfsp').postQuotes(quote, 'bank')
        const quoted = (await fake.nextAt('PUT', `/quotes/${quote.quoteId}`)).body
        await other.dfsp.idle()
        counts.clear()
        const prepare = aPrepareFor(quote, quoted)
        await sdkRequests(handle.urls.fspiop, 'payerfsp').postTransfers(prepare, 'bank')
        const fulfilled = (await fake.nextAt('PUT', `/transfers/${prepare.transferId}`)).body
        assert.equal(fulfilled.transferState, 'COMMITTED')
        assert.equal(fulfilled.fulfilment, sdkIlp(BANK_SECRET).calculateFulfil(prepare.ilpPacket))
        await handle.dfsp.idle()
        assert.deepEqual(snapshot(counts), { 'INSERT dfsp_transfer': 1, 'SELECT dfsp_quote': 1, 'UPDATE dfsp_transfer': 1, transactions: 2 })
      } finally {
        await other.dfsp.idle()
        await other.close()
      }
    })

    it('as payer: /send records quote and transfer in one transaction, and on the commit reads and updates the transfer once', async () => {
      const sending = api(handle, 'POST', '/send', { from: { msisdn: ALICE }, to: { idType: 'MSISDN', idValue: CAROL }, amount: '10', currency: 'USD', amountType: 'SEND' })
      const payee = sdkRequests(handle.urls.fspiop, 'payeefsp')
      await fake.nextAt('GET', `/parties/MSISDN/${CAROL}`)
      await payee.putParties('MSISDN', CAROL, undefined, { party: { partyIdInfo: { partyIdType: 'MSISDN', partyIdentifier: CAROL, fspId: 'payeefsp' }, name: 'Carol' } }, 'bank')
      const request = (await fake.nextAt('POST', '/quotes')).body
      const amount = parseAmount(request.amount.amount, 'USD')
      assert.ok(amount.ok)
      const money = { amount: formatAmount(amount.value, 'USD'), currency: 'USD' }
      const response = { transferAmount: money, payeeReceiveAmount: money, expiration: new Date(Date.now() + 60_000).toISOString() }
      const ilp = sdkIlp(PAYEE_SECRET).getQuoteResponseIlp(request, response)
      await payee.putQuotes(request.quoteId, { ...response, ilpPacket: ilp.ilpPacket, condition: ilp.condition }, 'bank')
      const prepare = (await fake.nextAt('POST', '/transfers')).body
      await payee.putTransfers(prepare.transferId, { fulfilment: ilp.fulfilment, completedTimestamp: new Date().toISOString(), transferState: 'COMMITTED' }, 'bank')
      const answer = await sending
      assert.equal(answer.body.currentState, 'COMMITTED')
      assert.equal(answer.body.transfer.fulfilment, ilp.fulfilment)
      await handle.dfsp.idle()
      assert.deepEqual(snapshot(counts), { 'INSERT dfsp_quote': 1, 'INSERT dfsp_transfer': 1, 'SELECT dfsp_transfer': 1, 'UPDATE dfsp_transfer': 1, transactions: 2 })
    })
  })
}
