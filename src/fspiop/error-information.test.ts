// SPDX-License-Identifier: Apache-2.0
/**
 * errorInformation both ways: every catalogue code becomes a valid body with the specification's name,
 * received codes are classified (defined, scheme-specific xx40–xx99 → xx00, undefined → 3100), and
 * malformed bodies are answered, never thrown.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { ERROR_CATALOG, ERROR_CODES } from '../core/error-catalog.ts'
import { HubError, NotFoundError, RejectedError, ValidationError } from '../core/errors.ts'
import {
  classifyFspiopErrorCode,
  ERROR_DESCRIPTION_MAX,
  errorCodeForFspiop,
  errorInformationFor,
  errorInformationOf,
  FSPIOP_ERROR_NAMES,
  hubErrorOf,
  httpStatusOf,
  parseErrorInformation,
  relayableErrorInformation,
  type ReceivedErrorInformation,
} from './error-information.ts'
import { validateFspiopSchema } from './schemas.ts'

function received(errorCode: string, errorDescription = 'described'): ReceivedErrorInformation {
  const parsed = parseErrorInformation({ errorInformation: { errorCode, errorDescription } })
  assert.ok(parsed.ok)
  return parsed.value
}

describe('outgoing errorInformation', () => {
  it('gives every catalogue code a valid body with its FSPIOP code and the specification’s name', () => {
    for (const code of ERROR_CODES) {
      const body = errorInformationFor(code, 'something specific')
      assert.ok(validateFspiopSchema('ErrorInformationObject', body).ok, code)
      assert.equal(body.errorInformation.errorCode, ERROR_CATALOG[code].fspiop)
      assert.equal(body.errorInformation.errorDescription, `${FSPIOP_ERROR_NAMES[ERROR_CATALOG[code].fspiop]} - something specific`)
    }
  })

  it('uses only codes the specification defines', () => {
    for (const code of ERROR_CODES) assert.equal(classifyFspiopErrorCode(ERROR_CATALOG[code].fspiop).kind, 'defined', code)
  })

  it('describes a HubError by its message and carries an extension list from its details', () => {
    const extensionList = { extension: [{ key: '1', value: '1' }] }
    const body = errorInformationOf(new HubError('UNACCEPTABLE_VERSION', 'not this one', { extensionList }))
    assert.deepEqual(body, { errorInformation: { errorCode: '3001', errorDescription: 'Unacceptable version requested - not this one', extensionList } })
    const ignored = errorInformationOf(new HubError('VALIDATION', 'x', { extensionList: { extension: 'not a list' } }))
    assert.equal(ignored.errorInformation.extensionList, undefined)
    assert.equal(errorInformationFor('PARTY_NOT_FOUND').errorInformation.errorDescription, 'Party not found')
    assert.equal(errorInformationFor('PARTY_NOT_FOUND', 'Party not found').errorInformation.errorDescription, 'Party not found')
    assert.equal(httpStatusOf(new HubError('UNACCEPTABLE_VERSION', '')), 406)
  })

  it('cuts long descriptions to 128 characters without splitting a character', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (message) => {
        const body = errorInformationFor('VALIDATION', message)
        assert.ok([...body.errorInformation.errorDescription].length <= ERROR_DESCRIPTION_MAX)
        assert.ok(validateFspiopSchema('ErrorInformationObject', body).ok)
      }),
    )
    const description = errorInformationFor('VALIDATION', '💸'.repeat(200)).errorInformation.errorDescription
    assert.equal([...description].length, 128)
    assert.ok(description.endsWith('💸'))
  })
})

describe('classifying received codes', () => {
  it('acts on a defined code as it is, including Mojaloop’s 5107', () => {
    for (const code of Object.keys(FSPIOP_ERROR_NAMES)) assert.deepEqual(classifyFspiopErrorCode(code), { kind: 'defined', effectiveCode: code })
  })

  it('treats a scheme-specific xx40–xx99 code as its category’s xx00', () => {
    assert.deepEqual(classifyFspiopErrorCode('5140'), { kind: 'scheme-specific', effectiveCode: '5100' })
    assert.deepEqual(classifyFspiopErrorCode('3040'), { kind: 'scheme-specific', effectiveCode: '3000' }) // Mojaloop's "Delete Party information error"
    assert.deepEqual(classifyFspiopErrorCode('1099'), { kind: 'scheme-specific', effectiveCode: '1000' })
    assert.deepEqual(classifyFspiopErrorCode('4499'), { kind: 'scheme-specific', effectiveCode: '4400' })
  })

  it('treats anything else as undefined, acted on as 3100', () => {
    for (const code of ['3039', '3211', '6000', '3500', '1100', '9999', '0100', '', 'abcd', '31000', 'toString', '__proto__']) {
      assert.deepEqual(classifyFspiopErrorCode(code), { kind: 'undefined', effectiveCode: '3100' }, code)
    }
  })

  it('always lands on a defined code that our catalogue can name', () => {
    fc.assert(
      fc.property(fc.oneof(fc.stringMatching(/^[1-9]\d{3}$/), fc.string()), (code) => {
        const { effectiveCode } = classifyFspiopErrorCode(code)
        assert.ok(FSPIOP_ERROR_NAMES[effectiveCode] !== undefined, effectiveCode)
        const ours = errorCodeForFspiop(code)
        assert.ok([effectiveCode, `${effectiveCode.slice(0, 2)}00`].includes(ERROR_CATALOG[ours].fspiop))
      }),
    )
    assert.equal(errorCodeForFspiop('3100'), 'VALIDATION') // not INVALID_STATE, which shares 3100
    assert.equal(errorCodeForFspiop('5107'), 'PAYEE_REJECTION')
    assert.equal(errorCodeForFspiop('4001'), 'PAYER_INSUFFICIENT_LIQUIDITY')
  })
})

describe('incoming errorInformation', () => {
  it('relays defined and scheme-specific codes unchanged, and replaces an undefined one with 3100', () => {
    const defined = received('5104', 'customer declined')
    assert.deepEqual(relayableErrorInformation(defined), { errorInformation: { errorCode: '5104', errorDescription: 'customer declined' } })
    assert.equal(relayableErrorInformation(received('5140')).errorInformation.errorCode, '5140')
    const undefinedCode = received('6001')
    assert.equal(undefinedCode.code, 'VALIDATION')
    assert.deepEqual(relayableErrorInformation(undefinedCode), {
      errorInformation: { errorCode: '3100', errorDescription: 'Generic validation error - API specification undefined errorCode 6001' },
    })
  })

  it('becomes a HubError of the right kind, keeping the peer’s code and description', () => {
    const notFound = hubErrorOf(received('3204', 'no such MSISDN'))
    assert.ok(notFound instanceof NotFoundError)
    assert.equal(notFound.code, 'PARTY_NOT_FOUND')
    assert.equal(notFound.message, 'no such MSISDN')
    assert.equal(notFound.details.fspiopCode, '3204')
    assert.ok(hubErrorOf(received('4100')) instanceof RejectedError)
    assert.ok(hubErrorOf(received('5340')) instanceof RejectedError)
    assert.ok(hubErrorOf(received('3106')) instanceof ValidationError)
    assert.equal(hubErrorOf(received('3303')).code, 'TRANSFER_EXPIRED')
    assert.equal(hubErrorOf(received('1001')).code, 'DESTINATION_COMMUNICATION')
  })

  it('answers malformed bodies with the code that names the fault', () => {
    const fault = (body: unknown): string => {
      const parsed = parseErrorInformation(body)
      assert.ok(!parsed.ok)
      return parsed.error.spec.fspiop
    }
    assert.equal(fault({}), '3102')
    assert.equal(fault({ errorInformation: { errorCode: '3100' } }), '3102')
    assert.equal(fault({ errorInformation: { errorCode: 3100, errorDescription: 'x' } }), '3101')
    assert.equal(fault({ errorInformation: { errorCode: '0100', errorDescription: 'x' } }), '3101')
    assert.equal(fault({ errorInformation: { errorCode: '3100', errorDescription: 'x'.repeat(129) } }), '3100')
    assert.equal(fault(undefined), '3102')
    assert.equal(fault('error'), '3101')
  })

  it('never throws', () => {
    fc.assert(fc.property(fc.anything(), (body) => void parseErrorInformation(body)), { numRuns: 500 })
    fc.assert(
      fc.property(fc.record({ errorInformation: fc.record({ errorCode: fc.oneof(fc.string(), fc.integer()), errorDescription: fc.string() }, { requiredKeys: [] }) }), (body) => {
        const parsed = parseErrorInformation(body)
        if (parsed.ok) relayableErrorInformation(parsed.value)
      }),
      { numRuns: 500 },
    )
  })
})
