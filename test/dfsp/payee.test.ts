// SPDX-License-Identifier: Apache-2.0
/**
 * The DFSP as payee, over real HTTP, on both stores: requests come from Mojaloop's own SDK client
 * (MojaloopRequests, as a payer DFSP built on the SDK sends them through a switch), answers land on a
 * recording fake switch. Packets, conditions and fulfilments are compared with the SDK's Ilp.
 */
import assert from 'node:assert/strict'
import { createHash, randomUUID } from 'node:crypto'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { buildIlpPacket } from '../../src/fspiop/index.ts'
import { STORE_KINDS } from '../support/stores.ts'
import { ALICE, BANK_SECRET, aPrepareFor, aQuoteRequest, api, assertAllFspiopValid, balanceOf, eventually, sdkIlp, startBank, type Started } from './support.ts'


const inAMinute = (): string => new Date(Date.now() + 60_000).toISOString()

for (const kind of STORE_KINDS) {
  describe(`DFSP as payee, over HTTP, on ${kind.name}`, { skip: kind.skip }, () => {
    let started: Started

    afterEach(async () => {
      await started.handle.dfsp.idle()
      assertAllFspiopValid(started.fake.received)
      await started.close()
    })

    describe('in COMMITTED mode', () => {
      beforeEach(async () => {
        started = await startBank(kind)
      })

      it('answers GET /parties with the party, by MSISDN or account id, and 3204 for a stranger', async () => {
        const payer = started.mojaloop('payerfsp')
        await payer.getParties('MSISDN', ALICE, undefined, 'bank')
        const found = await started.fake.nextAt('PUT', `/parties/MSISDN/${ALICE}`)
        assert.deepEqual(found.body, {
          party: {
            partyIdInfo: { partyIdType: 'MSISDN', partyIdentifier: ALICE, fspId: 'bank' },
            name: 'Alice Nakato',
            personalInfo: { complexName: { firstName: 'Alice', lastName: 'Nakato' }, dateOfBirth: '1990-04-12' },
          },
        })
        assert.equal(found.headers['fspiop-destination'], 'payerfsp')
        assert.equal(found.headers['content-type'], 'application/vnd.interoperability.parties+json;version=1.1')

        await payer.getParties('ACCOUNT_ID', 'ALICE-1', undefined, 'bank')
        const byAccount = await started.fake.nextAt('PUT', '/parties/ACCOUNT_ID/ALICE-1')
        assert.equal(byAccount.body.party.partyIdInfo.partyIdType, 'ACCOUNT_ID')
        assert.equal(byAccount.body.party.name, 'Alice Nakato')

        await payer.getParties('MSISDN', '256711111111', undefined, 'bank')
        const missing = await started.fake.nextAt('PUT', '/parties/MSISDN/256711111111/error')
        assert.equal(missing.body.errorInformation.errorCode, '3204')

        await payer.getParties('MSISDN', ALICE, 'savings', 'bank')
        assert.equal((await started.fake.nextAt('PUT', `/parties/MSISDN/${ALICE}/savings/error`)).body.errorInformation.errorCode, '3204')
      })

      it('quotes RECEIVE and SEND with its fee, with the packet and condition the SDK builds for the same quote', async () => {
        const payer = started.mojaloop('payerfsp')
        const receive = aQuoteRequest()
        await payer.postQuotes(receive, 'bank')
        const answered = await started.fake.nextAt('PUT', `/quotes/${receive.quoteId}`)
        // 0.50 + 1 % of 10.00 = 0.60 on top of what the payee receives.
        assert.deepEqual(answered.body.transferAmount, { amount: '10.6', currency: 'USD' })
        assert.deepEqual(answered.body.payeeReceiveAmount, { amount: '10', currency: 'USD' })
        assert.deepEqual(answered.body.payeeFspFee, { amount: '0.6', currency: 'USD' })
        assert.equal(answered.headers['fspiop-destination'], 'payerfsp')
        const sdk = sdkIlp(BANK_SECRET).getQuoteResponseIlp(receive, { ...answered.body, note: receive.note })
        assert.equal(answered.body.ilpPacket, sdk.ilpPacket)
        assert.equal(answered.body.condition, sdk.condition)
        assert.deepEqual(sdkIlp(BANK_SECRET).getTransactionObject(answered.body.ilpPacket).payer, receive.payer)

        const send = aQuoteRequest({ amountType: 'SEND', amount: { amount: '20', currency: 'USD' }, note: undefined })
        delete (send as { note?: string }).note
        await payer.postQuotes(send, 'bank')
        const sent = await started.fake.nextAt('PUT', `/quotes/${send.quoteId}`)
        // The payer transfers 20.00; the fee (0.50 + 0.20) comes off what the payee receives.
        assert.deepEqual(sent.body.transferAmount, { amount: '20', currency: 'USD' })
        assert.deepEqual(sent.body.payeeReceiveAmount, { amount: '19.3', currency: 'USD' })
        assert.deepEqual(sent.body.payeeFspFee, { amount: '0.7', currency: 'USD' })
        const sdkSend = sdkIlp(BANK_SECRET).getQuoteResponseIlp(send, sent.body)
        assert.deepEqual([sent.body.ilpPacket, sent.body.condition], [sdkSend.ilpPacket, sdkSend.condition])
        assert.ok(Date.parse(sent.body.expiration) > Date.now())
      })

      it('answers a resent quote again, identically, and a modified one with 3106', async () => {
        const payer = started.mojaloop('payerfsp')
        const quote = aQuoteRequest()
        await payer.postQuotes(quote, 'bank')
        const first = await started.fake.nextAt('PUT', `/quotes/${quote.quoteId}`)
        // The same request with its keys in another order is the same request.
        const reordered = Object.fromEntries(Object.entries(quote).reverse())
        await payer.postQuotes(reordered, 'bank')
        const again = await started.fake.nextAt('PUT', `/quotes/${quote.quoteId}`)
        assert.deepEqual(again.body, first.body)
        await payer.postQuotes({ ...quote, amount: { amount: '11', currency: 'USD' } }, 'bank')
        const modified = await started.fake.nextAt('PUT', `/quotes/${quote.quoteId}/error`)
        assert.equal(modified.body.errorInformation.errorCode, '3106')
      })

      it('rejects quotes for strangers, other currencies, and amounts its fee would eat', async () => {
        const payer = started.mojaloop('payerfsp')
        const stranger = aQuoteRequest({ payee: { partyIdInfo: { partyIdType: 'MSISDN', partyIdentifier: '256711111111', fspId: 'bank' } } })
        const euro = aQuoteRequest({ amount: { amount: '10', currency: 'EUR' } })
        const tiny = aQuoteRequest({ amountType: 'SEND', amount: { amount: '0.5', currency: 'USD' } })
        for (const quote of [stranger, euro, tiny]) await payer.postQuotes(quote, 'bank')
        assert.equal((await started.fake.nextAt('PUT', `/quotes/${stranger.quoteId}/error`)).body.errorInformation.errorCode, '3204')
        assert.equal((await started.fake.nextAt('PUT', `/quotes/${euro.quoteId}/error`)).body.errorInformation.errorCode, '5106')
        assert.equal((await started.fake.nextAt('PUT', `/quotes/${tiny.quoteId}/error`)).body.errorInformation.errorCode, '5103')
      })

      it('fulfils a transfer against its quote, credits the customer and keeps its fee', async () => {
        const payer = started.mojaloop('payerfsp')
        const quote = aQuoteRequest()
        await payer.postQuotes(quote, 'bank')
        const quoted = (await started.fake.nextAt('PUT', `/quotes/${quote.quoteId}`)).body
        const prepare = aPrepareFor(quote, quoted)
        await payer.postTransfers(prepare, 'bank')
        const fulfilled = await started.fake.nextAt('PUT', `/transfers/${prepare.transferId}`)
        assert.equal(fulfilled.body.transferState, 'COMMITTED')
        assert.equal(createHash('sha256').update(Buffer.from(fulfilled.body.fulfilment, 'base64url')).digest('base64url'), prepare.condition)
        assert.equal(fulfilled.body.fulfilment, sdkIlp(BANK_SECRET).calculateFulfil(prepare.ilpPacket))
        assert.ok(sdkIlp(BANK_SECRET).validateFulfil(fulfilled.body.fulfilment, prepare.condition))
        assert.equal(fulfilled.headers['fspiop-destination'], 'payerfsp')
        assert.deepEqual(await balanceOf(started.handle, ALICE), { available: '110.00', reserved: '0.00', posted: '110.00', incoming: '0.00' })

        // The same prepare again: the same answer, and no second credit. A modified one: 3106.
        await payer.postTransfers(prepare, 'bank')
        assert.deepEqual((await started.fake.nextAt('PUT', `/transfers/${prepare.transferId}`)).body, fulfilled.body)
        await payer.postTransfers({ ...prepare, expiration: new Date(Date.now() + 120_000).toISOString() }, 'bank')
        assert.equal((await started.fake.nextAt('PUT', `/transfers/${prepare.transferId}/error`)).body.errorInformation.errorCode, '3106')
        assert.equal((await balanceOf(started.handle, ALICE)).posted, '110.00')

        const statement = await api(started.handle, 'GET', `/customers/${ALICE}/statement`)
        assert.equal(statement.status, 200)
        assert.deepEqual(
          statement.body.entries.map((e: any) => [e.kind, e.direction, e.amount, e.transferId ?? null, e.counterparty?.idValue ?? null, e.note ?? null]),
          [
            ['PAYMENT_RECEIVED', 'CREDIT', '10.00', prepare.transferId, '256799999999', 'lunch'],
            ['DEPOSIT', 'CREDIT', '100.00', null, null, null],
          ],
        )
      })

      it('refuses transfers that do not match their quote, were never quoted, or have expired', async () => {
        const payer = started.mojaloop('payerfsp')
        const quote = aQuoteRequest()
        await payer.postQuotes(quote, 'bank')
        const quoted = (await started.fake.nextAt('PUT', `/quotes/${quote.quoteId}`)).body
        const base = { payerFsp: 'payerfsp', payeeFsp: 'bank', ilpPacket: quoted.ilpPacket, condition: quoted.condition, expiration: inAMinute() }

        const wrongAmount = { ...base, transferId: randomUUID(), amount: { amount: '10.5', currency: 'USD' } }
        const expired = { ...base, transferId: randomUUID(), amount: quoted.transferAmount, expiration: new Date(Date.now() - 1_000).toISOString() }
        // A packet built with our secret for a quote this DFSP never gave.
        const unquotedIlp = buildIlpPacket(
          { ...quote, quoteId: randomUUID(), amount: quoted.transferAmount, expiration: inAMinute(), payer: quote.payer, payee: quote.payee },
          BANK_SECRET,
        )
        assert.ok(unquotedIlp.ok)
        const unquoted = { ...base, transferId: randomUUID(), amount: quoted.transferAmount, ilpPacket: unquotedIlp.value.ilpPacket, condition: unquotedIlp.value.condition }
        // Another DFSP's condition with our packet.
        const foreignCondition = { ...base, transferId: randomUUID(), amount: quoted.transferAmount, condition: 'fH9pAYDQbmoZLPbvv3CSW2RfjU4jvM4ApG_fqGnR7Xs' }
        // The quote's condition with another packet of ours: not the packet given for that condition.
        const otherPacket = { ...base, transferId: randomUUID(), amount: quoted.transferAmount, ilpPacket: unquotedIlp.value.ilpPacket }

        for (const prepare of [wrongAmount, expired, unquoted, foreignCondition, otherPacket]) await payer.postTransfers(prepare, 'bank')
        const code = async (transferId: string): Promise<string> => (await started.fake.nextAt('PUT', `/transfers/${transferId}/error`)).body.errorInformation.errorCode
        assert.equal(await code(wrongAmount.transferId), '3100')
        assert.equal(await code(expired.transferId), '3303')
        assert.equal(await code(unquoted.transferId), '3205')
        assert.equal(await code(foreignCondition.transferId), '3100')
        assert.equal(await code(otherPacket.transferId), '3100')
        assert.equal((await balanceOf(started.handle, ALICE)).posted, '100.00')
        // A resend of a refused transfer is refused again, the same way.
        await payer.postTransfers(wrongAmount, 'bank')
        assert.equal(await code(wrongAmount.transferId), '3100')
      })

      it('takes a credit back when the switch aborts a transfer it already committed', async () => {
        const payer = started.mojaloop('payerfsp')
        const quote = aQuoteRequest()
        await payer.postQuotes(quote, 'bank')
        const quoted = (await started.fake.nextAt('PUT', `/quotes/${quote.quoteId}`)).body
        const transferId = quote.transactionId
        await payer.postTransfers({ transferId, payerFsp: 'payerfsp', payeeFsp: 'bank', amount: quoted.transferAmount, ilpPacket: quoted.ilpPacket, condition: quoted.condition, expiration: inAMinute() }, 'bank')
        await started.fake.nextAt('PUT', `/transfers/${transferId}`)
        assert.equal((await balanceOf(started.handle, ALICE)).posted, '110.00')
        await started.mojaloop('switch').putTransfersError(transferId, { errorInformation: { errorCode: '3303', errorDescription: 'Transfer expired' } }, 'bank')
        await eventually(async () => assert.equal((await balanceOf(started.handle, ALICE)).posted, '100.00'))
        const status = await api(started.handle, 'GET', `/transfers/${transferId}`)
        assert.deepEqual(
          status.body.transfers.map((t: any) => [t.role, t.state, t.abortReason, t.error?.errorCode]),
          [['PAYEE', 'ABORTED', 'EXPIRED', '3303']],
        )
      })

      it('refuses bad headers, bodies and destinations synchronously, as FSPIOP says', async () => {
        const url = started.handle.urls.fspiop
        const headers = {
          'content-type': 'application/vnd.interoperability.quotes+json;version=1.1',
          accept: 'application/vnd.interoperability.quotes+json;version=1',
          date: new Date().toUTCString(),
          'fspiop-source': 'payerfsp',
        }
        const post = async (extra: Record<string, string>, body: unknown): Promise<{ status: number; code: string }> => {
          const response = await fetch(`${url}/quotes`, { method: 'POST', headers: { ...headers, ...extra }, body: JSON.stringify(body) })
          const answer = (await response.json()) as { errorInformation: { errorCode: string } }
          return { status: response.status, code: answer.errorInformation.errorCode }
        }
        assert.deepEqual(await post({ date: '' }, aQuoteRequest()), { status: 400, code: '3102' })
        assert.deepEqual(await post({ accept: 'application/vnd.interoperability.quotes+json;version=2' }, aQuoteRequest()), { status: 406, code: '3001' })
        assert.deepEqual(await post({}, { ...aQuoteRequest(), amount: { amount: '10.50', currency: 'USD' } }), { status: 400, code: '3101' })
        assert.deepEqual(await post({ 'fspiop-destination': 'wallet' }, aQuoteRequest()), { status: 400, code: '3201' })
        const unknown = await fetch(`${url}/bulkQuotes`, { method: 'POST', headers, body: '{}' })
        assert.equal(unknown.status, 404)
        assert.equal(started.fake.received.length, 0)
      })
    })

    describe('in RESERVED mode', () => {
      beforeEach(async () => {
        started = await startBank(kind, { payeeTransferState: 'RESERVED' })
      })

      async function reserve(): Promise<string> {
        const payer = started.mojaloop('payerfsp')
        const quote = aQuoteRequest()
        await payer.postQuotes(quote, 'bank')
        const quoted = (await started.fake.nextAt('PUT', `/quotes/${quote.quoteId}`)).body
        const transferId = quote.transactionId
        await payer.postTransfers({ transferId, payerFsp: 'payerfsp', payeeFsp: 'bank', amount: quoted.transferAmount, ilpPacket: quoted.ilpPacket, condition: quoted.condition, expiration: inAMinute() }, 'bank')
        const answer = await started.fake.nextAt('PUT', `/transfers/${transferId}`)
        assert.equal(answer.body.transferState, 'RESERVED')
        assert.ok(sdkIlp(BANK_SECRET).validateFulfil(answer.body.fulfilment, quoted.condition))
        return transferId
      }

      it('answers RESERVED and credits only on the PATCH COMMITTED', async () => {
        const transferId = await reserve()
        assert.deepEqual(await balanceOf(started.handle, ALICE), { available: '100.00', reserved: '0.00', posted: '100.00', incoming: '10.00' })
        await started.mojaloop('switch').patchTransfers(transferId, { completedTimestamp: new Date().toISOString(), transferState: 'COMMITTED' }, 'bank')
        await eventually(async () => assert.deepEqual(await balanceOf(started.handle, ALICE), { available: '110.00', reserved: '0.00', posted: '110.00', incoming: '0.00' }))
        // A repeated PATCH changes nothing.
        await started.mojaloop('switch').patchTransfers(transferId, { completedTimestamp: new Date().toISOString(), transferState: 'COMMITTED' }, 'bank')
        await started.handle.dfsp.idle()
        assert.equal((await balanceOf(started.handle, ALICE)).posted, '110.00')
        const statement = await api(started.handle, 'GET', `/customers/${ALICE}/statement`)
        assert.deepEqual(
          statement.body.entries.map((e: any) => [e.kind, e.amount, e.holdState ?? null]),
          [
            ['PAYMENT_RECEIVED', '10.00', null],
            ['PAYMENT_INCOMING', '10.00', 'posted'],
            ['DEPOSIT', '100.00', null],
          ],
        )
      })

      it('credits nothing on the PATCH ABORTED', async () => {
        const transferId = await reserve()
        await started.mojaloop('switch').patchTransfers(transferId, { completedTimestamp: new Date().toISOString(), transferState: 'ABORTED' }, 'bank')
        // The hold is voided first and the transfer's record written after it (two transactions): wait for both.
        await eventually(async () => {
          assert.deepEqual(await balanceOf(started.handle, ALICE), { available: '100.00', reserved: '0.00', posted: '100.00', incoming: '0.00' })
          const status = await api(started.handle, 'GET', `/transfers/${transferId}`)
          assert.equal(status.body.transfers[0].state, 'ABORTED')
        })
      })
    })
  })
}
