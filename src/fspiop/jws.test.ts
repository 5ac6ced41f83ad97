// SPDX-License-Identifier: Apache-2.0
/**
 * FSPIOP-Signature: our verifier against signatures made by Mojaloop's SDK (RS256 and ES256), the SDK's
 * validator against ours, and every protected-header binding broken one at a time.
 */
import assert from 'node:assert/strict'
import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import { describe, it } from 'node:test'
import sdk from '@mojaloop/sdk-standard-components'
import { canonicalJson } from './ilp.ts'
import { parseVerificationKey, signFspiop, verifyFspiopSignature, type SignedRequest } from './jws.ts'

// The SDK logs through its own logger type; a silent stand-in with the methods its Jws classes call.
const quiet = { child: () => quiet, debug() {}, error() {}, isDebugEnabled: false }
const silent = quiet as never
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
const pem = (key: KeyObject, type: 'spki' | 'pkcs8' | 'pkcs1' | 'sec1'): string => key.export({ type, format: 'pem' } as never) as string

/** A self-signed certificate for CN=bank (public material only): what a scheme's PKI would hand over. */
const CERTIFICATE = `-----BEGIN CERTIFICATE-----
MIIC/zCCAeegAwIBAgIUexjGv8mNMFYomVtLaSctCpx04KwwDQYJKoZIhvcNAQEL
BQAwDzENMAsGA1UEAwwEYmFuazAeFw0yNjExMjExMjMxNDFaFw0yNjExMjIxMjMx
NDFaMA8xDTALBgNVBAMMBGJhbmswggEiMA0GCSqGSIb3DQEBAQUAA4IBDwAwggEK
AoIBAQD6sDWutTSHUkNNySeZG2zkSm4YvtNx6ziiSjy665846Af9KXvg4mTWvcD3
GtWnBTYkqKqH7YyKdWZ6BUL2rPPf26bh9x57uC8X0NMxMt0ouitfMJpYB5wWOS8D
uY1xb4JcxyCXq1xeF3sZmFJSYgedz8q9RnExc1DZzJOvo0V3NaQ4o0+yeRFS5WDk
kfcmyPOjDHDlxgcrSvCm1GldmSRnE3UR1zEr0dXSI0Nnr5Z/Km2+dSec4rDiYAuH
ni7PG3o6so3AcA76ptor0vq3kSafpIEeLAnb8QOgwtXRziw8QGSKyZe0OFIqJPFj
sOHimJ+/v0o9oNy4CpbcsnH4/gp/AgMBAAGjUzBRMB0GA1UdDgQWBBTe+YvNAPDj
E2/KVcjqZ4xrGJTkHjAfBgNVHSMEGDAWgBTe+YvNAPDjE2/KVcjqZ4xrGJTkHjAP
BgNVHRMBAf8EBTADAQH/MA0GCSqGSIb3DQEBCwUAA4IBAQAZrOnTJ/qz9gJt2Rq9
ApgQb9+Srud8ncDo+fIWUwp/14ROxW/pXMhgK0ASjMnKqC/55+5yhM7F9TLl6wuu
8qT44zNozQ7B75p38deM4+n+1yI8RiN2Xo/c+264Q7Y/1SiAcfZJAaeUi8rGEu6s
frS5UmUBsdHn0IslDDBG1a8f9kOBYhl/kP11Mhxkte1ya5/U/PsIKBjGopj1cgIK
f5AaUCxVCGDps5EZmLyTlgOK+DoFKCPvMGwW5pspXbW0zoNS5mbipT1ASWOejjl6
SRiMla3foIL5298H6fu7iycGhpMmyY7RlR8VgxUWgLi7FbRPpR40rmawq25tXkKR
uuAK
-----END CERTIFICATE-----`

const BODY = { transferId: 'b51ec534-ee48-4575-b6a9-ead2955b8069', payerFsp: 'bank', payeeFsp: 'wallet', amount: { amount: '10.5', currency: 'USD' } }
const HEADERS = { 'fspiop-source': 'bank', 'fspiop-destination': 'wallet', date: 'Sat, 21 Nov 2026 10:00:00 GMT', 'content-type': 'application/vnd.interoperability.transfers+json;version=1.1' }

/** What Mojaloop's SDK puts on the wire for a signed POST /transfers. */
function sdkSigned(signingKey: string): SignedRequest {
  const request: { method: string; uri: string; headers: Record<string, string>; body: Record<string, unknown> } = { method: 'POST', uri: 'http://switch:4040/transfers', headers: { ...HEADERS }, body: BODY }
  new sdk.Jws.signer({ signingKey, logger: silent }).sign(request)
  return { method: 'POST', uri: '/transfers', headers: request.headers, rawBody: request.body as unknown as string }
}

describe('FSPIOP-Signature', () => {
  it("verifies the SDK's RS256 and ES256 signatures with the registered public key", async () => {
    assert.deepEqual(await verifyFspiopSignature(sdkSigned(pem(rsa.privateKey, 'pkcs1')), parseVerificationKey(pem(rsa.publicKey, 'spki'))), { ok: true })
    assert.deepEqual(await verifyFspiopSignature(sdkSigned(pem(ec.privateKey, 'sec1')), parseVerificationKey(pem(ec.publicKey, 'spki'))), { ok: true })
  })

  it('verifies a body the sender serialised with its keys in another order, as signed raw bytes', async () => {
    const rawBody = JSON.stringify({ z: 1, a: [{ y: 2, b: 3 }] })
    const headers = { ...HEADERS, ...(await signFspiop({ method: 'PUT', uri: '/quotes/1', headers: HEADERS, body: rawBody }, rsa.privateKey)) }
    assert.deepEqual(await verifyFspiopSignature({ method: 'PUT', uri: '/quotes/1', headers, rawBody }, rsa.publicKey), { ok: true })
  })

  it("signs so that the SDK's validator accepts it (the body sent canonical, as the SDK re-serialises it)", async () => {
    const body = canonicalJson(BODY)
    const headers = { ...HEADERS, ...(await signFspiop({ method: 'PUT', uri: '/transfers/b51ec534-ee48-4575-b6a9-ead2955b8069', headers: HEADERS, body }, rsa.privateKey)) }
    const validator = new sdk.Jws.validator({ validationKeys: { bank: pem(rsa.publicKey, 'spki') }, logger: silent })
    assert.equal(validator.validate({ headers, body: JSON.parse(body) }), true)
    const ecHeaders = { ...HEADERS, ...(await signFspiop({ method: 'PUT', uri: '/transfers/1', headers: HEADERS, body }, ec.privateKey)) }
    const ecValidator = new sdk.Jws.validator({ validationKeys: { bank: pem(ec.publicKey, 'spki') }, logger: silent })
    assert.equal(ecValidator.validate({ headers: ecHeaders, body: JSON.parse(body) }), true)
  })

  const tampered: ReadonlyArray<[string, (r: SignedRequest) => SignedRequest, RegExp]> = [
    ['no header', (r) => ({ ...r, headers: { ...r.headers, 'fspiop-signature': undefined } }), /required/],
    ['a header that is not JSON', (r) => ({ ...r, headers: { ...r.headers, 'fspiop-signature': 'eyJ.x' } }), /not JSON/],
    ['a header without its members', (r) => ({ ...r, headers: { ...r.headers, 'fspiop-signature': '{"signature":1}' } }), /string members/],
    ['a changed amount', (r) => ({ ...r, rawBody: r.rawBody.replace('10.5', '1000') }), /does not verify/],
    ['another path', (r) => ({ ...r, uri: '/transfers/other' }), /FSPIOP-URI/],
    ['another method', (r) => ({ ...r, method: 'PUT' }), /HTTP-Method/],
    ['another source', (r) => ({ ...r, headers: { ...r.headers, 'fspiop-source': 'wallet' } }), /FSPIOP-Source/],
    ['another destination', (r) => ({ ...r, headers: { ...r.headers, 'fspiop-destination': 'other' } }), /FSPIOP-Destination/],
    ['the destination dropped', (r) => ({ ...r, headers: { ...r.headers, 'fspiop-destination': undefined } }), /FSPIOP-Destination/],
    ['another date', (r) => ({ ...r, headers: { ...r.headers, date: 'Sat, 21 Nov 2026 10:00:01 GMT' } }), /Date/],
  ]
  for (const [name, tamper, reason] of tampered) {
    it(`refuses ${name}`, async () => {
      const result = await verifyFspiopSignature(tamper(sdkSigned(pem(rsa.privateKey, 'pkcs1'))), rsa.publicKey)
      assert.equal(result.ok, false)
      assert.match((result as { reason: string }).reason, reason)
    })
  }

  it("refuses a signature made with another participant's key", async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 })
    const result = await verifyFspiopSignature(sdkSigned(pem(other.privateKey, 'pkcs1')), rsa.publicKey)
    assert.deepEqual(result, { ok: false, reason: 'the signature does not verify with the key registered for FSPIOP-Source' })
  })

  it('refuses alg none and HS256 in the protected header', async () => {
    for (const alg of ['none', 'HS256']) {
      const signed = sdkSigned(pem(rsa.privateKey, 'pkcs1'))
      const { signature, protectedHeader } = JSON.parse(signed.headers['fspiop-signature'] as string) as { signature: string; protectedHeader: string }
      const claims = { ...JSON.parse(Buffer.from(protectedHeader, 'base64url').toString()), alg }
      const forged = JSON.stringify({ signature, protectedHeader: Buffer.from(JSON.stringify(claims)).toString('base64url') })
      const result = await verifyFspiopSignature({ ...signed, headers: { ...signed.headers, 'fspiop-signature': forged } }, rsa.publicKey)
      assert.equal(result.ok, false, alg)
    }
  })

  it('takes SPKI and PKCS#1 RSA keys, P-256 EC keys and X.509 certificates; refuses short RSA keys, other curves and junk', () => {
    assert.equal(parseVerificationKey(CERTIFICATE).asymmetricKeyType, 'rsa')
    assert.equal(parseVerificationKey(pem(rsa.publicKey, 'pkcs1')).asymmetricKeyType, 'rsa')
    assert.equal(parseVerificationKey(pem(ec.publicKey, 'spki')).asymmetricKeyType, 'ec')
    const short = generateKeyPairSync('rsa', { modulusLength: 1024 })
    assert.throws(() => parseVerificationKey(pem(short.publicKey, 'spki')), /1024 bits/)
    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' })
    assert.throws(() => parseVerificationKey(pem(p384.publicKey, 'spki')), /P-256/)
    assert.throws(() => parseVerificationKey('-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----'), /not a PEM/)
  })
})
