// SPDX-License-Identifier: Apache-2.0
/**
 * Settlement end to end on both adapters: windows open, fill and close; a settlement nets closed windows
 * and settles them through the ledger, moving POSITION accounts back to zero exactly once; the report in
 * JSON and CSV; the HTTP plugin through inject(); and commits racing window closes (on PostgreSQL from two
 * store clients: two processes, as far as the database can tell), which must never change a closed window.
 */
import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, it } from 'node:test'
import Fastify, { type FastifyInstance } from 'fastify'
import { ManualClock } from '../../src/core/clock.ts'
import { ConflictError, NotFoundError, RejectedError, ValidationError } from '../../src/core/errors.ts'
import type { Account } from '../../src/ledger/index.ts'
import { hubAccountId, participantAccountId } from '../../src/switch/accounts.ts'
import { SettlementService, reportToCsv, reportToJson, type CommittedTransfer, type SettlementWindow } from '../../src/switch/settlement/index.ts'
import { settlementRoutes } from '../../src/http/switch/settlement-routes.ts'
import { BatchingLedger } from '../../src/store/ledger/batching-ledger.ts'
import { checkLedger } from '../../src/store/ledger/ledger-check.ts'
import { openStore } from '../../src/store/open-store.ts'
import type { SqlExecutor } from '../../src/store/ports.ts'
import { STORE_KINDS, type TestStore } from '../support/stores.ts'

const START_MS = Date.UTC(2026, 0, 1)
const HOUR_MS = 3_600_000
const NDC_MINOR = 50_000n
const FUNDS_MINOR = 1_000_000n
const PARTICIPANTS = ['payerfsp', 'payeefsp', 'thirdfsp'] as const
const CURRENCIES = ['USD', 'KES'] as const

const position = (fsp: string, currency = 'USD') => participantAccountId(fsp, currency, 'POSITION')
const liquidity = (fsp: string, currency = 'USD') => participantAccountId(fsp, currency, 'LIQUIDITY')

/**
 * The executor with a pause before every statement: widens the gaps between recordCommitted's statements
 * (find the OPEN window, then insert into it), which is where a close could slip in without the lock.
 */
function slow(tx: SqlExecutor, delayMs: number): SqlExecutor {
  const pause = () => new Promise((resolve) => setTimeout(resolve, delayMs))
  return {
    dialect: tx.dialect,
    query: async (sql, params) => (await pause(), tx.query(sql, params)),
    run: async (sql, params) => (await pause(), tx.run(sql, params)),
    queryMany: async (sql, paramSets) => (await pause(), tx.queryMany(sql, paramSets)),
    runMany: async (sql, paramSets) => (await pause(), tx.runMany(sql, paramSets)),
  } as SqlExecutor
}

/** credits − debits: a participant's POSITION is negative while it owes the hub. */
function balance(account: Account): bigint {
  return account.creditsPostedMinor - account.debitsPostedMinor
}

for (const kind of STORE_KINDS) {
  describe(`settlement on ${kind.name}`, { skip: kind.skip }, () => {
    let testStore: TestStore
    let clock: ManualClock
    let ledger: BatchingLedger
    let service: SettlementService

    beforeEach(async () => {
      testStore = await kind.open()
      clock = new ManualClock(START_MS)
      ledger = new BatchingLedger(testStore.store, { clock })
      service = new SettlementService({ store: testStore.store, ledger, clock })
      // The switch's accounts as accounts.ts lays them out: POSITION capped by the NDC, LIQUIDITY by the funds in.
      for (const currency of CURRENCIES) {
        const statuses = await ledger.createAccounts([
          { id: hubAccountId(currency, 'HUB_RECONCILIATION'), currency, code: 'HUB_RECONCILIATION' },
          ...PARTICIPANTS.flatMap((fsp) => [
            { id: position(fsp, currency), currency, code: 'POSITION', debitsLimitMinor: NDC_MINOR },
            { id: liquidity(fsp, currency), currency, code: 'LIQUIDITY', debitsLimitMinor: 0n },
          ]),
        ])
        assert.ok(statuses.every((s) => s === 'created'))
        const funding = await ledger.createTransfers(
          PARTICIPANTS.map((fsp) => ({
            id: `funds-in:${fsp}:${currency}`,
            type: 'posted' as const,
            debitAccountId: hubAccountId(currency, 'HUB_RECONCILIATION'),
            creditAccountId: liquidity(fsp, currency),
            amountMinor: FUNDS_MINOR,
            currency,
          })),
        )
        assert.ok(funding.every((o) => o.status === 'created'))
      }
    })

    afterEach(async () => {
      await ledger.close()
      await testStore.close()
    })

    /** What the switch does when a transfer commits: positions and liquidity move, then the commit is recorded. */
    async function commit(transferId: string, payerFsp: string, payeeFsp: string, amountMinor: bigint, currency = 'USD'): Promise<number> {
      const outcomes = await ledger.createTransfers([
        { id: `${transferId}:position`, type: 'posted', debitAccountId: position(payerFsp, currency), creditAccountId: position(payeeFsp, currency), amountMinor, currency, linked: true },
        { id: `${transferId}:liquidity`, type: 'posted', debitAccountId: liquidity(payerFsp, currency), creditAccountId: liquidity(payeeFsp, currency), amountMinor, currency },
      ])
      assert.deepEqual(
        outcomes.map((o) => o.status),
        ['created', 'created'],
      )
      const outcome = await testStore.store.transaction((tx) =>
        service.recordCommitted(tx, { transferId, payerFsp, payeeFsp, currency, amountMinor, committedAtMs: clock.nowMs() }),
      )
      assert.equal(outcome.status, 'recorded')
      return outcome.windowId
    }

    async function balances(ids: readonly string[]): Promise<Record<string, bigint>> {
      const accounts = await ledger.lookupAccounts(ids)
      return Object.fromEntries(accounts.map((a) => [a.id, balance(a)]))
    }

    it('opens the first window lazily and records each committed transfer in it once', async () => {
      assert.deepEqual(await service.listWindows(), [])
      const windowId = await commit('t1', 'payerfsp', 'payeefsp', 1_000n)
      const transfer: CommittedTransfer = { transferId: 't1', payerFsp: 'payerfsp', payeeFsp: 'payeefsp', currency: 'USD', amountMinor: 1_000n, committedAtMs: clock.nowMs() + 5 }
      assert.deepEqual(await testStore.store.transaction((tx) => service.recordCommitted(tx, transfer)), { windowId, status: 'exists' })
      await assert.rejects(
        testStore.store.transaction((tx) => service.recordCommitted(tx, { ...transfer, amountMinor: 999n })),
        (error: unknown) => error instanceof ConflictError && error.code === 'MODIFIED_REQUEST',
      )
      // A commit whose transaction rolls back leaves nothing behind.
      await assert.rejects(
        testStore.store.transaction(async (tx) => {
          await service.recordCommitted(tx, { ...transfer, transferId: 'rolled-back' })
          throw new Error('the switch failed after recording')
        }),
        /the switch failed/,
      )
      const window = await service.getWindow(windowId)
      assert.equal(window.state, 'OPEN')
      assert.deepEqual(window.content, [{ currency: 'USD', transferCount: 1, amountMinor: 1_000n }])
      assert.equal((await service.currentWindow()).id, windowId)
      assert.equal((await service.listWindows()).length, 1)
    })

    it('closes the OPEN window and opens the next in one step; only an OPEN window closes', async () => {
      const first = await service.currentWindow()
      await commit('t1', 'payerfsp', 'payeefsp', 1_000n)
      clock.advance(HOUR_MS)
      const { closed, opened } = await service.closeWindow(first.id, 'end of day')
      assert.equal(closed.id, first.id)
      assert.equal(closed.state, 'CLOSED')
      assert.equal(closed.reason, 'end of day')
      assert.deepEqual(closed.content, [{ currency: 'USD', transferCount: 1, amountMinor: 1_000n }])
      assert.equal(opened.state, 'OPEN')
      assert.ok(opened.id > first.id)
      assert.deepEqual(opened.content, [])

      assert.equal(await commit('t2', 'thirdfsp', 'payerfsp', 500n, 'KES'), opened.id)
      assert.deepEqual((await service.getWindow(first.id)).content, closed.content, 'a closed window does not change')

      await assert.rejects(service.closeWindow(first.id, 'again'), (error: unknown) => error instanceof ConflictError && error.code === 'INVALID_STATE')
      await assert.rejects(service.closeWindow(9_999, 'nope'), (error: unknown) => error instanceof NotFoundError && error.code === 'ID_NOT_FOUND')
      await assert.rejects(service.closeWindow(opened.id, ' '), ValidationError)

      const open = await service.listWindows({ state: 'OPEN' })
      assert.deepEqual(
        open.map((w) => w.id),
        [opened.id],
      )
      assert.deepEqual(
        (await service.listWindows({ participantId: 'thirdfsp' })).map((w) => w.id),
        [opened.id],
      )
      assert.deepEqual(
        (await service.listWindows({ participantId: 'payeefsp' })).map((w) => w.id),
        [first.id],
      )
      assert.deepEqual(
        (await service.listWindows({ fromMs: START_MS + 1, toMs: START_MS + 2 * HOUR_MS })).map((w) => w.id),
        [opened.id],
      )
      assert.deepEqual(
        (await service.listWindows({ state: 'CLOSED', toMs: START_MS })).map((w) => w.id),
        [first.id],
      )
    })

    it('nets two windows to zero per currency, settles positions back to zero once, and marks everything SETTLED', async () => {
      const w1 = (await service.currentWindow()).id
      await commit('a', 'payerfsp', 'payeefsp', 10_000n)
      await commit('b', 'thirdfsp', 'payerfsp', 3_000n)
      await commit('k', 'payerfsp', 'thirdfsp', 700n, 'KES')
      const w2 = (await service.closeWindow(w1, 'cut-off 1')).opened.id
      await commit('c', 'payeefsp', 'thirdfsp', 2_000n)
      await commit('d', 'payerfsp', 'payeefsp', 525n)
      const w3 = (await service.closeWindow(w2, 'cut-off 2')).opened.id
      await commit('e', 'payerfsp', 'payeefsp', 1n) // lands in the OPEN window, outside the settlement

      const settlement = await service.createSettlement({ windowIds: [w2, w1], reason: 'daily', model: 'DEFERREDNET' })
      assert.equal(settlement.state, 'PENDING_SETTLEMENT')
      assert.equal(settlement.model, 'DEFERREDNET')
      assert.deepEqual(
        settlement.windows.map((w) => [w.id, w.state, w.settlementId]),
        [
          [w1, 'PENDING_SETTLEMENT', settlement.id],
          [w2, 'PENDING_SETTLEMENT', settlement.id],
        ],
      )
      assert.deepEqual(
        settlement.participants.map((p) => [p.fsp, p.currency, p.sentMinor, p.receivedMinor, p.netMinor, p.ledgerTransferId]),
        [
          ['payeefsp', 'USD', 2_000n, 10_525n, 8_525n, `stl:${settlement.id}:payeefsp:USD`],
          ['payerfsp', 'KES', 700n, 0n, -700n, `stl:${settlement.id}:payerfsp:KES`],
          ['payerfsp', 'USD', 10_525n, 3_000n, -7_525n, `stl:${settlement.id}:payerfsp:USD`],
          ['thirdfsp', 'KES', 0n, 700n, 700n, `stl:${settlement.id}:thirdfsp:KES`],
          ['thirdfsp', 'USD', 3_000n, 2_000n, -1_000n, `stl:${settlement.id}:thirdfsp:USD`],
        ],
      )
      for (const currency of CURRENCIES) {
        assert.equal(
          settlement.participants.filter((p) => p.currency === currency).reduce((s, p) => s + p.netMinor, 0n),
          0n,
        )
      }
      // A window can be in one live settlement only, and an OPEN one in none.
      await assert.rejects(service.createSettlement({ windowIds: [w1], reason: 'twice' }), ConflictError)
      await assert.rejects(service.createSettlement({ windowIds: [w3], reason: 'open' }), ConflictError)
      await assert.rejects(service.createSettlement({ windowIds: [9_999], reason: 'missing' }), NotFoundError)
      await assert.rejects(service.createSettlement({ windowIds: [w1, w1], reason: 'dup' }), ValidationError)

      const accountIds = CURRENCIES.flatMap((c) => PARTICIPANTS.flatMap((fsp) => [position(fsp, c), liquidity(fsp, c)]))
      const before = await balances(accountIds)
      // Positions before settling: the nets, plus the 1-cent transfer in the OPEN window.
      assert.equal(before[position('payerfsp')], -7_525n - 1n)
      assert.equal(before[position('payeefsp')], 8_525n + 1n)
      assert.equal(before[position('thirdfsp')], -1_000n)
      assert.equal(before[position('payerfsp', 'KES')], -700n)

      const settled = await service.settle(settlement.id, 'paid at the settlement bank')
      assert.equal(settled.state, 'SETTLED')
      assert.equal(settled.reason, 'paid at the settlement bank')
      assert.deepEqual(
        settled.windows.map((w) => w.state),
        ['SETTLED', 'SETTLED'],
      )
      const after = await balances(accountIds)
      assert.equal(after[position('payerfsp')], -1n, 'only the unsettled OPEN-window transfer remains')
      assert.equal(after[position('payeefsp')], 1n)
      assert.equal(after[position('thirdfsp')], 0n)
      assert.equal(after[position('payerfsp', 'KES')], 0n)
      assert.equal(after[position('thirdfsp', 'KES')], 0n)
      for (const fsp of PARTICIPANTS) {
        for (const c of CURRENCIES) assert.equal(after[liquidity(fsp, c)], before[liquidity(fsp, c)], `${fsp} ${c} LIQUIDITY does not move`)
      }
      const hubs = await ledger.lookupAccounts(CURRENCIES.map((c) => hubAccountId(c, 'HUB_MULTILATERAL_SETTLEMENT')))
      for (const hub of hubs) assert.equal(balance(hub), 0n, `${hub.id} nets to zero`)
      assert.equal((await ledger.lookupAccounts([hubAccountId('USD', 'HUB_MULTILATERAL_SETTLEMENT')]))[0]?.creditsPostedMinor, 8_525n)

      // Settling again changes nothing and moves no money.
      const again = await service.settle(settlement.id)
      assert.equal(again.state, 'SETTLED')
      assert.deepEqual(await balances(accountIds), after)
      const [row] = await testStore.store.query<{ n: bigint }>("SELECT COUNT(*) AS n FROM ledger_transfer WHERE id LIKE 'stl:%'")
      assert.equal(row?.n, 5n)
      await assert.rejects(service.abortSettlement(settlement.id, 'too late'), ConflictError)
      assert.equal((await service.getWindow(w3)).state, 'OPEN')
    })

    it('aborting returns the windows to CLOSED for a later settlement; a SETTLING one cannot be aborted', async () => {
      const w1 = (await service.currentWindow()).id
      await commit('a', 'payerfsp', 'payeefsp', 4_000n)
      await service.closeWindow(w1, 'cut-off')
      const first = await service.createSettlement({ windowIds: [w1], reason: 'first try' })
      const aborted = await service.abortSettlement(first.id, 'bank holiday')
      assert.equal(aborted.state, 'ABORTED')
      assert.equal(aborted.reason, 'bank holiday')
      const window = await service.getWindow(w1)
      assert.equal(window.state, 'CLOSED')
      assert.equal(window.settlementId, null)
      await assert.rejects(service.settle(first.id), ConflictError)
      await assert.rejects(service.abortSettlement(first.id, 'twice'), ConflictError)

      const second = await service.createSettlement({ windowIds: [w1], reason: 'second try' })
      assert.equal((await service.getWindow(w1)).settlementId, second.id)
      assert.equal((await service.settle(second.id)).state, 'SETTLED')
      assert.deepEqual(await balances([position('payerfsp'), position('payeefsp')]), { [position('payerfsp')]: 0n, [position('payeefsp')]: 0n })
      await assert.rejects(service.getSettlement(9_999), NotFoundError)
    })

    it('settles a net receiver whose position grew past its net debit cap since the window closed, as Mojaloop does', async () => {
      const w1 = (await service.currentWindow()).id
      await commit('in', 'payerfsp', 'payeefsp', 10_000n)
      await service.closeWindow(w1, 'cut-off')
      // In the next window payeefsp spends all the headroom its receipt and its NDC give it.
      await commit('out', 'payeefsp', 'thirdfsp', 10_000n + NDC_MINOR)
      const settlement = await service.createSettlement({ windowIds: [w1], reason: 'daily' })

      // Debiting payeefsp's POSITION by its net takes it past its cap; settlement is exempt from the cap.
      assert.equal((await service.settle(settlement.id)).state, 'SETTLED')
      assert.deepEqual(await balances([position('payerfsp'), position('payeefsp')]), {
        [position('payerfsp')]: 0n,
        [position('payeefsp')]: -(10_000n + NDC_MINOR),
      })
      const [payee] = await ledger.lookupAccounts([position('payeefsp')])
      assert.equal(payee?.debitsExemptMinor, 10_000n)
      assert.equal(payee?.debitsLimitMinor, NDC_MINOR, 'the cap itself is unchanged')
      // The cap still holds for what comes next: payeefsp cannot reserve anything until it is back under it.
      const reserve = await ledger.createTransfer({
        id: 'next:pos',
        type: 'pending',
        debitAccountId: position('payeefsp'),
        creditAccountId: position('thirdfsp'),
        amountMinor: 1n,
        currency: 'USD',
      })
      assert.equal(reserve.status, 'exceeds_credits')
      assert.deepEqual((await checkLedger(testStore.store)).problems, [])
    })

    it('a settle the ledger refuses moves no position, stays SETTLING, and succeeds when retried later', async () => {
      const w1 = (await service.currentWindow()).id
      await commit('in', 'payerfsp', 'payeefsp', 10_000n)
      await service.closeWindow(w1, 'cut-off')
      const settlement = await service.createSettlement({ windowIds: [w1], reason: 'daily' })
      const before = await balances([position('payerfsp'), position('payeefsp')])
      // The operator capped what the hub's settlement account may be credited: the receiver's leg is refused.
      const hub = hubAccountId('USD', 'HUB_MULTILATERAL_SETTLEMENT')
      assert.deepEqual(await ledger.createAccounts([{ id: hub, currency: 'USD', code: 'HUB_MULTILATERAL_SETTLEMENT', creditsLimitMinor: 0n }]), ['created'])

      await assert.rejects(
        service.settle(settlement.id),
        (error: unknown) => error instanceof RejectedError && error.details.fsp === 'payeefsp' && error.details.status === 'exceeds_debits',
      )
      assert.deepEqual(await balances([position('payerfsp'), position('payeefsp')]), before, 'the chain is linked: nothing moved')
      assert.equal((await service.getSettlement(settlement.id)).state, 'SETTLING')
      assert.equal((await service.getWindow(w1)).state, 'PENDING_SETTLEMENT')
      await assert.rejects(service.abortSettlement(settlement.id, 'give up'), ConflictError)

      assert.equal(await ledger.setLimits({ accountId: hub, debitsLimitMinor: null, creditsLimitMinor: null }), 'updated')
      assert.equal((await service.settle(settlement.id)).state, 'SETTLED')
      assert.deepEqual(await balances([position('payerfsp'), position('payeefsp')]), { [position('payerfsp')]: 0n, [position('payeefsp')]: 0n })
    })

    it('reports sent, received and net per participant and currency, as JSON and CSV', async () => {
      const w1 = (await service.currentWindow()).id
      await commit('a', 'payerfsp', 'payeefsp', 15_025n)
      await commit('b', 'payeefsp', 'payerfsp', 25n)
      await commit('k', 'thirdfsp', 'payerfsp', 1_050n, 'KES')
      const windowReport = await service.windowReport(w1)
      assert.equal(windowReport.state, 'OPEN')
      const expectedCsv = [
        'participantId,currency,sent,received,net',
        'payeefsp,USD,0.25,150.25,150',
        'payerfsp,KES,0,10.5,10.5',
        'payerfsp,USD,150.25,0.25,-150',
        'thirdfsp,KES,10.5,0,-10.5',
        '',
      ].join('\r\n')
      assert.equal(reportToCsv(windowReport), expectedCsv)

      await service.closeWindow(w1, 'cut-off')
      const settlement = await service.createSettlement({ windowIds: [w1], reason: 'daily' })
      const report = await service.settlementReport(settlement.id)
      assert.equal(reportToCsv(report), expectedCsv)
      const json = reportToJson(report)
      assert.equal(json.scope, 'settlement')
      assert.deepEqual(json.windowIds, [w1])
      assert.deepEqual(json.totals, [
        { currency: 'KES', amount: '10.5', transferParticipants: 2 },
        { currency: 'USD', amount: '150.5', transferParticipants: 2 },
      ])
    })

    describe('HTTP', () => {
      let app: FastifyInstance

      beforeEach(async () => {
        app = Fastify({ logger: false })
        await app.register(settlementRoutes, { service })
        await app.ready()
      })

      afterEach(async () => {
        await app.close()
      })

      it('closes, settles and reports through the central-settlement routes', async () => {
        const w1 = (await service.currentWindow()).id
        await commit('a', 'payerfsp', 'payeefsp', 12_345n)

        const list = await app.inject({ method: 'GET', url: '/settlementWindows?state=OPEN' })
        assert.equal(list.statusCode, 200)
        assert.deepEqual(
          list.json().map((w: { id: number; settlementWindowId: number }) => [w.id, w.settlementWindowId]),
          [[w1, w1]],
        )
        const one = await app.inject({ method: 'GET', url: `/settlementWindows/${w1}` })
        assert.equal(one.statusCode, 200)
        assert.deepEqual(one.json().content, [{ currencyId: 'USD', ledgerAccountType: 'POSITION', state: 'OPEN', transferCount: 1, amount: '123.45' }])
        assert.equal(one.json().createdDate, new Date(START_MS).toISOString())

        const close = await app.inject({ method: 'POST', url: `/settlementWindows/${w1}`, payload: { state: 'CLOSED', reason: 'end of day' } })
        assert.equal(close.statusCode, 200)
        const w2 = close.json().id as number
        assert.equal(close.json().state, 'OPEN', 'answers with the window opened in its place, as Mojaloop does')
        assert.ok(w2 > w1)
        const closedAgain = await app.inject({ method: 'POST', url: `/settlementWindows/${w1}`, payload: { state: 'CLOSED', reason: 'again' } })
        assert.equal(closedAgain.statusCode, 409)
        assert.equal(closedAgain.json().errorInformation.errorCode, '3100')
        const missing = await app.inject({ method: 'GET', url: '/settlementWindows/9999' })
        assert.equal(missing.statusCode, 404)
        assert.deepEqual(missing.json(), { errorInformation: { errorCode: '3200', errorDescription: 'settlement window 9999 not found' } })
        const badBody = await app.inject({ method: 'POST', url: `/settlementWindows/${w2}`, payload: { state: 'OPEN', reason: 'x' } })
        assert.equal(badBody.statusCode, 400)
        assert.equal(badBody.json().errorInformation.errorCode, '3100')
        const badJson = await app.inject({ method: 'POST', url: `/settlementWindows/${w2}`, headers: { 'content-type': 'application/json' }, payload: '{"state":' })
        assert.equal(badJson.statusCode, 400)
        assert.equal(badJson.json().errorInformation.errorCode, '3101')

        const created = await app.inject({
          method: 'POST',
          url: '/settlements',
          payload: { settlementModel: 'DEFERREDNET', reason: 'daily', settlementWindows: [{ id: w1 }] },
        })
        assert.equal(created.statusCode, 200)
        const settlement = created.json()
        assert.equal(settlement.state, 'PENDING_SETTLEMENT')
        assert.deepEqual(settlement.participants, [
          {
            id: 'payeefsp',
            accounts: [
              {
                id: position('payeefsp'),
                state: 'PENDING_SETTLEMENT',
                reason: 'daily',
                netSettlementAmount: { amount: '-123.45', currency: 'USD' },
                sent: '0',
                received: '123.45',
                net: '123.45',
                ledgerTransferId: `stl:${settlement.id}:payeefsp:USD`,
              },
            ],
          },
          {
            id: 'payerfsp',
            accounts: [
              {
                id: position('payerfsp'),
                state: 'PENDING_SETTLEMENT',
                reason: 'daily',
                netSettlementAmount: { amount: '123.45', currency: 'USD' },
                sent: '123.45',
                received: '0',
                net: '-123.45',
                ledgerTransferId: `stl:${settlement.id}:payerfsp:USD`,
              },
            ],
          },
        ])
        const overlapping = await app.inject({ method: 'POST', url: '/settlements', payload: { settlementModel: 'DEFERREDNET', reason: 'x', settlementWindows: [{ id: w1 }] } })
        assert.equal(overlapping.statusCode, 409)
        const duplicateIds = await app.inject({
          method: 'POST',
          url: '/settlements',
          payload: { settlementModel: 'DEFERREDNET', reason: 'x', settlementWindows: [{ id: w1 }, { id: w1 }] },
        })
        assert.equal(duplicateIds.statusCode, 400)

        const csv = await app.inject({ method: 'GET', url: `/settlements/${settlement.id}/report.csv` })
        assert.equal(csv.statusCode, 200)
        assert.match(csv.headers['content-type'] as string, /^text\/csv/)
        assert.equal(csv.body, 'participantId,currency,sent,received,net\r\npayeefsp,USD,0,123.45,123.45\r\npayerfsp,USD,123.45,0,-123.45\r\n')
        const reportJson = await app.inject({ method: 'GET', url: `/settlementWindows/${w1}/report` })
        assert.equal(reportJson.statusCode, 200)
        assert.deepEqual(reportJson.json().totals, [{ currency: 'USD', amount: '123.45', transferParticipants: 2 }])

        // Mojaloop's per-account form: naming only some accounts SETTLED is refused; PS_TRANSFERS_* steps are no-ops.
        const partial = await app.inject({
          method: 'PUT',
          url: `/settlements/${settlement.id}`,
          payload: { participants: [{ id: 'payerfsp', accounts: [{ id: position('payerfsp'), state: 'SETTLED', reason: 'paid' }] }] },
        })
        assert.equal(partial.statusCode, 400)
        const step = await app.inject({
          method: 'PUT',
          url: `/settlements/${settlement.id}`,
          payload: { participants: [{ id: 'payerfsp', accounts: [{ id: position('payerfsp'), state: 'PS_TRANSFERS_RECORDED', reason: 'recorded' }] }] },
        })
        assert.equal(step.statusCode, 200)
        assert.equal(step.json().state, 'PENDING_SETTLEMENT')
        const all = await app.inject({
          method: 'PUT',
          url: `/settlements/${settlement.id}`,
          payload: {
            participants: [
              { id: 'payerfsp', accounts: [{ id: position('payerfsp'), state: 'SETTLED', reason: 'paid' }] },
              { id: 'payeefsp', accounts: [{ id: position('payeefsp'), state: 'SETTLED', reason: 'paid' }] },
            ],
          },
        })
        assert.equal(all.statusCode, 200)
        assert.equal(all.json().state, 'SETTLED')
        assert.equal(all.json().reason, 'paid')
        assert.deepEqual(await balances([position('payerfsp'), position('payeefsp')]), { [position('payerfsp')]: 0n, [position('payeefsp')]: 0n })

        const again = await app.inject({ method: 'PUT', url: `/settlements/${settlement.id}`, payload: { state: 'SETTLED', reason: 'retry' } })
        assert.equal(again.statusCode, 200)
        assert.equal(again.json().state, 'SETTLED')
        const abortSettled = await app.inject({ method: 'PUT', url: `/settlements/${settlement.id}`, payload: { state: 'ABORTED', reason: 'late' } })
        assert.equal(abortSettled.statusCode, 409)
        const got = await app.inject({ method: 'GET', url: `/settlements/${settlement.id}` })
        assert.equal(got.statusCode, 200)
        assert.deepEqual(
          got.json().settlementWindows.map((w: SettlementWindow) => [w.id, w.state]),
          [[w1, 'SETTLED']],
        )
        const settledWindows = await app.inject({ method: 'GET', url: `/settlementWindows?state=SETTLED&participantId=payerfsp&fromDateTime=${new Date(START_MS).toISOString()}` })
        assert.deepEqual(
          settledWindows.json().map((w: { id: number }) => w.id),
          [w1],
        )
        const badQuery = await app.inject({ method: 'GET', url: '/settlementWindows?state=NOPE' })
        assert.equal(badQuery.statusCode, 400)
      })

      it('aborts through PUT with state ABORTED', async () => {
        const w1 = (await service.currentWindow()).id
        await commit('a', 'payerfsp', 'payeefsp', 100n)
        await service.closeWindow(w1, 'cut-off')
        const created = await app.inject({ method: 'POST', url: '/settlements', payload: { settlementModel: 'DEFERREDNET', reason: 'daily', settlementWindows: [{ id: w1 }] } })
        const id = created.json().id as number
        const aborted = await app.inject({ method: 'PUT', url: `/settlements/${id}`, payload: { state: 'ABORTED', reason: 'wrong windows' } })
        assert.equal(aborted.statusCode, 200)
        assert.equal(aborted.json().state, 'ABORTED')
        assert.deepEqual(
          aborted.json().settlementWindows.map((w: SettlementWindow) => w.state),
          ['CLOSED'],
        )
        const missing = await app.inject({ method: 'PUT', url: '/settlements/9999', payload: { state: 'SETTLED', reason: 'x' } })
        assert.equal(missing.statusCode, 404)
        const noReason = await app.inject({ method: 'PUT', url: `/settlements/${id}`, payload: { state: 'SETTLED' } })
        assert.equal(noReason.statusCode, 400)
      })
    })

    it('commits racing window closes never change a window once it is closed', { timeout: 60_000 }, async () => {
      // On PostgreSQL a second pool on the same schema is a second Kivuko process. SQLite has one writer per
      // process (node:sqlite waits for a file lock synchronously), so there both services share the store.
      const other = kind.name === 'postgres' ? await openStore(testStore.location) : testStore.store
      const otherService = new SettlementService({ store: other, ledger, clock })
      try {
        const TRANSFERS = 240
        const CLOSES = 6
        const services = [service, otherService]
        const stores = [testStore.store, other]
        const closedContent = new Map<number, number>()
        const commits = Array.from({ length: TRANSFERS }, async (_, i) => {
          const s = i % 2
          // Hold the transaction open a little after recording: the moment a close must wait for.
          return (stores[s] as typeof other).transaction(async (tx) => {
            const outcome = await (services[s] as SettlementService).recordCommitted(slow(tx, 1 + (i % 2)), {
              transferId: `race-${i}`,
              payerFsp: PARTICIPANTS[i % 3] as string,
              payeeFsp: PARTICIPANTS[(i + 1) % 3] as string,
              currency: 'USD',
              amountMinor: BigInt(1 + (i % 7)),
              committedAtMs: START_MS + i,
            })
            await new Promise((resolve) => setTimeout(resolve, i % 3))
            return outcome.windowId
          })
        })
        const closer = (async () => {
          for (let c = 0; c < CLOSES; c += 1) {
            await new Promise((resolve) => setTimeout(resolve, 3 + (c % 3)))
            const s = services[c % 2] as SettlementService
            const { closed } = await s.closeWindow((await s.currentWindow()).id, `race close ${c}`)
            closedContent.set(
              closed.id,
              closed.content.reduce((n, part) => n + part.transferCount, 0),
            )
          }
        })()
        const windowIds = await Promise.all(commits)
        await closer

        assert.equal(closedContent.size, CLOSES)
        for (const [id, countAtClose] of closedContent) {
          const window = await service.getWindow(id)
          assert.equal(window.state, 'CLOSED')
          assert.equal(
            window.content.reduce((n, part) => n + part.transferCount, 0),
            countAtClose,
            `window ${id} kept the content it closed with`,
          )
        }
        const all = await service.listWindows()
        assert.equal(all.filter((w) => w.state === 'OPEN').length, 1)
        assert.equal(
          all.reduce((n, w) => n + w.content.reduce((m, part) => m + part.transferCount, 0), 0),
          TRANSFERS,
        )
        for (const [i, windowId] of windowIds.entries()) {
          const window = all.find((w) => w.id === windowId)
          assert.ok(window !== undefined, `transfer ${i} landed in a window that exists`)
        }
        // Every window the race closed is settleable, and the settlement balances.
        const settlement = await service.createSettlement({ windowIds: [...closedContent.keys()], reason: 'after the race' })
        assert.equal(
          settlement.participants.reduce((s, p) => s + p.netMinor, 0n),
          0n,
        )
      } finally {
        if (other !== testStore.store) await other.close()
      }
    })
  })
}
