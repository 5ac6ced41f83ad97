// SPDX-License-Identifier: Apache-2.0
/**
 * ISO 8583:1987 data elements as data: one row per field, in the style of moov-io/iso8583's spec87 and
 * jPOS's ISO87 packagers (whose design we follow; no code is taken from jPOS). This is the only place
 * where field numbers appear: everywhere else a field is called by its human name (pan, stan, rrn…).
 *
 * Formats follow the 1987 layout, with reference/fspiop-and-terminals.md §8.3 for the fields our flows
 * use. A row says how the value looks, not how it is encoded: the wire variant (variants.ts) decides
 * whether digits travel as ASCII or BCD and whether prefixes are ASCII or BCD. A link whose dialect
 * differs (Postilion, Base24, a national switch) passes its own table to createIso8583Codec.
 */

/**
 * ISO 8583 character classes:
 * - `n` digits 0–9;
 * - `an` letters and digits (and the space that pads fixed `an` fields);
 * - `ans` any printable ASCII character;
 * - `ns` digits and special characters;
 * - `z` track 2/3 data: digits and the field separator `=` (some terminals send `D`);
 * - `b` raw bytes;
 * - `x+n` a sign, `C` (credit) or `D` (debit), followed by digits.
 */
export type Charset = 'n' | 'an' | 'ans' | 'ns' | 'z' | 'b' | 'x+n'

/** Fixed length, or a length prefix of 2 (LLVAR) or 3 (LLLVAR) digits. */
export type LengthPrefix = 'fixed' | 'LL' | 'LLL'

/**
 * How a shorter value fills a fixed-length field when packing: numbers are left-padded with zeros,
 * text is right-padded with spaces, bytes must be exact. Variable-length fields are never padded.
 */
export type Padding = 'left0' | 'rightSpace' | 'none'

/**
 * `pan`: masked to first 6 and last 4 digits in descriptions and logs (PCI DSS display rule);
 * `secret`: masked entirely (tracks, PIN blocks, keys, chip data, OTPs).
 */
export type Sensitivity = 'pan' | 'secret'

export interface FieldSpec<N extends string = string, C extends Charset = Charset> {
  /** Human name used in code, logs and the message model. */
  readonly name: N
  /** ISO 8583's own name of the data element. */
  readonly description: string
  readonly charset: C
  readonly prefix: LengthPrefix
  /** Digits for `n`, `z` and `x+n` (the sign not counted), characters for `an`/`ans`/`ns`, bytes for `b`. */
  readonly maxLength: number
  readonly padding: Padding
  readonly sensitive: Sensitivity | undefined
}

/** A field specification table: data element number → format. */
export type Iso8583Spec = Readonly<Record<number, FieldSpec>>

const fixed =
  <C extends Charset>(charset: C, padding: Padding) =>
  <N extends string>(name: N, maxLength: number, description: string, sensitive?: Sensitivity): FieldSpec<N, C> => ({
    name,
    description,
    charset,
    prefix: 'fixed',
    maxLength,
    padding,
    sensitive,
  })

const variable =
  <C extends Charset>(charset: C, prefix: 'LL' | 'LLL') =>
  <N extends string>(name: N, maxLength: number, description: string, sensitive?: Sensitivity): FieldSpec<N, C> => ({
    name,
    description,
    charset,
    prefix,
    maxLength,
    padding: 'none',
    sensitive,
  })

const n = fixed('n', 'left0')
const an = fixed('an', 'rightSpace')
const ans = fixed('ans', 'rightSpace')
const b = fixed('b', 'none')
const xn = fixed('x+n', 'left0')
const llnum = variable('n', 'LL')
const llns = variable('ns', 'LL')
const llz = variable('z', 'LL')
const lllz = variable('z', 'LLL')
const llan = variable('an', 'LL')
const lllan = variable('an', 'LLL')
const llans = variable('ans', 'LL')
const lllans = variable('ans', 'LLL')

export const SPEC_87 = {
  1: b('secondaryBitmap', 8, 'Bitmap, secondary'),
  2: llnum('pan', 19, 'Primary account number (PAN)', 'pan'),
  3: n('processingCode', 6, 'Processing code'),
  4: n('amountTransaction', 12, 'Amount, transaction'),
  5: n('amountSettlement', 12, 'Amount, settlement'),
  6: n('amountCardholderBilling', 12, 'Amount, cardholder billing'),
  7: n('transmissionDateTime', 10, 'Transmission date and time (MMDDhhmmss, GMT)'),
  8: n('amountCardholderBillingFee', 8, 'Amount, cardholder billing fee'),
  9: n('conversionRateSettlement', 8, 'Conversion rate, settlement'),
  10: n('conversionRateCardholderBilling', 8, 'Conversion rate, cardholder billing'),
  11: n('stan', 6, 'Systems trace audit number (STAN)'),
  12: n('localTime', 6, 'Time, local transaction (hhmmss)'),
  13: n('localDate', 4, 'Date, local transaction (MMDD)'),
  14: n('expiry', 4, 'Date, expiration (YYMM)'),
  15: n('settlementDate', 4, 'Date, settlement (MMDD)'),
  16: n('conversionDate', 4, 'Date, conversion (MMDD)'),
  17: n('captureDate', 4, 'Date, capture (MMDD)'),
  18: n('merchantType', 4, 'Merchant type (MCC)'),
  19: n('acquiringInstitutionCountryCode', 3, 'Acquiring institution country code'),
  20: n('panExtendedCountryCode', 3, 'PAN extended, country code'),
  21: n('forwardingInstitutionCountryCode', 3, 'Forwarding institution country code'),
  22: n('posEntryMode', 3, 'Point of service entry mode'),
  23: n('cardSequenceNumber', 3, 'Card sequence number'),
  24: n('networkInternationalId', 3, 'Network international identifier (NII)'),
  25: n('posConditionCode', 2, 'Point of service condition code'),
  26: n('posPinCaptureCode', 2, 'Point of service PIN capture code'),
  27: n('authIdResponseLength', 1, 'Authorization identification response length'),
  28: xn('amountTransactionFee', 8, 'Amount, transaction fee'),
  29: xn('amountSettlementFee', 8, 'Amount, settlement fee'),
  30: xn('amountTransactionProcessingFee', 8, 'Amount, transaction processing fee'),
  31: xn('amountSettlementProcessingFee', 8, 'Amount, settlement processing fee'),
  32: llnum('acquiringInstitutionId', 11, 'Acquiring institution identification code'),
  33: llnum('forwardingInstitutionId', 11, 'Forwarding institution identification code'),
  34: llns('panExtended', 28, 'Primary account number, extended', 'pan'),
  35: llz('track2', 37, 'Track 2 data', 'secret'),
  36: lllz('track3', 104, 'Track 3 data', 'secret'),
  37: an('rrn', 12, 'Retrieval reference number (RRN)'),
  38: an('authId', 6, 'Authorization identification response'),
  39: an('responseCode', 2, 'Response code'),
  40: an('serviceRestrictionCode', 3, 'Service restriction code'),
  41: ans('terminalId', 8, 'Card acceptor terminal identification'),
  42: ans('cardAcceptorId', 15, 'Card acceptor identification code'),
  43: ans('cardAcceptorNameLocation', 40, 'Card acceptor name/location'),
  44: llan('additionalResponseData', 25, 'Additional response data'),
  45: llans('track1', 76, 'Track 1 data', 'secret'),
  46: lllan('additionalDataIso', 999, 'Additional data (ISO)'),
  47: lllan('additionalDataNational', 999, 'Additional data (national)'),
  48: lllans('additionalData', 999, 'Additional data (private)'),
  49: n('currencyCode', 3, 'Currency code, transaction (ISO 4217 numeric)'),
  50: n('currencyCodeSettlement', 3, 'Currency code, settlement'),
  51: n('currencyCodeCardholderBilling', 3, 'Currency code, cardholder billing'),
  52: b('pinData', 8, 'Personal identification number (PIN) data', 'secret'),
  53: n('securityControlInfo', 16, 'Security related control information', 'secret'),
  54: lllan('additionalAmounts', 120, 'Additional amounts'),
  55: lllans('iccData', 999, 'ICC data (EMV)', 'secret'),
  56: lllans('reservedIso56', 999, 'Reserved (ISO)'),
  57: lllans('reservedNational57', 999, 'Reserved (national)'),
  58: lllans('reservedNational58', 999, 'Reserved (national)'),
  59: lllans('reservedNational59', 999, 'Reserved (national)'),
  60: lllans('reservedNational60', 999, 'Reserved (national)'),
  61: lllans('reservedPrivate61', 999, 'Reserved (private)'),
  // Kivuko's private use: the one-time password a customer types at the terminal when the link does not
  // carry it encrypted in the PIN block (pinData). It unlocks money, so it is never shown.
  62: lllans('otp', 999, 'Reserved (private): one-time password (Kivuko)', 'secret'),
  63: lllans('reservedPrivate63', 999, 'Reserved (private)'),
  64: b('mac', 8, 'Message authentication code (MAC)'),
  // The 1987 standard gives this element one byte; no message of ours sets it.
  65: b('extendedBitmap', 1, 'Bitmap, extended'),
  66: n('settlementCode', 1, 'Settlement code'),
  67: n('extendedPaymentCode', 2, 'Extended payment code'),
  68: n('receivingInstitutionCountryCode', 3, 'Receiving institution country code'),
  69: n('settlementInstitutionCountryCode', 3, 'Settlement institution country code'),
  70: n('networkManagementCode', 3, 'Network management information code'),
  71: n('messageNumber', 4, 'Message number'),
  72: n('messageNumberLast', 4, 'Message number, last'),
  73: n('actionDate', 6, 'Date, action (YYMMDD)'),
  74: n('creditsNumber', 10, 'Credits, number'),
  75: n('creditsReversalNumber', 10, 'Credits, reversal number'),
  76: n('debitsNumber', 10, 'Debits, number'),
  77: n('debitsReversalNumber', 10, 'Debits, reversal number'),
  78: n('transferNumber', 10, 'Transfer, number'),
  79: n('transferReversalNumber', 10, 'Transfer, reversal number'),
  80: n('inquiriesNumber', 10, 'Inquiries, number'),
  81: n('authorizationsNumber', 10, 'Authorizations, number'),
  82: n('creditsProcessingFeeAmount', 12, 'Credits, processing fee amount'),
  83: n('creditsTransactionFeeAmount', 12, 'Credits, transaction fee amount'),
  84: n('debitsProcessingFeeAmount', 12, 'Debits, processing fee amount'),
  85: n('debitsTransactionFeeAmount', 12, 'Debits, transaction fee amount'),
  86: n('creditsAmount', 16, 'Credits, amount'),
  87: n('creditsReversalAmount', 16, 'Credits, reversal amount'),
  88: n('debitsAmount', 16, 'Debits, amount'),
  89: n('debitsReversalAmount', 16, 'Debits, reversal amount'),
  90: n('originalDataElements', 42, 'Original data elements (MTI, STAN, transmission date and time, acquirer, forwarder)'),
  91: an('fileUpdateCode', 1, 'File update code'),
  92: an('fileSecurityCode', 2, 'File security code'),
  93: an('responseIndicator', 5, 'Response indicator'),
  94: an('serviceIndicator', 7, 'Service indicator'),
  95: an('replacementAmounts', 42, 'Replacement amounts'),
  96: b('messageSecurityCode', 8, 'Message security code', 'secret'),
  97: xn('amountNetSettlement', 16, 'Amount, net settlement'),
  98: ans('payee', 25, 'Payee'),
  99: llnum('settlementInstitutionId', 11, 'Settlement institution identification code'),
  100: llnum('receivingInstitutionId', 11, 'Receiving institution identification code'),
  101: llans('fileName', 17, 'File name'),
  102: llans('accountId1', 28, 'Account identification 1'),
  // mojaloop-adapter and contrib-pos-demo carry the OTP here in clear (reference §8.6), so it is masked.
  103: llans('accountId2', 28, 'Account identification 2', 'secret'),
  104: lllans('transactionDescription', 100, 'Transaction description'),
  105: lllans('reservedIso105', 999, 'Reserved for ISO use'),
  106: lllans('reservedIso106', 999, 'Reserved for ISO use'),
  107: lllans('reservedIso107', 999, 'Reserved for ISO use'),
  108: lllans('reservedIso108', 999, 'Reserved for ISO use'),
  109: lllans('reservedIso109', 999, 'Reserved for ISO use'),
  110: lllans('reservedIso110', 999, 'Reserved for ISO use'),
  111: lllans('reservedIso111', 999, 'Reserved for ISO use'),
  112: lllans('reservedNational112', 999, 'Reserved for national use'),
  113: lllans('reservedNational113', 999, 'Reserved for national use'),
  114: lllans('reservedNational114', 999, 'Reserved for national use'),
  115: lllans('reservedNational115', 999, 'Reserved for national use'),
  116: lllans('reservedNational116', 999, 'Reserved for national use'),
  117: lllans('reservedNational117', 999, 'Reserved for national use'),
  118: lllans('reservedNational118', 999, 'Reserved for national use'),
  119: lllans('reservedNational119', 999, 'Reserved for national use'),
  120: lllans('reservedPrivate120', 999, 'Reserved for private use'),
  121: lllans('reservedPrivate121', 999, 'Reserved for private use'),
  122: lllans('reservedPrivate122', 999, 'Reserved for private use'),
  123: lllans('posDataCode', 999, 'Reserved for private use (Postilion: POS data code)'),
  124: lllans('reservedPrivate124', 999, 'Reserved for private use'),
  125: lllans('reservedPrivate125', 999, 'Reserved for private use'),
  126: lllans('reservedPrivate126', 999, 'Reserved for private use'),
  127: lllans('reservedPrivate127', 999, 'Reserved for private use'),
  128: b('mac2', 8, 'Message authentication code (MAC), secondary'),
} as const satisfies Iso8583Spec

type Spec87Entry = (typeof SPEC_87)[keyof typeof SPEC_87]

/** Every data element's human name. The secondary bitmap is structure, not data, so it is not one. */
export type FieldName = Exclude<Spec87Entry['name'], 'secondaryBitmap'>

/** The data elements of a message, by human name: bytes for `b` fields, text for all others. */
export type Iso8583Fields = {
  [E in Spec87Entry as E['name'] extends FieldName ? E['name'] : never]?: E['charset'] extends 'b' ? Uint8Array : string
}

/** A message: its type indicator and its data elements. Bitmaps are derived from the fields present. */
export interface Iso8583Message {
  /** Message type indicator: four digits (version, class, function, origin), e.g. '0200'. */
  readonly mti: string
  readonly fields: Iso8583Fields
}

const NUMBERS_BY_NAME: ReadonlyMap<string, number> = new Map(
  Object.entries(SPEC_87)
    .filter(([, spec]) => spec.name !== 'secondaryBitmap')
    .map(([number, spec]) => [spec.name, Number(number)]),
)

/** Human name → data element number in the 1987 table. */
export const FIELD_NUMBERS: Readonly<Record<FieldName, number>> = Object.freeze(Object.fromEntries(NUMBERS_BY_NAME) as Record<FieldName, number>)

/** Data element number → human name in the 1987 table. */
export const FIELD_NAMES: ReadonlyMap<number, FieldName> = new Map(
  [...NUMBERS_BY_NAME].map(([name, number]) => [number, name as FieldName]),
)

export function fieldNumber(name: FieldName): number {
  return FIELD_NUMBERS[name]
}

/** The number of a name that may not be a field name at all (it came from outside the type system). */
export function findFieldNumber(name: string): number | undefined {
  return NUMBERS_BY_NAME.get(name)
}

export function fieldName(number: number): FieldName | undefined {
  return FIELD_NAMES.get(number)
}

/** The 1987 format of a data element, by name. */
export function fieldSpec(name: FieldName): FieldSpec {
  return (SPEC_87 as Iso8583Spec)[FIELD_NUMBERS[name]] as FieldSpec
}
