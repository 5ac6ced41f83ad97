// SPDX-License-Identifier: Apache-2.0
/**
 * FSPIOP-Signature (reference §1.5): a JWS whose payload is the HTTP body and whose protected header binds
 * the message to its URI, method, source (and destination and date when sent). The header carries
 * `{"signature": …, "protectedHeader": …}`; the signing input is `protectedHeader + "." + BASE64URL(body)`.
 *
 * Verification follows Mojaloop's SDK validator, with two deliberate differences:
 * - the payload is the body as received, byte for byte (standard JWS), and only if that fails the
 *   canonical re-serialisation the SDK's own signer and validator use (sorted keys), so signers of either
 *   kind verify;
 * - the protected FSPIOP-URI must also equal the path the request really came to, so a signed body cannot
 *   be replayed onto another resource.
 * Algorithms: RS256/RS384/RS512 (the spec, keys ≥ 2048 bits, which jose enforces) and ES256 (the SDK).
 *
 * The crypto is jose's; this module only says what is signed and what must match.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto'
import { CompactSign, compactVerify, decodeProtectedHeader } from 'jose'
import { HubError } from '../core/errors.ts'
import { canonicalJson } from './ilp.ts'

export const JWS_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'ES256'] as const

export type JwsCheck = { readonly ok: true } | { readonly ok: false; readonly reason: string }

/** The request as the verifier sees it: lower-case header names, the body exactly as it arrived. */
export interface SignedRequest {
  readonly method: string
  /** The path and query the request came to, from the resource on, e.g. `/transfers/…`. */
  readonly uri: string
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
  readonly rawBody: string
}

/**
 * A participant's verification key from PEM: an SPKI public key, a PKCS#1 RSA public key or an X.509
 * certificate. Throws a plain Error naming the problem (the admin API turns it into a 400).
 */
export function parseVerificationKey(pem: string): KeyObject {
  let key: KeyObject
  try {
    key = createPublicKey(pem)
  } catch {
    throw new Error('not a PEM public key or certificate')
  }
  const type = key.asymmetricKeyType
  if (type === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0
    if (bits < 2048) throw new Error(`an RSA key of ${bits} bits: FSPIOP requires at least 2048`)
  } else if (!(type === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1')) {
    throw new Error(`a ${type ?? 'unknown'} key: FSPIOP signatures use RSA (RS256/384/512) or EC P-256 (ES256)`)
  }
  return key
}

/** A signing key from PEM (PKCS#8, PKCS#1 or SEC1). */
export function parseSigningKey(pem: string): KeyObject {
  return createPrivateKey(pem)
}

function header(headers: SignedRequest['headers'], name: string): string | undefined {
  const value = headers[name]
  return typeof value === 'string' ? value : undefined
}

/** Verifies the FSPIOP-Signature of a request with the key registered for its FSPIOP-Source. */
export async function verifyFspiopSignature(request: SignedRequest, key: KeyObject): Promise<JwsCheck> {
  const signatureHeader = header(request.headers, 'fspiop-signature')
  if (signatureHeader === undefined) return { ok: false, reason: 'FSPIOP-Signature is required: the source has a signing key registered' }
  let parsed: unknown
  try {
    parsed = JSON.parse(signatureHeader)
  } catch {
    return { ok: false, reason: 'FSPIOP-Signature is not JSON' }
  }
  const { signature, protectedHeader } = (parsed ?? {}) as { signature?: unknown; protectedHeader?: unknown }
  if (typeof signature !== 'string' || typeof protectedHeader !== 'string') {
    return { ok: false, reason: 'FSPIOP-Signature needs string members signature and protectedHeader' }
  }
  let claims: Record<string, unknown>
  try {
    claims = decodeProtectedHeader(`${protectedHeader}..${signature}`) as Record<string, unknown>
  } catch {
    return { ok: false, reason: 'the protected header is not base64url JSON' }
  }
  const mismatch = protectedHeaderMismatch(claims, request)
  if (mismatch !== undefined) return { ok: false, reason: mismatch }

  const candidates = [request.rawBody]
  try {
    const canonical = canonicalJson(JSON.parse(request.rawBody))
    if (canonical !== request.rawBody) candidates.push(canonical)
  } catch {
    // Not JSON: only the raw bytes can have been signed.
  }
  for (const payload of candidates) {
    try {
      await compactVerify(`${protectedHeader}.${Buffer.from(payload).toString('base64url')}.${signature}`, key, { algorithms: [...JWS_ALGORITHMS] })
      return { ok: true }
    } catch {
      // Try the next serialisation.
    }
  }
  return { ok: false, reason: 'the signature does not verify with the key registered for FSPIOP-Source' }
}

/** The same check as FSPIOP answers it: 3105 unless the request is signed with `key` (none known: 3105 too). */
export async function requireFspiopSignature(request: SignedRequest, key: KeyObject | undefined, source: string): Promise<void> {
  if (key === undefined) throw new HubError('INVALID_SIGNATURE', `Invalid signature: no JWS key is known for ${source}`)
  const signature = await verifyFspiopSignature(request, key)
  if (!signature.ok) throw new HubError('INVALID_SIGNATURE', `Invalid signature: ${signature.reason}`)
}

/** What the protected header must say about the request, as the SDK validator checks it (and the URI). */
function protectedHeaderMismatch(claims: Record<string, unknown>, request: SignedRequest): string | undefined {
  const alg = claims.alg
  if (typeof alg !== 'string' || !(JWS_ALGORITHMS as readonly string[]).includes(alg)) return `protected header alg must be one of ${JWS_ALGORITHMS.join(', ')}`
  const uri = claims['FSPIOP-URI']
  if (uri !== request.uri) return 'protected FSPIOP-URI is not the URI of the request'
  const uriHeader = header(request.headers, 'fspiop-uri')
  if (uriHeader !== undefined && uriHeader !== uri) return 'FSPIOP-URI header does not match the protected header'
  if (claims['FSPIOP-HTTP-Method'] !== request.method.toUpperCase()) return 'protected FSPIOP-HTTP-Method is not the method of the request'
  const methodHeader = header(request.headers, 'fspiop-http-method')
  if (methodHeader !== undefined && methodHeader !== request.method.toUpperCase()) return 'FSPIOP-HTTP-Method header does not match the protected header'
  if (claims['FSPIOP-Source'] !== header(request.headers, 'fspiop-source')) return 'protected FSPIOP-Source does not match the FSPIOP-Source header'
  const destination = header(request.headers, 'fspiop-destination')
  if (claims['FSPIOP-Destination'] !== destination) return 'protected FSPIOP-Destination does not match the FSPIOP-Destination header'
  if (claims.Date !== undefined && claims.Date !== header(request.headers, 'date')) return 'protected Date does not match the Date header'
  return undefined
}

export interface OutgoingSignature {
  readonly 'fspiop-signature': string
  readonly 'fspiop-uri': string
  readonly 'fspiop-http-method': string
}

/** Signs an outgoing message with `headers` already built (source, destination, date are bound). */
export async function signFspiop(
  message: { readonly method: string; readonly uri: string; readonly headers: Readonly<Record<string, string>>; readonly body: string },
  key: KeyObject,
): Promise<OutgoingSignature> {
  const method = message.method.toUpperCase()
  const alg = key.asymmetricKeyType === 'ec' ? 'ES256' : 'RS256'
  const protectedClaims: Record<string, string> = { alg, 'FSPIOP-URI': message.uri, 'FSPIOP-HTTP-Method': method }
  const source = message.headers['fspiop-source']
  if (source !== undefined) protectedClaims['FSPIOP-Source'] = source
  const destination = message.headers['fspiop-destination']
  if (destination !== undefined) protectedClaims['FSPIOP-Destination'] = destination
  const date = message.headers.date
  if (date !== undefined) protectedClaims.Date = date
  const jws = await new CompactSign(Buffer.from(message.body)).setProtectedHeader(protectedClaims as { alg: string }).sign(key)
  const [protectedHeader, , signature] = jws.split('.')
  return {
    'fspiop-signature': JSON.stringify({ signature, protectedHeader }),
    'fspiop-uri': message.uri,
    'fspiop-http-method': method,
  }
}
