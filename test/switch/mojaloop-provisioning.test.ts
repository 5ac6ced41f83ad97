// SPDX-License-Identifier: Apache-2.0
/**
 * Mojaloop's own provisioning, as its Testing Toolkit's hub setup and DFSP onboarding collections send it to
 * central-ledger's admin API (hub accounts, hub e-mail endpoints, settlement models, participant, limits,
 * funds in), run against Kivuko's admin API with the answers those collections accept.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { startSwitch, type SwitchProcess } from '../../src/http/switch/start-switch.ts'
import { STORE_KINDS, type TestStore } from '../support/stores.ts'

for (const kind of STORE_KINDS) {
  describe(`Mojaloop provisioning scripts against the admin API on ${kind.name}`, { skip: kind.skip }, () => {
    let opened: TestStore
    let hub: SwitchProcess
    /** As the collections send it: JSON, with FSPIOP-Source hub_operator, which the admin API ignores. */
    const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> => {
      const response = await fetch(`${hub.adminUrl}${path}`, {
        method,
        headers: { 'content-type': 'application/json', 'fspiop-source': 'hub_operator' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      })
      const text = await response.text()
      return { status: response.status, body: text === '' ? {} : JSON.parse(text) }
    }
    /** The collections' assertion: 201 when created, or 400 with errorInformation when it exists already. */
    const createdOrExists = (answer: { status: number; body: any }): void => {
      if (answer.body.errorInformation !== undefined) assert.equal(answer.status, 400, JSON.stringify(answer.body))
      else assert.equal(answer.status, 201)
    }

    before(async () => {
      opened = await kind.open()
      hub = await startSwitch({ store: opened.store, fspiopPort: 0, adminPort: 0 })
    })
    after(async () => {
      await hub?.close()
      await opened?.close()
    })

    it('hub setup: hub accounts per currency, created once, then "already registered"', async () => {
      for (const type of ['HUB_MULTILATERAL_SETTLEMENT', 'HUB_RECONCILIATION']) {
        for (const currency of ['USD', 'TZS']) {
          const first = await call('POST', '/participants/Hub/accounts', { type, currency })
          assert.equal(first.status, 201)
          const again = await call('POST', '/participants/Hub/accounts', { type, currency })
          createdOrExists(again)
          assert.equal(again.status, 400)
          assert.match(again.body.errorInformation.errorDescription, /already been registered/)
        }
      }
      assert.equal((await call('POST', '/participants/Hub/accounts', { type: 'POSITION', currency: 'USD' })).status, 400)
    })

    it('hub setup: the hub e-mail endpoints are taken; FSPIOP callbacks for the hub are not', async () => {
      for (const type of ['SETTLEMENT_TRANSFER_POSITION_CHANGE_EMAIL', 'NET_DEBIT_CAP_ADJUSTMENT_EMAIL', 'NET_DEBIT_CAP_THRESHOLD_BREACH_EMAIL']) {
        assert.equal((await call('POST', '/participants/Hub/endpoints', { type, value: 'operator@example.org' })).status, 201)
      }
      const endpoints = await call('GET', '/participants/Hub/endpoints')
      assert.equal(endpoints.body.length, 3)
      assert.equal((await call('POST', '/participants/Hub/endpoints', { type: 'FSPIOP_CALLBACK_URL_QUOTES', value: 'http://x' })).status, 400)
    })

    it('hub setup: deferred net settlement models are registered once; gross and interchange-fee models are refused, saying why', async () => {
      const model = (name: string, extra: Record<string, unknown> = {}) => ({
        name,
        settlementGranularity: 'NET',
        settlementInterchange: 'MULTILATERAL',
        settlementDelay: 'DEFERRED',
        requireLiquidityCheck: true,
        ledgerAccountType: 'POSITION',
        autoPositionReset: true,
        settlementAccountType: 'SETTLEMENT',
        ...extra,
      })
      assert.equal((await call('POST', '/settlementModels', model('DEFERREDNETUSD', { currency: 'USD' }))).status, 201)
      assert.equal((await call('POST', '/settlementModels', model('DEFAULTDEFERREDNET'))).status, 201)
      const again = await call('POST', '/settlementModels', model('DEFAULTDEFERREDNET'))
      assert.equal(again.status, 400)
      assert.match(again.body.errorInformation.errorDescription, /Settlement Model already exists/)
      const gross = await call('POST', '/settlementModels', model('CGS', { settlementGranularity: 'GROSS', settlementInterchange: 'BILATERAL', settlementDelay: 'IMMEDIATE', autoPositionReset: false }))
      assert.equal(gross.status, 400)
      assert.match(gross.body.errorInformation.errorDescription, /deferred multilateral net.*not settlementGranularity GROSS/)
      const fees = await call('POST', '/settlementModels', model('INTERCHANGEFEE', { ledgerAccountType: 'INTERCHANGE_FEE', settlementAccountType: 'INTERCHANGE_FEE_SETTLEMENT' }))
      assert.equal(fees.status, 400)
      const listed = await call('GET', '/settlementModels')
      assert.deepEqual(
        listed.body.map((m: { name: string; currency: string | null; isActive: boolean }) => [m.name, m.currency, m.isActive]),
        [
          ['DEFAULTDEFERREDNET', null, true],
          ['DEFERREDNETUSD', 'USD', true],
        ],
      )
      assert.equal((await call('PUT', '/settlementModels/DEFERREDNETUSD', { isActive: false })).body.isActive, false)
      assert.equal((await call('GET', '/settlementModels/nothing')).status, 404)
    })

    it("hub setup: oracle onboarding registers MSISDN, BUSINESS and ALIAS oracles as ALS does; again is 2001 \"already exists\"", async () => {
      // As the collection sends it to ALS's admin API: FSPIOP content type, Accept and Date.
      const onboard = async (oracleIdType: string): Promise<{ status: number; body: any }> => {
        const response = await fetch(`${hub.adminUrl}/oracles`, {
          method: 'POST',
          headers: {
            'content-type': 'application/vnd.interoperability.participants+json;version=1.0',
            accept: 'application/vnd.interoperability.participants+json;version=1',
            date: new Date().toUTCString(),
          },
          body: JSON.stringify({ oracleIdType, endpoint: { value: 'http://simulator.example/oracle', endpointType: 'URL' }, currency: 'USD', isDefault: true }),
        })
        const text = await response.text()
        return { status: response.status, body: text === '' ? {} : JSON.parse(text) }
      }
      for (const type of ['MSISDN', 'BUSINESS', 'ALIAS']) {
        assert.equal((await onboard(type)).status, 201)
        // The collection's assertion: "status to be 201 or errorCode 2001 already exists".
        const again = await onboard(type)
        assert.ok(again.body.errorInformation !== undefined)
        assert.equal(again.body.errorInformation.errorCode, '2001')
      }
      const listed = await call('GET', '/oracles?currency=USD')
      assert.deepEqual(listed.body.map((o: { oracleIdType: string }) => o.oracleIdType), ['MSISDN', 'BUSINESS', 'ALIAS'])
      for (const o of listed.body) assert.equal((await call('DELETE', `/oracles/${o.oracleId}`)).status, 204)
    })

    it('DFSP onboarding: participant, limits, then funds in that make the SETTLEMENT account more negative', async () => {
      createdOrExists(await call('POST', '/participants', { name: 'payerfsp', currency: 'USD' }))
      assert.equal((await call('POST', '/participants/payerfsp/initialPositionAndLimits', { currency: 'USD', limit: { type: 'NET_DEBIT_CAP', value: 1000000 }, initialPosition: 0 })).status, 201)
      const before = (await call('GET', '/participants/payerfsp/accounts')).body
      const settlement = before.find((a: { ledgerAccountType: string; currency: string }) => a.ledgerAccountType === 'SETTLEMENT' && a.currency === 'USD')
      assert.equal(settlement.value, '0')
      const deposit = await call('POST', `/participants/payerfsp/accounts/${settlement.id}`, {
        transferId: randomUUID(),
        externalReference: 'string',
        action: 'recordFundsIn',
        reason: 'string',
        amount: { amount: '5000', currency: 'USD' },
        extensionList: { extension: [{ key: 'string', value: 'string' }] },
      })
      assert.equal(deposit.status, 202)
      const afterDeposit = (await call('GET', '/participants/payerfsp/accounts')).body
      // The collection's check: balance after = balance before − amount.
      assert.equal(afterDeposit.find((a: { id: unknown }) => a.id === settlement.id).value, '-5000')
      assert.equal((await call('GET', '/participants/payerfsp/positions')).body[0].value, '0')
      assert.equal((await call('POST', '/participants/payerfsp/accounts', { type: 'HUB_RECONCILIATION', currency: 'USD' })).status, 400)
    })
  })
}
