// SPDX-License-Identifier: Apache-2.0
/**
 * Body validation against the v1.1 schemas: the route table is the specification's, valid bodies pass,
 * each kind of fault gets Mojaloop's code with the element named, and no input makes it throw.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { ErrorObject } from 'ajv'
import fc from 'fast-check'
import { HubError } from '../core/errors.ts'
import { errorInformationOf } from './error-information.ts'
import { aQuotesPostRequest, aTransfersPostRequest, anIlpTransaction, ilpTransactionArb, TEST_ILP } from './fixtures.ts'
import {
  bodyRouteOf,
  FSPIOP_BODY_ROUTES,
  loadSpecification,
  validateFspiopBody,
  validateFspiopSchema,
  validationErrorOf,
  type FspiopSchemaName,
} from './schemas.ts'
import type { FspiopResult } from './types.ts'

function rejected(result: FspiopResult<unknown>): HubError {
  assert.equal(result.ok, false, 'expected the body to be rejected')
  assert.ok(!result.ok)
  return result.error
}

function expectFault(result: FspiopResult<unknown>, fspiopCode: string, element: string): void {
  const error = rejected(result)
  assert.equal(error.spec.fspiop, fspiopCode, error.message)
  assert.equal(error.details.element, element)
  assert.ok(error.message.startsWith(element), `"${error.message}" names ${element}`)
}

describe('the body route table', () => {
  it('is the v1.1 OpenAPI document’s: every path and method with a body, and its schema', () => {
    const fromSpecification: Record<string, string> = {}
    for (const [path, operations] of Object.entries(loadSpecification().paths ?? {})) {
      for (const [method, operation] of Object.entries(operations)) {
        const ref = (operation as { requestBody?: { content?: Record<string, { schema?: { $ref?: string } }> } }).requestBody?.content?.['application/json']?.schema?.$ref
        if (ref !== undefined) fromSpecification[`${method.toUpperCase()} ${path}`] = ref.replace('#/components/schemas/', '')
      }
    }
    assert.deepEqual({ ...FSPIOP_BODY_ROUTES }, fromSpecification)
  })

  it('finds the route of a concrete path, preferring literal segments', () => {
    assert.equal(bodyRouteOf('PUT', '/parties/MSISDN/256700000001'), 'PUT /parties/{Type}/{ID}')
    assert.equal(bodyRouteOf('PUT', '/parties/MSISDN/256700000001/error'), 'PUT /parties/{Type}/{ID}/error')
    assert.equal(bodyRouteOf('PUT', '/parties/BUSINESS/shop1/till7'), 'PUT /parties/{Type}/{ID}/{SubId}')
    assert.equal(bodyRouteOf('PUT', '/participants/5a2d3c1e-0000-4000-8000-000000000001/error'), 'PUT /participants/{ID}/error')
    assert.equal(bodyRouteOf('PUT', '/participants/MSISDN/256700000001'), 'PUT /participants/{Type}/{ID}')
    assert.equal(bodyRouteOf('POST', '/participants'), 'POST /participants')
    assert.equal(bodyRouteOf('PATCH', '/transfers/c7a3a5f0-3f4e-4b9c-9d1e-2a7c3b1e0f11'), 'PATCH /transfers/{ID}')
    assert.equal(bodyRouteOf('POST', '/quotes?x=1'), 'POST /quotes')
    assert.equal(bodyRouteOf('POST', '/quotes/'), 'POST /quotes')
    assert.equal(bodyRouteOf('GET', '/quotes/abc'), undefined)
    assert.equal(bodyRouteOf('PUT', '/quotes//error'), undefined)
    assert.equal(bodyRouteOf('POST', '/settlements'), undefined)
  })
})

describe('valid bodies', () => {
  it('passes the bodies of a P2P transfer, unchanged', () => {
    const quote = aQuotesPostRequest()
    assert.deepEqual(validateFspiopBody('POST', '/quotes', quote), { ok: true, value: quote })
    const quoteResponse = { transferAmount: { amount: '100.5', currency: 'USD' }, expiration: '2030-01-01T00:00:00.000Z', ilpPacket: TEST_ILP.ilpPacket, condition: TEST_ILP.condition }
    assert.ok(validateFspiopBody('PUT', `/quotes/${quote.quoteId}`, quoteResponse).ok)
    assert.ok(validateFspiopBody('POST', '/transfers', aTransfersPostRequest()).ok)
    assert.ok(validateFspiopBody('PUT', '/transfers/c7a3a5f0-3f4e-4b9c-9d1e-2a7c3b1e0f11', { fulfilment: TEST_ILP.fulfilment, completedTimestamp: '2030-01-01T00:00:00.000Z', transferState: 'RESERVED' }).ok)
    assert.ok(validateFspiopBody('PATCH', '/transfers/c7a3a5f0-3f4e-4b9c-9d1e-2a7c3b1e0f11', { completedTimestamp: '2030-01-01T00:00:00.000Z', transferState: 'COMMITTED' }).ok)
    assert.ok(validateFspiopBody('PUT', '/parties/MSISDN/256700000001', { party: anIlpTransaction().payee }).ok)
    assert.ok(validateFspiopBody('PUT', '/quotes/x/error', { errorInformation: { errorCode: '5100', errorDescription: 'Generic Payee rejection' } }).ok)
  })

  it('accepts every AuthenticationValue form: a numeric OTP matches two anyOf branches and still passes', () => {
    for (const authenticationInfo of [
      { authentication: 'OTP', authenticationValue: '1234' }, // OtpValue and QRCODE both match
      { authentication: 'QRCODE', authenticationValue: 'QR:abc-123' },
      { authentication: 'U2F', authenticationValue: { pinValue: 'xyz', counter: '1' } },
    ]) {
      assert.ok(validateFspiopBody('PUT', '/authorizations/x', { authenticationInfo, responseType: 'ENTERED' }).ok, JSON.stringify(authenticationInfo))
    }
    assert.ok(validateFspiopSchema('PartyIdInfo', { partyIdType: 'PERSONAL_ID', partyIdentifier: '123', partySubIdOrType: '7' }).ok)
  })

  it('lets unknown elements through, as the v1.1 schemas and Mojaloop do', () => {
    assert.ok(validateFspiopBody('POST', '/quotes', { ...aQuotesPostRequest(), somethingNew: true }).ok)
  })

  it('passes every transaction the ILP arbitraries make (they are the SDK-comparison inputs)', () => {
    fc.assert(fc.property(ilpTransactionArb, (transaction) => assert.ok(validateFspiopSchema('Transaction', transaction).ok)), { numRuns: 200 })
  })

  it('accepts Unicode names, as FirstName’s \\p{L} pattern means to', () => {
    const personalInfo = { complexName: { firstName: 'Zoë', middleName: "O'Neil", lastName: 'Nakamya-Ssali' }, dateOfBirth: '1966-06-16' }
    assert.ok(validateFspiopSchema('PartyPersonalInfo', personalInfo).ok)
    expectFault(validateFspiopSchema('PartyPersonalInfo', { complexName: { firstName: '   ' } }), '3101', 'complexName.firstName')
  })
})

describe('faults and their FSPIOP codes', () => {
  const quote = aQuotesPostRequest()

  it('3102 for a missing element, named by its path', () => {
    const partyIdInfo: Record<string, unknown> = { ...quote.payee.partyIdInfo }
    delete partyIdInfo.partyIdType
    expectFault(validateFspiopBody('POST', '/quotes', { ...quote, payee: { partyIdInfo } }), '3102', 'payee.partyIdInfo.partyIdType')
    const withoutId: Record<string, unknown> = { ...aTransfersPostRequest() }
    delete withoutId.transferId
    expectFault(validateFspiopBody('POST', '/transfers', withoutId), '3102', 'transferId')
    expectFault(validateFspiopBody('POST', '/transfers', undefined), '3102', 'body')
  })

  it('3101 for a wrong type, pattern or enumeration value', () => {
    expectFault(validateFspiopBody('POST', '/quotes', { ...quote, amount: { amount: 100, currency: 'USD' } }), '3101', 'amount.amount')
    expectFault(validateFspiopBody('POST', '/quotes', { ...quote, amount: { amount: '5.ABC', currency: 'USD' } }), '3101', 'amount.amount')
    expectFault(validateFspiopBody('POST', '/quotes', { ...quote, amount: { amount: '10.50', currency: 'USD' } }), '3101', 'amount.amount')
    expectFault(validateFspiopBody('POST', '/quotes', { ...quote, quoteId: 'B51EC534-EE48-4575-B6A9-EAD2955B8069' }), '3101', 'quoteId')
    expectFault(validateFspiopBody('POST', '/quotes', { ...quote, amountType: 'BOTH' }), '3101', 'amountType')
    expectFault(validateFspiopBody('POST', '/quotes', { ...quote, amount: { amount: '1', currency: 'ZZZ' } }), '3101', 'amount.currency')
    expectFault(validateFspiopBody('POST', '/transfers', aTransfersPostRequest({ condition: `${TEST_ILP.condition}=` })), '3101', 'condition')
    expectFault(validateFspiopBody('POST', '/transfers', aTransfersPostRequest({ expiration: '2030-02-30T00:00:00.000Z' })), '3101', 'expiration')
    expectFault(validateFspiopBody('POST', '/quotes', 'a string'), '3101', 'body')
    expectFault(validateFspiopBody('POST', '/quotes', null), '3101', 'body')
    expectFault(validateFspiopBody('POST', '/quotes', [quote]), '3101', 'body')
  })

  it('says which values an enumeration allows when there are few, and not when there are 180', () => {
    assert.match(rejected(validateFspiopBody('POST', '/quotes', { ...quote, amountType: 'BOTH' })).message, /must be one of SEND, RECEIVE/)
    assert.match(rejected(validateFspiopBody('POST', '/quotes', { ...quote, amount: { amount: '1', currency: 'ZZZ' } })).message, /is not one of the allowed values/)
  })

  it('3100 for lengths and counts', () => {
    expectFault(validateFspiopBody('POST', '/quotes', { ...quote, note: 'n'.repeat(129) }), '3100', 'note')
    expectFault(validateFspiopBody('PUT', '/quotes/x/error', { errorInformation: { errorCode: '3100', errorDescription: '' } }), '3100', 'errorInformation.errorDescription')
    expectFault(validateFspiopBody('POST', '/quotes', { ...quote, extensionList: { extension: [] } }), '3100', 'extensionList.extension')
  })

  it('names array elements by index', () => {
    const individualTransfers = [
      { transferId: 'c7a3a5f0-3f4e-4b9c-9d1e-2a7c3b1e0f11', transferAmount: { amount: '1', currency: 'USD' }, ilpPacket: TEST_ILP.ilpPacket, condition: TEST_ILP.condition },
      { transferId: 'c7a3a5f0-3f4e-4b9c-9d1e-2a7c3b1e0f12', transferAmount: { amount: '01', currency: 'USD' }, ilpPacket: TEST_ILP.ilpPacket, condition: TEST_ILP.condition },
    ]
    const bulk = { bulkTransferId: 'c7a3a5f0-3f4e-4b9c-9d1e-2a7c3b1e0f10', bulkQuoteId: 'b51ec534-ee48-4575-b6a9-ead2955b8069', payerFsp: 'payerfsp', payeeFsp: 'payeefsp', individualTransfers, expiration: '2030-01-01T00:00:00.000Z' }
    expectFault(validateFspiopBody('POST', '/bulkTransfers', bulk), '3101', 'individualTransfers[1].transferAmount.amount')
  })

  it('3002 for a method and path that carry no body', () => {
    assert.equal(rejected(validateFspiopBody('GET', '/parties/MSISDN/1', undefined)).spec.fspiop, '3002')
  })

  it('maps every Ajv keyword the way Mojaloop does, 3103 for additional properties included', () => {
    const ajvError = (keyword: string, params: Record<string, unknown>, instancePath = '/payee/partyIdInfo'): ErrorObject => ({ keyword, params, instancePath, schemaPath: '#', message: `fails ${keyword}` })
    const cases: ReadonlyArray<readonly [ErrorObject, string, string]> = [
      [ajvError('required', { missingProperty: 'fspId' }), '3102', 'payee.partyIdInfo.fspId'],
      [ajvError('additionalProperties', { additionalProperty: 'fake' }), '3103', 'payee.partyIdInfo.fake'],
      [ajvError('type', { type: 'string' }), '3101', 'payee.partyIdInfo'],
      [ajvError('pattern', { pattern: '^x$' }), '3101', 'payee.partyIdInfo'],
      [ajvError('format', { format: 'date-time' }), '3101', 'payee.partyIdInfo'],
      [ajvError('enum', { allowedValues: ['A'] }), '3101', 'payee.partyIdInfo'],
      [ajvError('const', { allowedValue: 'A' }), '3101', 'payee.partyIdInfo'],
      [ajvError('maxLength', { limit: 3 }), '3100', 'payee.partyIdInfo'],
      [ajvError('maxItems', { limit: 3 }), '3100', 'payee.partyIdInfo'],
      [ajvError('anyOf', {}), '3100', 'payee.partyIdInfo'],
      [ajvError('required', { missingProperty: 'a/b' }, '/x~1y/0'), '3102', 'x/y[0].a/b'],
    ]
    for (const [error, code, element] of cases) {
      const mapped = validationErrorOf(error)
      assert.equal(mapped.spec.fspiop, code, error.keyword)
      assert.equal(mapped.details.element, element, error.keyword)
    }
  })

  it('turns every fault into an errorInformation body that is itself valid', () => {
    const faults = [
      validateFspiopBody('POST', '/quotes', { ...quote, amount: { amount: 100, currency: 'USD' } }),
      validateFspiopBody('POST', '/quotes', { ...quote, note: 'n'.repeat(300) }),
      validateFspiopBody('POST', '/transfers', undefined),
    ]
    for (const fault of faults) {
      const body = errorInformationOf(rejected(fault))
      assert.ok(validateFspiopSchema('ErrorInformationResponse', body).ok, JSON.stringify(body))
    }
  })
})

describe('validation never throws', () => {
  const routes = Object.keys(FSPIOP_BODY_ROUTES)
  const schemaNames = [...new Set(Object.values(FSPIOP_BODY_ROUTES))] as FspiopSchemaName[]

  it('answers any value for any schema with a result', () => {
    fc.assert(
      fc.property(fc.constantFrom(...schemaNames, 'Transaction' as const), fc.anything({ withNullPrototype: true, withBigInt: true, withDate: true, withMap: true }), (name, value) => {
        const result = validateFspiopSchema(name, value)
        if (!result.ok) assert.ok(result.error instanceof HubError)
      }),
      { numRuns: 1000 },
    )
  })

  it('answers any JSON for any route with a result, and a 31xx code when it fails', () => {
    fc.assert(
      fc.property(fc.constantFrom(...routes), fc.jsonValue(), (route, value) => {
        const [method = '', template = ''] = route.split(' ')
        const path = template.replaceAll(/\{[^}]+\}/g, 'x')
        const result = validateFspiopBody(method as 'POST', path, value)
        if (!result.ok) assert.match(result.error.spec.fspiop, /^31\d\d$/)
      }),
      { numRuns: 1000 },
    )
  })
})
