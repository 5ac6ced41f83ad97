// SPDX-License-Identifier: Apache-2.0
/**
 * ILP v4 packets, conditions and fulfilments, byte-for-byte as Mojaloop's SDK makes them
 * (`@mojaloop/sdk-standard-components`, `IlpV4`; reference §5), and the ILP v1 packets of Mojaloop v1.x (end of file), so that a payee DFSP built on that SDK and
 * one built on Kivuko agree on every packet, condition and fulfilment.
 *
 * The recipe, as the SDK does it:
 * - the packet is an ILP Prepare: amount = transfer amount in minor units (the SDK's scale table),
 *   expiresAt = the transaction's `expiration`, executionCondition = the condition,
 *   destination = `g.mojaloop` for every party, and data = the ASCII of base64url(JSON of the transaction);
 * - the JSON is stable: keys sorted at every level (the SDK uses safe-stable-stringify);
 * - fulfilment = base64url(HMAC-SHA256(key = ASCII of base64(secret), message = ASCII of base64(JSON)));
 *   note the key is the *base64 text* of the secret and the message the *base64 text* of the JSON;
 * - condition = base64url(SHA-256(fulfilment bytes)).
 *
 * A fulfilment is therefore re-derived from the packet alone (decode it, re-serialise the transaction,
 * HMAC), which is how a payee answers POST /transfers without having stored anything at quote time.
 *
 * Amounts never pass through a JS number: decimal text goes to bigint and back.
 */
import { Buffer } from 'node:buffer'
import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import { deserializeIlpPrepare, serializeIlpPrepare } from 'ilp-packet'
import { deserializeEnvelope, deserializeIlpPayment, serializeIlpPayment } from 'ilp-packet-v1'
import { assert } from '../core/assert.ts'
import { findCurrency } from '../core/money.ts'
import { fail, ok, type Result } from '../core/result.ts'
import { validateFspiopSchema } from './schemas.ts'
import type { Money, QuotesPostRequest, Transaction, TransfersPostRequest } from './types.ts'

/**
 * The SDK's destination for every v4 packet. Mojaloop identifies parties by FSPIOP party ids, never by
 * ILP address, and says a per-party address would only mislead.
 */
export const ILP_ADDRESS = 'g.mojaloop'

/** The transaction carried in the packet: FSPIOP's Transaction plus the quote's expiration, which sets expiresAt. */
export interface IlpTransaction extends Transaction {
  readonly expiration: string
}

/** A decoded transaction: older producers (and FSPIOP's own example) leave out the expiration. */
export type DecodedTransaction = Transaction & { readonly expiration?: string }

/**
 * The payee's HMAC secret. A string is used as its UTF-8 bytes, as the SDK's `Buffer.from(secret)` does.
 * It is configuration, not input: an empty one is a bug, and fails an assertion.
 */
export type IlpSecret = string | Uint8Array

export interface IlpResponse {
  /** base64url, no padding. */
  readonly ilpPacket: string
  /** base64url SHA-256 of the fulfilment: 43 characters. */
  readonly condition: string
  /** base64url, 43 characters. Keep it secret until the transfer is fulfilled. */
  readonly fulfilment: string
}

export type IlpAmountStatus =
  | 'currency_unknown' // no ILP scale for the currency
  | 'amount_malformed' // not FSPIOP's Amount grammar
  | 'amount_scale_exceeded' // more decimals than the currency has
  | 'amount_exceeds_ilp_maximum' // more minor units than an unsigned 64-bit ILP amount holds

export type IlpBuildStatus = IlpAmountStatus | 'expiration_invalid'

export type IlpDecodeStatus =
  | 'packet_malformed' // not base64url, not an ILP Prepare, or not in the canonical encoding
  | 'data_malformed' // the data is neither base64url JSON nor JSON
  | 'transaction_malformed' // the JSON is not an FSPIOP Transaction

export interface DecodedIlpPacket {
  /** The ILP amount: minor units of `transaction.amount.currency` at the SDK's scale. */
  readonly amountMinor: bigint
  readonly expiresAtMs: number
  /** The executionCondition, base64url. */
  readonly condition: string
  readonly destination: string
  readonly transaction: DecodedTransaction
}

// ---------------------------------------------------------------------------------------------------
// Building

/**
 * The transaction a payee puts in the packet when answering a quote, field for field as the SDK's
 * `getQuoteResponseIlp` builds it. The SDK takes `note` from its second argument (the quote response
 * its backend produced), not from the quote request; pass the request's note there to carry it over.
 */
export function transactionFromQuote(
  quoteRequest: Pick<QuotesPostRequest, 'quoteId' | 'transactionId' | 'transactionType' | 'payee' | 'payer'>,
  quoteResponse: { readonly transferAmount: Money; readonly expiration: string; readonly note?: string },
): IlpTransaction {
  const { quoteId, transactionId, transactionType, payee, payer } = quoteRequest
  const { transferAmount, expiration, note } = quoteResponse
  return {
    quoteId,
    transactionId,
    transactionType,
    payee,
    payer,
    expiration,
    amount: transferAmount,
    ...(note === undefined || note === '' ? {} : { note }),
  }
}

/** Packet, condition and fulfilment for a quote response: the SDK's `getResponseIlp`. */
export function buildIlpPacket(transaction: IlpTransaction, secret: IlpSecret): Result<IlpResponse, IlpBuildStatus> {
  const amount = ilpAmountOf(transaction.amount)
  if (!amount.ok) return amount
  const expiresAtMs = ilpExpiryOf(transaction.expiration)
  if (expiresAtMs === undefined) return fail('expiration_invalid')
  const json = canonicalJson(transaction)
  const fulfilment = fulfilmentOfJson(json, secret)
  const condition = sha256Base64Url(Buffer.from(fulfilment, 'base64url'))
  const packet = serializeIlpPrepare({
    amount: amount.value.toString(),
    expiresAt: new Date(expiresAtMs),
    executionCondition: Buffer.from(condition, 'base64url'),
    destination: ILP_ADDRESS,
    data: Buffer.from(Buffer.from(json, 'utf8').toString('base64url'), 'latin1'),
  })
  return ok({ ilpPacket: packet.toString('base64url'), condition, fulfilment })
}

/**
 * The fulfilment for a packet this payee built with `secret` (the SDK's `calculateFulfil`): HMAC over the
 * canonical JSON of the transaction decoded from the packet. A packet built with another secret yields a
 * fulfilment that does not match its condition, which `validateFulfilment` reports.
 */
export function deriveFulfilment(ilpPacket: string, secret: IlpSecret): Result<string, IlpDecodeStatus> {
  const decoded = decodeIlpPacket(ilpPacket)
  if (!decoded.ok) return decoded
  return ok(fulfilmentOfJson(canonicalJson(decoded.value.transaction), secret))
}

// ---------------------------------------------------------------------------------------------------
// Conditions and fulfilments

export type FulfilmentStatus =
  | 'fulfilment_malformed' // not 43 base64url characters encoding exactly 32 bytes
  | 'condition_malformed'
  | 'fulfilment_does_not_match_condition'
  | 'valid'

/**
 * The switch's check on PUT /transfers (reference §4.4): SHA-256 of the 32-byte preimage equals the
 * condition. Both must be canonical base64url: the payer compares the texts it is relayed, so two
 * spellings of the same bytes would make the switch and the payer disagree. Compared in constant time.
 * Never throws.
 */
export function validateFulfilment(fulfilment: unknown, condition: unknown): FulfilmentStatus {
  const preimage = decodeBinary32(fulfilment)
  if (preimage === undefined) return 'fulfilment_malformed'
  const expected = decodeBinary32(condition)
  if (expected === undefined) return 'condition_malformed'
  const actual = createHash('sha256').update(preimage).digest()
  return timingSafeEqual(actual, expected) ? 'valid' : 'fulfilment_does_not_match_condition'
}

/** The condition a fulfilment fulfils (the SDK's `calculateConditionFromFulfil`). */
export function conditionOf(fulfilment: unknown): Result<string, 'fulfilment_malformed'> {
  const preimage = decodeBinary32(fulfilment)
  return preimage === undefined ? fail('fulfilment_malformed') : ok(sha256Base64Url(preimage))
}

// ---------------------------------------------------------------------------------------------------
// Decoding

/**
 * A packet back to its parts and its transaction (the SDK's `decodeIlpPacket` + `getTransactionObject`).
 * Stricter than the SDK: the text must be base64url (padding allowed, as FSPIOP's IlpPacket pattern
 * does) and the bytes the canonical encoding of one ILP Prepare, with nothing after it. The data is read
 * as the SDK writes it (base64url JSON) or, failing that, as raw JSON, as FSPIOP's own example and older
 * simulators wrote it. Never throws.
 */
export function decodeIlpPacket(ilpPacket: unknown): Result<DecodedIlpPacket, IlpDecodeStatus> {
  if (typeof ilpPacket !== 'string' || ilpPacket.length === 0 || ilpPacket.length > ILP_PACKET_MAX) return fail('packet_malformed')
  const bytes = decodeBase64Url(ilpPacket)
  if (bytes === undefined) return fail('packet_malformed')
  let prepare: ReturnType<typeof deserializeIlpPrepare>
  try {
    prepare = deserializeIlpPrepare(bytes)
    // ilp-packet ignores bytes after the envelope and after the data; encoding what it read must give the input back.
    if (!serializeIlpPrepare(prepare).equals(bytes)) return fail('packet_malformed')
  } catch {
    return fail('packet_malformed')
  }
  const transaction = transactionOfData(prepare.data)
  if (!transaction.ok) return transaction
  return ok({
    amountMinor: BigInt(prepare.amount),
    expiresAtMs: prepare.expiresAt.getTime(),
    condition: prepare.executionCondition.toString('base64url'),
    destination: prepare.destination,
    transaction: transaction.value,
  })
}

/** The FSPIOP Transaction a packet's data carries (base64url JSON, or raw JSON). */
function transactionOfData(data: Uint8Array): Result<DecodedTransaction, IlpDecodeStatus> {
  const json = dataJson(data)
  if (json === undefined) return fail('data_malformed')
  let parsed: unknown
  try {
    parsed = JSON.parse(json)
  } catch {
    return fail('data_malformed')
  }
  const transaction = validateFspiopSchema('Transaction', parsed)
  if (!transaction.ok) return fail('transaction_malformed')
  const { expiration } = parsed as { expiration?: unknown }
  if (expiration !== undefined && !validateFspiopSchema('DateTime', expiration).ok) return fail('transaction_malformed')
  return ok(transaction.value as DecodedTransaction)
}

// ---------------------------------------------------------------------------------------------------
// ILP v1

/**
 * ILP v1 ("ILP Payment", type 1), the packet of Mojaloop v1.x: the SDK's `IlpV1`, which its scheme adapters
 * build by default (ILP_VERSION=1), with `ilp-packet@2.2.0` as the SDK pins it. The packet carries the amount,
 * the payee's ILP address and the same data as a v4 packet, but no condition and no expiry; the fulfilment
 * is an HMAC over the packet's own base64url text, so only the payee that built it can derive it.
 */
export interface DecodedIlpV1Packet {
  /** The ILP amount: minor units of `transaction.amount.currency` at the SDK's scale. */
  readonly amountMinor: bigint
  /** `g.{fspId}.{partyIdType}.{partyIdentifier}[.{partySubIdOrType}]`, type and ids lower-cased. */
  readonly account: string
  readonly transaction: DecodedTransaction
}

/** The ILP version of a packet by its type octet: 1 (ILP Payment) or 4 (ILP Prepare, type 12); undefined otherwise. */
export function ilpVersionOf(ilpPacket: unknown): 1 | 4 | undefined {
  if (typeof ilpPacket !== 'string' || ilpPacket.length < 2) return undefined
  const first = Buffer.from(ilpPacket.slice(0, 4), 'base64url')[0]
  return first === 1 ? 1 : first === 12 ? 4 : undefined
}

/** The payee's ILP v1 address, as the SDK's `_getIlpAddress` writes it. */
export function ilpV1AddressOf(payee: Transaction['payee']): string {
  const { fspId, partyIdType, partyIdentifier, partySubIdOrType } = payee.partyIdInfo
  return `g.${fspId ?? ''}.${partyIdType.toLowerCase()}.${partyIdentifier.toLowerCase()}${partySubIdOrType === undefined || partySubIdOrType === '' ? '' : `.${partySubIdOrType.toLowerCase()}`}`
}

/** Packet, condition and fulfilment of an ILP v1 quote response: the SDK's `IlpV1.getResponseIlp`. */
export function buildIlpV1Packet(transaction: IlpTransaction, secret: IlpSecret): Result<IlpResponse, IlpAmountStatus> {
  const amount = ilpAmountOf(transaction.amount)
  if (!amount.ok) return amount
  const json = canonicalJson(transaction)
  const packet = serializeIlpPayment({
    amount: amount.value.toString(),
    account: ilpV1AddressOf(transaction.payee),
    data: Buffer.from(Buffer.from(json, 'utf8').toString('base64url'), 'latin1'),
  }).toString('base64url')
  const fulfilment = fulfilmentOfV1Packet(packet, secret)
  return ok({ ilpPacket: packet, condition: sha256Base64Url(Buffer.from(fulfilment, 'base64url')), fulfilment })
}

/** The fulfilment of an ILP v1 packet built with `secret`: HMAC over the packet text (the SDK's `IlpV1.calculateFulfil`). */
export function fulfilmentOfV1Packet(ilpPacket: string, secret: IlpSecret): string {
  return hmacOfText(ilpPacket, secret)
}

/** An ILP v1 packet back to its parts and transaction; as strict as `decodeIlpPacket`. Never throws. */
export function decodeIlpV1Packet(ilpPacket: unknown): Result<DecodedIlpV1Packet, IlpDecodeStatus> {
  if (typeof ilpPacket !== 'string' || ilpPacket.length === 0 || ilpPacket.length > ILP_PACKET_MAX) return fail('packet_malformed')
  const bytes = decodeBase64Url(ilpPacket)
  if (bytes === undefined) return fail('packet_malformed')
  let payment: ReturnType<typeof deserializeIlpPayment>
  let account: string
  try {
    payment = deserializeIlpPayment(bytes)
    // ilp-packet reads the address as 7-bit ASCII, but writes a string's chars as bytes (latin1), as the SDK
    // does with a party id outside ASCII: the address is read again as those bytes, so that such a packet
    // re-encodes to itself.
    account = varOctetAt(deserializeEnvelope(bytes).contents, 8).toString('latin1')
    if (!serializeIlpPayment({ ...payment, account }).equals(bytes)) return fail('packet_malformed')
  } catch {
    return fail('packet_malformed')
  }
  const transaction = transactionOfData(payment.data ?? Buffer.alloc(0))
  if (!transaction.ok) return transaction
  return ok({ amountMinor: BigInt(payment.amount), account, transaction: transaction.value })
}

/** The OER variable-length octet string at `offset` (length: one byte below 128, else 0x80|n and n bytes). */
function varOctetAt(bytes: Buffer, offset: number): Buffer {
  const first = bytes[offset]
  if (first === undefined) throw new RangeError('no octet string here')
  let at = offset + 1
  let length = first
  if (first & 0x80) {
    length = 0
    for (let i = 0; i < (first & 0x7f); i += 1) length = length * 256 + (bytes[at++] ?? 0)
  }
  if (at + length > bytes.length) throw new RangeError('octet string runs past the end')
  return bytes.subarray(at, at + length)
}

export type TransferMatchStatus =
  | 'payer_fsp_mismatch'
  | 'payee_fsp_mismatch'
  | 'currency_mismatch'
  | 'amount_mismatch'
  | 'condition_mismatch'
  | 'matches'

/**
 * What a payee checks on POST /transfers before reserving (reference §5.1): the transfer is for the
 * transaction it quoted. The first four are the SDK's `validateIlpAgainstTransferRequest` (amounts
 * compared as text, as there); Kivuko adds that the packet's ILP amount and condition agree with the
 * transfer, because a payer could otherwise pair one quote's packet with another's condition.
 */
export function matchTransferToIlpPacket(transfer: TransfersPostRequest, decoded: DecodedIlpPacket): TransferMatchStatus {
  const { transaction } = decoded
  if (transfer.payerFsp !== transaction.payer.partyIdInfo.fspId) return 'payer_fsp_mismatch'
  if (transfer.payeeFsp !== transaction.payee.partyIdInfo.fspId) return 'payee_fsp_mismatch'
  if (transfer.amount.currency !== transaction.amount.currency) return 'currency_mismatch'
  if (transfer.amount.amount !== transaction.amount.amount) return 'amount_mismatch'
  const amount = ilpAmountOf(transfer.amount)
  if (!amount.ok || amount.value !== decoded.amountMinor) return 'amount_mismatch'
  if (transfer.condition !== decoded.condition) return 'condition_mismatch'
  return 'matches'
}

// ---------------------------------------------------------------------------------------------------
// Amounts

/**
 * Minor-unit scales where the SDK's table (its `currency.json`) differs from ISO 4217 as core/money
 * knows it: Mojaloop gives the test codes XTS and XXX four decimals, and still lists HRK, SLL and ZWL,
 * which ISO has withdrawn. Everything else is ISO's scale, which is also the SDK's.
 */
const SDK_SCALES: ReadonlyMap<string, number> = new Map([
  ['XTS', 4],
  ['XXX', 4],
  ['HRK', 2],
  ['SLL', 2],
  ['ZWL', 2],
])

export function ilpScaleOf(currency: string): number | undefined {
  return SDK_SCALES.get(currency) ?? findCurrency(currency)?.scale
}

const UINT64_MAX = 2n ** 64n - 1n
const FSPIOP_AMOUNT = /^(0|[1-9][0-9]{0,17})(?:\.([0-9]{0,3}[1-9]))?$/

/** Mojaloop amount → ILP amount: amount × 10^scale as an unsigned 64-bit integer ("99" USD → 9900n). */
export function ilpAmountOf(money: Money): Result<bigint, IlpAmountStatus> {
  const scale = ilpScaleOf(money.currency)
  if (scale === undefined) return fail('currency_unknown')
  const match = typeof money.amount === 'string' ? FSPIOP_AMOUNT.exec(money.amount) : null
  if (match === null) return fail('amount_malformed')
  const whole = match[1] ?? ''
  const fraction = match[2] ?? ''
  if (fraction.length > scale) return fail('amount_scale_exceeded')
  const amountMinor = BigInt(whole + fraction.padEnd(scale, '0'))
  return amountMinor > UINT64_MAX ? fail('amount_exceeds_ilp_maximum') : ok(amountMinor)
}

// ---------------------------------------------------------------------------------------------------
// Internals

/** FSPIOP's IlpPacket maxLength, in characters. */
const ILP_PACKET_MAX = 32_768

/**
 * FSPIOP DateTime → the packet's expiresAt. ILP writes the UTC year as four digits, so an instant whose
 * UTC year is not 1000–9999 (reachable only through an offset) cannot be encoded.
 */
function ilpExpiryOf(expiration: unknown): number | undefined {
  if (!validateFspiopSchema('DateTime', expiration).ok) return undefined
  const ms = Date.parse(expiration as string)
  const year = new Date(ms).getUTCFullYear()
  return Number.isNaN(ms) || year < 1000 || year > 9999 ? undefined : ms
}

function fulfilmentOfJson(json: string, secret: IlpSecret): string {
  return hmacOfText(Buffer.from(json, 'utf8').toString('base64'), secret)
}

/** The SDK's `_createHmac`: key = the ASCII of base64(secret), message = the ASCII of `text`. */
function hmacOfText(text: string, secret: IlpSecret): string {
  const secretBytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret)
  assert(secretBytes.length > 0, 'the ILP secret must not be empty')
  const key = secretBytes.toString('base64')
  return createHmac('sha256', Buffer.from(key, 'latin1')).update(Buffer.from(text, 'latin1')).digest('base64url')
}

function sha256Base64Url(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('base64url')
}

/**
 * The JSON the SDK hashes and carries: safe-stable-stringify's output for JSON data, i.e. JSON.stringify
 * with the keys of every object sorted by UTF-16 code units and undefined members left out.
 */
export function canonicalJson(value: unknown): string {
  // Built by appending to one string, without an array per object: it runs on every request body (hashOf).
  if (value === null) return 'null'
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'boolean') return value ? 'true' : 'false'
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null'
  if (Array.isArray(value)) {
    let text = '['
    for (let i = 0; i < value.length; i += 1) {
      const item: unknown = value[i]
      if (i > 0) text += ','
      text += item === undefined || typeof item === 'function' || typeof item === 'symbol' ? 'null' : canonicalJson(item)
    }
    return `${text}]`
  }
  assert(typeof value === 'object', `canonicalJson takes JSON data, not ${typeof value}`)
  let text = '{'
  for (const key of Object.keys(value).sort()) {
    const member = (value as Record<string, unknown>)[key]
    if (member === undefined || typeof member === 'function' || typeof member === 'symbol') continue
    if (text.length > 1) text += ','
    text += `${JSON.stringify(key)}:${canonicalJson(member)}`
  }
  return `${text}}`
}

/** The packet data as JSON text: base64url of UTF-8 JSON (the SDK), else UTF-8 JSON itself. */
function dataJson(data: Uint8Array): string | undefined {
  const text = Buffer.from(data).toString('latin1')
  const bytes = /^[A-Za-z0-9_-]+={0,2}$/.test(text) ? decodeBase64Url(text) : Buffer.from(data)
  if (bytes === undefined) return undefined
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    return undefined
  }
}

/**
 * base64url, optionally padded to a multiple of four, in its one canonical spelling: Node's decoder
 * quietly skips foreign characters and ignores stray trailing bits, so decode and re-encode must agree.
 */
function decodeBase64Url(text: string): Buffer | undefined {
  const match = /^([A-Za-z0-9_-]*)(={0,2})$/.exec(text)
  if (match === null) return undefined
  const body = match[1] ?? ''
  const padding = match[2] ?? ''
  if (body.length % 4 === 1 || (padding !== '' && (body.length + padding.length) % 4 !== 0)) return undefined
  const bytes = Buffer.from(body, 'base64url')
  return bytes.toString('base64url') === body ? bytes : undefined
}

/** FSPIOP's BinaryString32 (IlpCondition, IlpFulfilment): 43 base64url characters, exactly 32 bytes. */
function decodeBinary32(value: unknown): Buffer | undefined {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(value)) return undefined
  const bytes = decodeBase64Url(value)
  return bytes?.length === 32 ? bytes : undefined
}
