// SPDX-License-Identifier: Apache-2.0
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { chooseOracle, lookupAnswer, oracleFailure, oracleParticipantUrl, writeAnswer, type OracleRecord } from './oracle.ts'

const oracle = (oracleId: number, oracleIdType: OracleRecord['oracleIdType'], currency: string | null, isDefault: boolean): OracleRecord => ({
  oracleId,
  oracleIdType,
  endpointType: 'URL',
  endpoint: `http://oracle/${oracleId}`,
  currency,
  isDefault,
  createdAtMs: 0,
})

describe('chooseOracle', () => {
  const registry = [oracle(1, 'MSISDN', 'TZS', false), oracle(2, 'MSISDN', 'USD', false), oracle(3, 'MSISDN', 'USD', true), oracle(4, 'MSISDN', null, false), oracle(5, 'MSISDN', 'KES', true), oracle(6, 'BUSINESS', 'USD', false)]

  it("takes the currency's own oracle, its default first", () => {
    assert.equal(chooseOracle(registry, 'MSISDN', 'USD')?.oracleId, 3)
    assert.equal(chooseOracle(registry, 'MSISDN', 'TZS')?.oracleId, 1)
  })
  it("falls back to the type's default, then to one without a currency, then to the lowest id", () => {
    // Defaults 3 (USD) and 5 (KES): neither is the currency's own, the lowest id answers.
    assert.equal(chooseOracle(registry, 'MSISDN', 'UGX')?.oracleId, 3)
    assert.equal(chooseOracle(registry, 'MSISDN', undefined)?.oracleId, 3)
    // A default without a currency is preferred to one with.
    assert.equal(chooseOracle([...registry, oracle(7, 'MSISDN', null, true)], 'MSISDN', undefined)?.oracleId, 7)
    assert.equal(chooseOracle(registry.filter((o) => !o.isDefault), 'MSISDN', undefined)?.oracleId, 4)
    assert.equal(chooseOracle(registry.filter((o) => !o.isDefault && o.currency !== null), 'MSISDN', 'UGX')?.oracleId, 1)
    assert.equal(chooseOracle(registry, 'BUSINESS', 'TZS')?.oracleId, 6)
  })
  it('leaves a type without oracles to the built-in table', () => {
    assert.equal(chooseOracle(registry, 'ACCOUNT_ID', 'USD'), undefined)
    assert.equal(chooseOracle([], 'MSISDN', undefined), undefined)
  })
})

describe("an oracle's answer in FSPIOP codes, as ALS gives them", () => {
  it('is 1001 without an answer, on a 5xx or another status; 3204 on 400; 3201 on 404', () => {
    assert.equal(oracleFailure({ error: 'timeout', detail: '500 ms' }).code, 'DESTINATION_COMMUNICATION')
    assert.equal(oracleFailure({ error: 'network', detail: 'ECONNREFUSED' }).description, 'the oracle could not be reached (ECONNREFUSED)')
    assert.equal(oracleFailure({ error: 'oversized', detail: 'more than 10 bytes' }).code, 'DESTINATION_COMMUNICATION')
    assert.equal(oracleFailure({ status: 503, body: '' }).code, 'DESTINATION_COMMUNICATION')
    assert.equal(oracleFailure({ status: 401, body: '' }).code, 'DESTINATION_COMMUNICATION')
    assert.equal(oracleFailure({ status: 400, body: '' }).code, 'PARTY_NOT_FOUND')
    assert.equal(oracleFailure({ status: 404, body: '' }).code, 'DESTINATION_FSP_ERROR')
  })
  it('reads the parties of a look-up, and treats an answer without any as 3204', () => {
    assert.deepEqual(lookupAnswer({ status: 200, body: '{"partyList":[{"fspId":"bank","currency":"USD"},{"currency":"USD"},{"fspId":7}]}' }), { ok: true, parties: [{ fspId: 'bank', currency: 'USD' }] })
    for (const body of ['{"partyList":[]}', '{}', 'not json', 'null', '{"partyList":"bank"}']) {
      const answer = lookupAnswer({ status: 200, body })
      assert.equal(answer.ok, false, body)
      if (!answer.ok) assert.equal(answer.failure.code, 'PARTY_NOT_FOUND')
    }
    assert.equal(lookupAnswer({ status: 500, body: '{"partyList":[{"fspId":"bank"}]}' }).ok, false)
  })
  it('takes any 2xx as a done registration or removal', () => {
    assert.deepEqual(writeAnswer({ status: 201, body: '' }), { ok: true })
    assert.deepEqual(writeAnswer({ status: 204, body: '' }), { ok: true })
    assert.equal(writeAnswer({ status: 302, body: '' }).ok, false)
  })
})

describe('oracleParticipantUrl', () => {
  it("appends the oracle API's path to the base URL, encoded, with ALS's query", () => {
    assert.equal(oracleParticipantUrl('http://sim/oracle/', { partyIdType: 'MSISDN', partyIdentifier: '2567' }), 'http://sim/oracle/participants/MSISDN/2567')
    assert.equal(oracleParticipantUrl('http://sim/oracle', { partyIdType: 'ALIAS', partyIdentifier: 'a b/c' }, { currency: 'USD', partySubIdOrType: 'x&y' }), 'http://sim/oracle/participants/ALIAS/a%20b%2Fc?currency=USD&partySubIdOrType=x%26y')
  })
})
