// SPDX-License-Identifier: Apache-2.0
/**
 * The DFSP as payer, through its synchronous outbound API (POST /send), on both stores. The test plays the
 * switch and the payee DFSP: it waits for what the DFSP sends to the fake switch and answers with Mojaloop's
 * own SDK (MojaloopRequests for the callbacks, Ilp for the payee's packet and fulfilment).
 */
import assert from 'node:assert/strict'
import { formatAmount, parseAmount } from '../../src/core/money.ts'
import { afterEach, describe, it } from 'node:test'
import { ManualClock } from '../../src/core/clock.ts'
import { decodeIlpV1Packet } from '../../src/fspiop/index.ts'
import type { DfspConfigInput } from '../../src/dfsp/index.ts'
import { SqlDfspRepository } from '../../src/store/dfsp/dfsp-repo.ts'
import { STORE_KINDS, type StoreKind } from '../support/stores.ts'
import type { Recorded } from './fake-switch.ts'
import { ALICE, BOB, PAYEE_SECRET, api, assertAllFspiopValid, balanceOf, eventually, sdkIlp, sdkRequests, startBank, type Started } from './support.ts'

const CAROL = '256780000001'
const CAROL_PARTY = { partyIdInfo: { partyIdType: 'MSISDN', partyIdentifier: CAROL, fspId: 'payeefsp' }, name: 'Carol Achieng' }

interface Quoted {
  readonly request: any
  readonly response: any
  readonly fulfilment: string
}

for (const kind of STORE_KINDS) {
  describe(`DFSP as payer, outbound API over HTTP, on ${kind.name}`, { skip: kind.skip }, () => {
    let started: Started

    afterEach(async () => {
      await started.handle.dfsp.idle()
      assertAllFspiopValid(started.fake.received)
      await started.close()
    })

    const start = async (overrides: Partial<DfspConfigInput> = {}, options: Parameters<typeof startBank>[2] = {}): Promise<Started> => {
      started = await startBank(kind as StoreKind, overrides, options)
      return started
    }

    const send = (body: Record<string, unknown>): Promise<{ status: number; body: any }> =>
      api(started.handle, 'POST', '/send', { from: { msisdn: ALICE }, to: { idType: 'MSISDN', idValue: CAROL }, currency: 'USD', ...body })

    /** The payee DFSP's part, through the switch: the party. */
    async function answerLookup(): Promise<Recorded> {
      const get = await started.fake.nextAt('GET', `/parties/MSISDN/${CAROL}`)
      await started.mojaloop('payeefsp').putParties('MSISDN', CAROL, undefined, { party: CAROL_PARTY }, 'bank')
      return get
    }

    /** The payee DFSP's part: a quote with a fee of `feeMinor` cents, built by the SDK's Ilp. */
    async function answerQuote(feeCents = 0n, nowMs = Date.now(), tamper: (response: any) => void = () => undefined, ilpVersion: 'v1' | 'v4' = 'v4'): Promise<Quoted> {
      const post = await started.fake.nextAt('POST', '/quotes')
      const request = post.body
      const parsed = parseAmount(request.amount.amount, 'USD')
      assert.ok(parsed.ok)
      const amountCents = parsed.value
      const cents = (n: bigint): { amount: string; currency: string } => ({ amount: formatAmount(n, 'USD'), currency: 'USD' })
      const transferCents = request.amountType === 'RECEIVE' ? amountCents + feeCents : amountCents
      const response = {
        transferAmount: cents(transferCents),
        payeeReceiveAmount: cents(transferCents - feeCents),
        payeeFspFee: cents(feeCents),
        expiration: new Date(nowMs + 60_000).toISOString(),
      }
      const ilp = sdkIlp(PAYEE_SECRET, ilpVersion).getQuoteResponseIlp(request, response)
      const body = { ...response, ilpPacket: ilp.ilpPacket, condition: ilp.condition }
      tamper(body)
      await started.mojaloop('payeefsp').putQuotes(request.quoteId, body, 'bank')
      return { request, response: body, fulfilment: ilp.fulfilment }
    }

    it('sends money: look-up, quote, hold, transfer, post; SEND debits exactly the amount, fees included', async () => {
      await start()
      const sending = send({ amount: '10', amountType: 'SEND', note: 'rent', homeTransactionId: 'home-1' })
      const get = await answerLookup()
      assert.equal(get.headers['fspiop-destination'], undefined)
      assert.equal(get.headers.accept, 'application/vnd.interoperability.parties+json;version=1')
      const quote = await answerQuote(50n)
      // The payer fee (0.25) is not disclosed: it comes off the amount before quoting.
      assert.deepEqual(quote.request.amount, { amount: '9.75', currency: 'USD' })
      assert.equal(quote.request.amountType, 'SEND')
      assert.equal(quote.request.note, 'rent')
      assert.equal(quote.request.transactionId.length, 36)
      assert.deepEqual(quote.request.payee, CAROL_PARTY)
      assert.deepEqual(quote.request.payer, {
        partyIdInfo: { partyIdType: 'MSISDN', partyIdentifier: ALICE, fspId: 'bank' },
        name: 'Alice Nakato',
        personalInfo: { complexName: { firstName: 'Alice', lastName: 'Nakato' }, dateOfBirth: '1990-04-12' },
      })
      const prepare = await started.fake.nextAt('POST', '/transfers')
      assert.equal(prepare.headers['fspiop-destination'], 'payeefsp')
      assert.deepEqual(
        { ...prepare.body, expiration: undefined },
        {
          transferId: quote.request.transactionId,
          payerFsp: 'bank',
          payeeFsp: 'payeefsp',
          amount: { amount: '9.75', currency: 'USD' },
          ilpPacket: quote.response.ilpPacket,
          condition: quote.response.condition,
          expiration: undefined,
        },
      )
      // While the switch works, the whole debit is held.
      assert.deepEqual(await balanceOf(started.handle, ALICE), { available: '90.00', reserved: '10.00', posted: '100.00', incoming: '0.00' })
      await started.mojaloop('payeefsp').putTransfers(prepare.body.transferId, { fulfilment: quote.fulfilment, completedTimestamp: new Date().toISOString(), transferState: 'COMMITTED' }, 'bank')
      const answer = await sending
      assert.equal(answer.status, 200)
      assert.equal(answer.body.currentState, 'COMMITTED')
      assert.equal(answer.body.homeTransactionId, 'home-1')
      assert.equal(answer.body.transferId, prepare.body.transferId)
      assert.deepEqual(answer.body.to, CAROL_PARTY)
      assert.deepEqual(
        { ...answer.body.quote, quoteId: undefined, transactionId: undefined, expiration: undefined },
        {
          quoteId: undefined,
          transactionId: undefined,
          expiration: undefined,
          amountType: 'SEND',
          currency: 'USD',
          amount: '10',
          quoteAmount: '9.75',
          transferAmount: '9.75',
          payeeReceiveAmount: '9.25',
          payeeFspFee: '0.5',
          payerFee: '0.25',
          totalDebit: '10',
        },
      )
      assert.equal(answer.body.transfer.fulfilment, quote.fulfilment)
      assert.deepEqual(await balanceOf(started.handle, ALICE), { available: '90.00', reserved: '0.00', posted: '90.00', incoming: '0.00' })
      // The quote was recorded with the payee's answer.
      const recorded = await new SqlDfspRepository(started.testStore.store, 'bank').findQuote(quote.request.quoteId, 'PAYER')
      assert.deepEqual(
        [recorded?.state, recorded?.transferAmountMinor, recorded?.condition, recorded?.transactionId, JSON.parse(recorded?.response ?? 'null')],
        ['ACCEPTED', 975n, quote.response.condition, prepare.body.transferId, quote.response],
      )
      assert.deepEqual(JSON.parse(recorded?.request ?? 'null'), quote.request)

      const statement = await api(started.handle, 'GET', `/customers/${ALICE}/statement`)
      assert.deepEqual(
        statement.body.entries.map((e: any) => [e.kind, e.direction, e.amount, e.holdState ?? null, e.transferState ?? null]),
        [
          ['FEE_CHARGED', 'DEBIT', '0.25', null, 'COMMITTED'],
          ['PAYMENT_SENT', 'DEBIT', '9.75', null, 'COMMITTED'],
          ['FEE_HOLD', 'DEBIT', '0.25', 'posted', 'COMMITTED'],
          ['PAYMENT_HOLD', 'DEBIT', '9.75', 'posted', 'COMMITTED'],
          ['DEPOSIT', 'CREDIT', '100.00', null, null],
        ],
      )
      const page = await api(started.handle, 'GET', `/customers/${ALICE}/statement?limit=2`)
      assert.equal(page.body.entries.length, 2)
      const rest = await api(started.handle, 'GET', `/customers/${ALICE}/statement?limit=5&before=${page.body.next}`)
      assert.deepEqual(
        rest.body.entries.map((e: any) => e.kind),
        ['FEE_HOLD', 'PAYMENT_HOLD', 'DEPOSIT'],
      )
      assert.equal(rest.body.next, undefined)
    })

    it('pays a Mojaloop v1.x payee: its ILP v1 packet goes out verbatim and commits on its fulfilment; one for another amount is refused', async () => {
      await start()
      const sending = send({ amount: '3', amountType: 'SEND' })
      await answerLookup()
      const quote = await answerQuote(0n, Date.now(), () => undefined, 'v1')
      assert.equal(Buffer.from(quote.response.ilpPacket, 'base64url')[0], 1)
      const prepare = await started.fake.nextAt('POST', '/transfers')
      assert.deepEqual([prepare.body.ilpPacket, prepare.body.condition], [quote.response.ilpPacket, quote.response.condition])
      await started.mojaloop('payeefsp').putTransfers(prepare.body.transferId, { fulfilment: quote.fulfilment, completedTimestamp: new Date().toISOString(), transferState: 'COMMITTED' }, 'bank')
      const answer = await sending
      assert.deepEqual([answer.status, answer.body.currentState], [200, 'COMMITTED'])
      assert.equal((await balanceOf(started.handle, ALICE)).posted, '97.00')

      // The packet's ILP amount must be the transfer amount: here the payee's packet says 2.00 for a 3.00 quote.
      const cheated = send({ amount: '3', amountType: 'SEND' })
      await answerLookup()
      await answerQuote(0n, Date.now(), (body) => {
        const decoded = decodeIlpV1Packet(body.ilpPacket)
        assert.ok(decoded.ok)
        const other = sdkIlp(PAYEE_SECRET, 'v1').getResponseIlp({ ...decoded.value.transaction, amount: { amount: '2', currency: 'USD' } })
        body.ilpPacket = other.ilpPacket
      }, 'v1')
      const unusable = await cheated
      assert.deepEqual([unusable.status, unusable.body.error.stage], [502, 'quote'])
      assert.match(unusable.body.error.message, /the ILP packet is for another amount/)
      await started.handle.dfsp.idle()
      assert.equal(started.fake.received.filter((r) => r.method === 'POST' && r.path === '/transfers').length, 1)
    })

    it('RECEIVE: the payee gets the amount; an error from the switch aborts and releases the hold', async () => {
      await start()
      const sending = send({ amount: '10', amountType: 'RECEIVE' })
      await answerLookup()
      const quote = await answerQuote(100n)
      assert.deepEqual(quote.request.amount, { amount: '10', currency: 'USD' })
      const prepare = await started.fake.nextAt('POST', '/transfers')
      assert.deepEqual(prepare.body.amount, { amount: '11', currency: 'USD' })
      // 11.00 to the payee DFSP plus the 0.25 payer fee.
      assert.equal((await balanceOf(started.handle, ALICE)).reserved, '11.25')
      await started.mojaloop('switch').putTransfersError(prepare.body.transferId, { errorInformation: { errorCode: '4001', errorDescription: 'Payer FSP insufficient liquidity' } }, 'bank')
      const answer = await sending
      assert.equal(answer.status, 422)
      assert.equal(answer.body.currentState, 'ABORTED')
      assert.deepEqual(answer.body.error.fspiopError, { errorCode: '4001', errorDescription: 'Payer FSP insufficient liquidity' })
      assert.equal(answer.body.error.stage, 'transfer')
      assert.equal(answer.body.quote.totalDebit, '11.25')
      assert.deepEqual(await balanceOf(started.handle, ALICE), { available: '100.00', reserved: '0.00', posted: '100.00', incoming: '0.00' })
      // A late duplicate of the error changes nothing.
      await started.mojaloop('switch').putTransfersError(prepare.body.transferId, { errorInformation: { errorCode: '4001', errorDescription: 'Payer FSP insufficient liquidity' } }, 'bank')
      await started.handle.dfsp.idle()
      assert.equal((await balanceOf(started.handle, ALICE)).available, '100.00')
    })

    it('refuses without sending a transfer when funds are short, the party is unknown, or the quote is refused or unusable', async () => {
      await start()
      // Bob has 5.00.
      const poor = api(started.handle, 'POST', '/send', { from: { msisdn: BOB }, to: { idType: 'MSISDN', idValue: CAROL }, currency: 'USD', amount: '10', amountType: 'SEND' })
      await answerLookup()
      await answerQuote()
      const short = await poor
      assert.equal(short.status, 422)
      assert.deepEqual([short.body.currentState, short.body.error.stage, short.body.error.message], ['ERROR_OCCURRED', 'funds', 'insufficient funds'])
      assert.equal((await balanceOf(started.handle, BOB)).available, '5.00')

      const stranger = send({ amount: '1', amountType: 'SEND' })
      await started.fake.nextAt('GET', `/parties/MSISDN/${CAROL}`)
      await started.mojaloop('switch').putPartiesError('MSISDN', CAROL, undefined, { errorInformation: { errorCode: '3204', errorDescription: 'Party not found' } }, 'bank')
      const notFound = await stranger
      assert.deepEqual([notFound.status, notFound.body.error.stage, notFound.body.error.fspiopError.errorCode], [404, 'party', '3204'])

      const refused = send({ amount: '1', amountType: 'SEND' })
      await answerLookup()
      const quoteRequest = await started.fake.nextAt('POST', '/quotes')
      await started.mojaloop('payeefsp').putQuotesError(quoteRequest.body.quoteId, { errorInformation: { errorCode: '5101', errorDescription: 'Payee rejected quote' } }, 'bank')
      const rejected = await refused
      assert.deepEqual([rejected.status, rejected.body.error.stage, rejected.body.error.fspiopError.errorCode], [422, 'quote', '5101'])

      const cheated = send({ amount: '10', amountType: 'SEND' })
      await answerLookup()
      await answerQuote(0n, Date.now(), (body) => {
        body.transferAmount = { amount: '9.5', currency: 'USD' }
        body.payeeReceiveAmount = { amount: '9.5', currency: 'USD' }
      })
      const unusable = await cheated
      assert.equal(unusable.status, 502)
      assert.equal(unusable.body.error.stage, 'quote')
      assert.match(unusable.body.error.message, /transfer_amount_changed/)

      const invalid = await send({ amount: '10.001', amountType: 'SEND' })
      assert.equal(invalid.status, 400)
      const unknownPayer = await api(started.handle, 'POST', '/send', { from: { msisdn: '256711111111' }, to: { idType: 'MSISDN', idValue: CAROL }, currency: 'USD', amount: '1', amountType: 'SEND' })
      assert.deepEqual([unknownPayer.status, unknownPayer.body.error.stage], [404, 'payer'])

      await started.handle.dfsp.idle()
      assert.equal(started.fake.received.filter((r) => r.method === 'POST' && r.path === '/transfers').length, 0)
      assert.deepEqual(await balanceOf(started.handle, ALICE), { available: '100.00', reserved: '0.00', posted: '100.00', incoming: '0.00' })
    })

    it('answers 504 when a callback does not come in time; a late commit still lands', async () => {
      await start({ timeouts: { partyMs: 3_000, quoteMs: 300, transferMs: 300, httpMs: 3_000 } })
      const quoteTimeout = send({ amount: '1', amountType: 'SEND' })
      await answerLookup()
      const lateQuote = (await started.fake.nextAt('POST', '/quotes')).body
      const timedOut = await quoteTimeout
      assert.deepEqual([timedOut.status, timedOut.body.error.stage, timedOut.body.error.code], [504, 'quote', 'SERVER_TIMED_OUT'])
      // The quote is recorded without an answer; one that comes late is recorded on it still.
      const repo = new SqlDfspRepository(started.testStore.store, 'bank')
      assert.equal((await repo.findQuote(lateQuote.quoteId, 'PAYER'))?.state, 'RECEIVED')
      await started.mojaloop('payeefsp').putQuotesError(lateQuote.quoteId, { errorInformation: { errorCode: '5103', errorDescription: 'too late' } }, 'bank')
      await eventually(async () => {
        const recorded = await repo.findQuote(lateQuote.quoteId, 'PAYER')
        assert.deepEqual([recorded?.state, recorded?.responseIsError, JSON.parse(recorded?.response ?? 'null')], ['REJECTED', true, { errorInformation: { errorCode: '5103', errorDescription: 'too late' } }])
      })

      const transferTimeout = send({ amount: '10', amountType: 'SEND' })
      await answerLookup()
      const quote = await answerQuote()
      const prepare = await started.fake.nextAt('POST', '/transfers')
      const late = await transferTimeout
      assert.deepEqual([late.status, late.body.currentState, late.body.error.stage], [504, 'RESERVED', 'transfer'])
      assert.equal((await balanceOf(started.handle, ALICE)).reserved, '10.00')
      await started.mojaloop('payeefsp').putTransfers(prepare.body.transferId, { fulfilment: quote.fulfilment, completedTimestamp: new Date().toISOString(), transferState: 'COMMITTED' }, 'bank')
      await eventually(async () => assert.deepEqual(await balanceOf(started.handle, ALICE), { available: '90.00', reserved: '0.00', posted: '90.00', incoming: '0.00' }))
      // The ledger posts the hold before the transfer's record says COMMITTED: under load the two can be read apart.
      await eventually(async () => {
        const status = await api(started.handle, 'GET', `/transfers/${prepare.body.transferId}`)
        assert.deepEqual(
          status.body.transfers.map((t: any) => [t.role, t.state, t.amount, t.fee, t.fulfilment]),
          [['PAYER', 'COMMITTED', '9.75', '0.25', quote.fulfilment]],
        )
      })
    })

    it('sweeps transfers the switch went quiet about: asks with GET /transfers, then releases', async () => {
      const clock = new ManualClock(Date.now())
      await start({ timeouts: { partyMs: 3_000, quoteMs: 3_000, transferMs: 200, httpMs: 3_000 }, expiryGraceMs: 15_000, abandonAfterMs: 120_000 }, { clock })
      const transferIds: string[] = []
      for (let i = 0; i < 2; i += 1) {
        const sending = send({ amount: '10', amountType: 'SEND' })
        await answerLookup()
        await answerQuote(0n, clock.nowMs())
        transferIds.push((await started.fake.nextAt('POST', '/transfers')).body.transferId)
        assert.equal((await sending).status, 504)
      }
      const [first, second] = transferIds as [string, string]
      assert.equal((await balanceOf(started.handle, ALICE)).reserved, '20.00')

      // Not yet past expiration + grace: nothing to do.
      assert.equal(await started.handle.dfsp.sweep(), 0)
      clock.advance(60_000 + 15_000)
      assert.equal(await started.handle.dfsp.sweep(), 2)
      await started.fake.nextAt('GET', `/transfers/${first}`)
      await started.fake.nextAt('GET', `/transfers/${second}`)
      // The switch does not know the first: its hold goes.
      await started.mojaloop('switch').putTransfersError(first, { errorInformation: { errorCode: '3208', errorDescription: 'Transfer ID not found' } }, 'bank')
      await eventually(async () => assert.equal((await balanceOf(started.handle, ALICE)).reserved, '10.00'))
      // Asked again only after another grace period; released without word once abandoned.
      assert.equal(await started.handle.dfsp.sweep(), 0)
      clock.advance(120_000)
      assert.equal(await started.handle.dfsp.sweep(), 1)
      assert.deepEqual(await balanceOf(started.handle, ALICE), { available: '100.00', reserved: '0.00', posted: '100.00', incoming: '0.00' })
      const status = await api(started.handle, 'GET', `/transfers/${second}`)
      assert.deepEqual([status.body.transfers[0].state, status.body.transfers[0].abortReason], ['ABORTED', 'EXPIRED'])
    })

    it('releases, on the switch\'s word, a transfer recorded but never held nor sent (the process stopped between)', async () => {
      const clock = new ManualClock(Date.now())
      await start({ expiryGraceMs: 15_000, abandonAfterMs: 120_000 }, { clock })
      // Sent and held, then answered RESERVED by no one: the normal case, for contrast.
      const sending = send({ amount: '10', amountType: 'SEND' })
      await answerLookup()
      const quote = await answerQuote(0n, clock.nowMs())
      const prepare = (await started.fake.nextAt('POST', '/transfers')).body
      const repo = new SqlDfspRepository(started.testStore.store, 'bank')
      // While the funds are held and the switch works, the record says RESERVED: the sweeper will ask first.
      assert.equal((await repo.findTransfer(prepare.transferId, 'PAYER'))?.state, 'RESERVED')
      await started.mojaloop('payeefsp').putTransfers(prepare.transferId, { fulfilment: quote.fulfilment, completedTimestamp: new Date().toISOString(), transferState: 'COMMITTED' }, 'bank')
      assert.equal((await sending).body.currentState, 'COMMITTED')

      // The record a stopped process leaves when it stopped after recording, before holding: no hold, no POST.
      const orphan = { ...(await repo.findTransfer(prepare.transferId, 'PAYER'))!, transferId: '0b5f6a43-8a2e-4a3c-9a27-1f8c6d0e2b11', state: 'RESERVED' as const, fulfilment: null, completedAtMs: null, response: null }
      assert.equal((await repo.claimTransfer(orphan)).inserted, true)
      clock.advance(60_000 + 15_000)
      assert.equal(await started.handle.dfsp.sweep(), 1)
      // Not released without asking: the switch is asked, and its 3208 releases it.
      await started.fake.nextAt('GET', `/transfers/${orphan.transferId}`)
      assert.equal((await repo.findTransfer(orphan.transferId, 'PAYER'))?.state, 'RESERVED')
      await started.mojaloop('switch').putTransfersError(orphan.transferId, { errorInformation: { errorCode: '3208', errorDescription: 'Transfer ID not found' } }, 'bank')
      await eventually(async () => {
        const status = await api(started.handle, 'GET', `/transfers/${orphan.transferId}`)
        assert.deepEqual([status.body.transfers[0].state, status.body.transfers[0].abortReason, status.body.transfers[0].error?.errorCode], ['ABORTED', 'REJECTED', '3208'])
      })
      assert.deepEqual(await balanceOf(started.handle, ALICE), { available: '90.00', reserved: '0.00', posted: '90.00', incoming: '0.00' })
    })

    it('registers its customers with the oracle on start, and each new customer when created', async () => {
      const registered: string[] = []
      await start({ oracleRegistration: 'auto' }, {
        beforeRegistration: (urls, fake) => {
          // The switch's ALS: confirm each registration with PUT /participants, as Mojaloop does.
          const oracle = sdkRequests(urls.fspiop, 'switch')
          const confirm = async (): Promise<void> => {
            for (;;) {
              const post = await fake.next((r) => r.method === 'POST' && r.path.startsWith('/participants/'), 10_000).catch(() => undefined)
              if (post === undefined) return
              const [, , type, id] = post.path.split('/') as [string, string, string, string]
              registered.push(`${type}/${id} ${JSON.stringify(post.body)}`)
              await oracle.putParticipants(type, decodeURIComponent(id), undefined, { fspId: post.body.fspId }, 'bank')
            }
          }
          void confirm()
        },
      })
      assert.deepEqual(
        started.handle.registration?.map((r) => `${r.type}/${r.id} ${r.status}`),
        [`MSISDN/${ALICE} registered`, 'ACCOUNT_ID/ALICE-1 registered', `MSISDN/${BOB} registered`],
      )
      assert.deepEqual(registered.sort(), [
        `ACCOUNT_ID/ALICE-1 {"fspId":"bank","currency":"USD"}`,
        `MSISDN/${ALICE} {"fspId":"bank","currency":"USD"}`,
        `MSISDN/${BOB} {"fspId":"bank","currency":"USD"}`,
      ])

      const created = await api(started.handle, 'POST', '/customers', { name: 'Esther Auma', firstName: 'Esther', lastName: 'Auma', msisdn: '256700000009', balance: '12.50' })
      assert.equal(created.status, 201)
      assert.deepEqual(created.body.registration, [{ type: 'MSISDN', id: '256700000009', status: 'registered' }])
      assert.deepEqual(await balanceOf(started.handle, '256700000009'), { available: '12.50', reserved: '0.00', posted: '12.50', incoming: '0.00' })
    })

    it('keeps customers: create, refuse a taken MSISDN, list, deposit once per deposit id', async () => {
      await start()
      const created = await api(started.handle, 'POST', '/customers', { name: 'Frank Mugisha', msisdn: '256700000010' })
      assert.equal(created.status, 201)
      assert.equal(created.body.registration, undefined)
      const taken = await api(started.handle, 'POST', '/customers', { name: 'Someone Else', msisdn: '256700000010' })
      assert.deepEqual([taken.status, taken.body.error.code], [409, 'INVALID_STATE'])
      const invalid = await api(started.handle, 'POST', '/customers', { name: 'No Id' })
      assert.equal(invalid.status, 400)
      const list = await api(started.handle, 'GET', '/customers')
      assert.deepEqual(
        list.body.customers.map((c: any) => c.msisdn ?? c.accountId),
        [ALICE, BOB, '256700000010'],
      )
      const depositId = '8f6c6a4e-2d5b-4c1e-9a7f-3b2d1c0e9f8a'
      const first = await api(started.handle, 'POST', '/customers/256700000010/deposits', { amount: '7.5', depositId })
      const again = await api(started.handle, 'POST', '/customers/256700000010/deposits', { amount: '7.5', depositId })
      assert.deepEqual([first.status, again.status, again.body.available], [201, 200, '7.50'])
      const numeric = await api(started.handle, 'POST', '/customers/256700000010/deposits', { amount: 7.5 })
      assert.equal(numeric.status, 400)
      const missing = await api(started.handle, 'GET', '/customers/256711111111/balance')
      assert.deepEqual([missing.status, missing.body.error.code], [404, 'PARTY_NOT_FOUND'])
    })

    it('takes inbound FSPIOP requests only with the configured bearer token', async () => {
      await start({ inboundToken: 'switch-to-bank-token' })
      const headers = {
        accept: 'application/vnd.interoperability.parties+json;version=1',
        'content-type': 'application/vnd.interoperability.parties+json;version=1.1',
        date: new Date().toUTCString(),
        'fspiop-source': 'payerfsp',
      }
      const without = await fetch(`${started.handle.urls.fspiop}/parties/MSISDN/${ALICE}`, { headers })
      assert.equal(without.status, 403)
      assert.equal(((await without.json()) as { errorInformation: { errorCode: string } }).errorInformation.errorCode, '4300')
      const wrong = await fetch(`${started.handle.urls.fspiop}/parties/MSISDN/${ALICE}`, { headers: { ...headers, authorization: 'Bearer nope' } })
      assert.equal(wrong.status, 403)
      const right = await fetch(`${started.handle.urls.fspiop}/parties/MSISDN/${ALICE}`, { headers: { ...headers, authorization: 'Bearer switch-to-bank-token' } })
      assert.equal(right.status, 202)
      await started.fake.nextAt('PUT', `/parties/MSISDN/${ALICE}`)
    })
  })
}
