// SPDX-License-Identifier: Apache-2.0
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import sdk from '@mojaloop/sdk-standard-components'
import fc from 'fast-check'
import { buildIlpPacket, decodeIlpPacket, deriveFulfilment, transactionFromQuote, type QuotesPostRequest } from '../fspiop/index.ts'
import { FulfilmentKey } from './fulfilment.ts'

const quiet: any = new Proxy({}, { get: (_t, name) => (typeof name === 'string' && name.startsWith('is') ? false : name === 'push' || name === 'child' ? () => quiet : () => undefined) })
const { Ilp } = sdk as unknown as { Ilp: { ilpFactory(version: string, options: object): { calculateFulfil(ilpPacket: string): string }; ILP_VERSIONS: { v4: string } } }

const party = fc.record({
  partyIdInfo: fc.record({ partyIdType: fc.constantFrom('MSISDN', 'ACCOUNT_ID', 'BUSINESS'), partyIdentifier: fc.stringMatching(/^[0-9A-Za-z]{1,20}$/), fspId: fc.stringMatching(/^[a-z]{1,12}$/) }),
  name: fc.option(fc.string({ minLength: 1, maxLength: 40 }).filter((name) => name.trim() === name && name.length > 0), { nil: undefined }),
})

describe('FulfilmentKey', () => {
  it('derives from the decoded transaction what deriveFulfilment and the SDK derive from the packet', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 16, maxLength: 64 }),
        party,
        party,
        fc.bigInt({ min: 1n, max: 10n ** 12n }),
        fc.option(fc.string({ minLength: 1, maxLength: 100 }), { nil: undefined }),
        (secret, payee, payer, minor, note) => {
          const clean = (p: typeof payee) => ({ partyIdInfo: p.partyIdInfo, ...(p.name === undefined ? {} : { name: p.name }) })
          const quote = {
            quoteId: 'b51ec534-ee48-4575-b6a9-ead2955b8069',
            transactionId: 'a8323bc6-c228-4df2-ae82-e5a997baf898',
            payee: clean(payee),
            payer: clean(payer),
            transactionType: { scenario: 'TRANSFER', initiator: 'PAYER', initiatorType: 'CONSUMER' },
          } as unknown as QuotesPostRequest
          const amount = `${minor / 100n}${minor % 100n === 0n ? '' : `.${String(minor % 100n).padStart(2, '0').replace(/0$/, '')}`}`
          const built = buildIlpPacket(transactionFromQuote(quote, { transferAmount: { amount, currency: 'USD' }, expiration: '2030-01-01T00:00:00.000Z', ...(note === undefined ? {} : { note }) }), secret)
          assert.ok(built.ok)
          const decoded = decodeIlpPacket(built.value.ilpPacket)
          assert.ok(decoded.ok)
          const fulfilment = new FulfilmentKey(secret).fulfilmentOf(decoded.value.transaction)
          assert.equal(fulfilment, built.value.fulfilment)
          assert.deepEqual(deriveFulfilment(built.value.ilpPacket, secret), { ok: true, value: fulfilment })
          assert.equal(fulfilment, Ilp.ilpFactory(Ilp.ILP_VERSIONS.v4, { secret: Buffer.from(secret), logger: quiet }).calculateFulfil(built.value.ilpPacket))
        },
      ),
      { numRuns: 200 },
    )
  })

  it('takes the secret as bytes too, and refuses an empty one', () => {
    const secret = new Uint8Array([1, 2, 3, 250, 251])
    const built = buildIlpPacket(
      transactionFromQuote(
        { quoteId: 'b51ec534-ee48-4575-b6a9-ead2955b8069', transactionId: 'a8323bc6-c228-4df2-ae82-e5a997baf898', payee: { partyIdInfo: { partyIdType: 'MSISDN', partyIdentifier: '1', fspId: 'b' } }, payer: { partyIdInfo: { partyIdType: 'MSISDN', partyIdentifier: '2', fspId: 'a' } }, transactionType: { scenario: 'TRANSFER', initiator: 'PAYER', initiatorType: 'CONSUMER' } } as unknown as QuotesPostRequest,
        { transferAmount: { amount: '1', currency: 'USD' }, expiration: '2030-01-01T00:00:00.000Z' },
      ),
      secret,
    )
    assert.ok(built.ok)
    const decoded = decodeIlpPacket(built.value.ilpPacket)
    assert.ok(decoded.ok)
    assert.equal(new FulfilmentKey(secret).fulfilmentOf(decoded.value.transaction), built.value.fulfilment)
    assert.throws(() => new FulfilmentKey(''))
  })
})
