// SPDX-License-Identifier: Apache-2.0
/**
 * A DFSP's configuration: an explicit object, checked once, every problem reported at once. Nothing here
 * reads the environment; the CLI builds the input (STYLE §2.8). Secrets (the ILP secret, tokens) have no
 * defaults.
 */
import { ConfigError } from '../config/load-config.ts'
import { DEFAULT_SCHEME_MAX_MINOR, findCurrency, parseAmount } from '../core/money.ts'
import { NO_FEE, parseFeeRule, type FeeRule, type FeeRuleInput } from './fees.ts'
import { SESSIONS_RETAINED_MAX } from './retained-sessions.ts'
import { resolveOtpConfig, type OtpConfig, type OtpConfigInput } from './otp/otp.ts'

/** A customer to create on start (idempotent: an existing MSISDN or account id is left as it is). */
export interface CustomerSeed {
  readonly name: string
  readonly firstName?: string
  readonly middleName?: string
  readonly lastName?: string
  /** yyyy-MM-dd */
  readonly dateOfBirth?: string
  readonly msisdn?: string
  readonly accountId?: string
  /** Opening deposit, a decimal amount of the DFSP's currency. */
  readonly balance?: string
}

export interface DfspConfigInput {
  /** This DFSP's FspId in the scheme (FSPIOP-Source of everything it sends). */
  readonly dfspId: string
  /** The one currency of its wallets, ISO 4217. */
  readonly currency: string
  /** The switch's FSPIOP base URL, e.g. http://127.0.0.1:4000 (the SDK's peerEndpoint). */
  readonly switchUrl: string
  /** Sent as `Authorization: Bearer <token>` on every request and callback to the switch. */
  readonly switchToken?: string
  /** When set, inbound FSPIOP requests must carry `Authorization: Bearer <inboundToken>` (else 401). */
  readonly inboundToken?: string
  /** The payee's HMAC secret for fulfilments (reference §5.3); keep it stable, or quoted transfers fail. */
  readonly ilpSecret: string
  /** How this DFSP answers POST /transfers as payee: COMMITTED (credit at once) or RESERVED (credit on PATCH). */
  readonly payeeTransferState?: 'COMMITTED' | 'RESERVED'
  /**
   * payee: charged for receiving (payeeFspFee) · payer: charged to a sending customer · withdrawal: charged
   * to a customer for a payee-initiated WITHDRAWAL (ATM or agent cash-out) instead of `payer`.
   */
  readonly fees?: { readonly payee?: FeeRuleInput; readonly payer?: FeeRuleInput; readonly withdrawal?: FeeRuleInput }
  /** The payer DFSP's OTPs for payee-initiated payments (reference §7); without it such requests are rejected. */
  readonly otp?: OtpConfigInput
  readonly timeouts?: {
    /** How long POST /requestToPay and its follow-ups wait for the payer FSP's next message. */
    readonly requestToPayMs?: number
    /** How long the outbound API waits for each callback. */
    readonly partyMs?: number
    readonly quoteMs?: number
    readonly transferMs?: number
    readonly participantMs?: number
    /** One HTTP exchange with the switch. */
    readonly httpMs?: number
  }
  /** How long a quote this DFSP gives stays valid. */
  readonly quoteExpiryMs?: number
  /** The expiration this DFSP puts on the transfers it sends. */
  readonly transferExpiryMs?: number
  /** After a transfer's expiration, how long to wait for the switch's word before asking it (GET /transfers). */
  readonly expiryGraceMs?: number
  /** After a payer transfer's expiration, when to release the hold even without the switch's word. */
  readonly abandonAfterMs?: number
  readonly sweepIntervalMs?: number
  /** Attempts per callback to the switch (network errors and 5xx are retried with backoff). */
  readonly callbackAttemptsMax?: number
  /** Payee- and payer-side transaction-request sessions kept in memory after they settle, at most (each side). */
  readonly requestSessionsMax?: number
  readonly customers?: readonly CustomerSeed[]
  /**
   * 'auto' (the default): register every customer's party ids with the switch's oracle when started, and
   * each new customer's when created. 'manual': only when asked (Dfsp.registerParties, POST /registrations).
   */
  readonly oracleRegistration?: 'auto' | 'manual'
  /** Where startDfsp listens; port 0 picks a free port. */
  readonly listen?: { readonly host?: string; readonly fspiopPort?: number; readonly apiPort?: number }
  /** The scheme maximum per operation, in minor units of the currency. */
  readonly schemeMaxMinor?: bigint
}

export interface DfspConfig {
  readonly dfspId: string
  readonly currency: string
  readonly switchUrl: string
  readonly switchToken: string | undefined
  readonly inboundToken: string | undefined
  readonly ilpSecret: string
  readonly payeeTransferState: 'COMMITTED' | 'RESERVED'
  readonly fees: { readonly payee: FeeRule; readonly payer: FeeRule; readonly withdrawal: FeeRule }
  readonly otp: OtpConfig | undefined
  readonly timeouts: {
    readonly partyMs: number
    readonly quoteMs: number
    readonly transferMs: number
    readonly participantMs: number
    readonly httpMs: number
    readonly requestToPayMs: number
  }
  readonly quoteExpiryMs: number
  readonly transferExpiryMs: number
  readonly expiryGraceMs: number
  readonly abandonAfterMs: number
  readonly sweepIntervalMs: number
  readonly callbackAttemptsMax: number
  readonly requestSessionsMax: number
  readonly customers: readonly CustomerSeed[]
  readonly oracleRegistration: 'auto' | 'manual'
  readonly listen: { readonly host: string; readonly fspiopPort: number; readonly apiPort: number }
  readonly schemeMaxMinor: bigint
}

export const DFSP_DEFAULTS = {
  payeeTransferState: 'COMMITTED',
  timeouts: { partyMs: 10_000, quoteMs: 10_000, transferMs: 30_000, participantMs: 10_000, httpMs: 5_000, requestToPayMs: 30_000 },
  quoteExpiryMs: 60_000,
  transferExpiryMs: 60_000,
  // Mojaloop's switch scans for expired transfers every 15 s; its word comes within that.
  expiryGraceMs: 15_000,
  abandonAfterMs: 300_000,
  sweepIntervalMs: 1_000,
  callbackAttemptsMax: 5,
  requestSessionsMax: SESSIONS_RETAINED_MAX,
  oracleRegistration: 'auto',
  listen: { host: '127.0.0.1', fspiopPort: 0, apiPort: 0 },
} as const

/** Input → checked, frozen configuration with defaults; throws ConfigError listing every problem. */
export function resolveDfspConfig(input: DfspConfigInput): DfspConfig {
  const problems: string[] = []
  const name = `dfsp ${JSON.stringify(input.dfspId)}`
  const need = (ok: boolean, message: string): void => {
    if (!ok) problems.push(`${name}: ${message}`)
  }
  need(typeof input.dfspId === 'string' && [...input.dfspId].length >= 1 && [...input.dfspId].length <= 32, 'dfspId must be an FspId of 1 to 32 characters')
  need(findCurrency(input.currency) !== undefined, `currency "${input.currency}" is not an ISO 4217 code`)
  need(isHttpUrl(input.switchUrl), `switchUrl "${input.switchUrl}" must be an http(s) URL`)
  need(typeof input.ilpSecret === 'string' && input.ilpSecret.length >= 16, 'ilpSecret must be at least 16 characters')
  need(input.switchToken === undefined || /^[\x21-\x7e]{1,512}$/.test(input.switchToken), 'switchToken must be 1 to 512 printable characters')
  need(input.inboundToken === undefined || /^[\x21-\x7e]{1,512}$/.test(input.inboundToken), 'inboundToken must be 1 to 512 printable characters')
  const payeeTransferState = input.payeeTransferState ?? DFSP_DEFAULTS.payeeTransferState
  need(payeeTransferState === 'COMMITTED' || payeeTransferState === 'RESERVED', 'payeeTransferState must be COMMITTED or RESERVED')
  const currencyKnown = findCurrency(input.currency) !== undefined
  const fees = {
    payee: input.fees?.payee === undefined || !currencyKnown ? NO_FEE : parseFeeRule(input.fees.payee, input.currency, `${name}: fees.payee`, problems),
    payer: input.fees?.payer === undefined || !currencyKnown ? NO_FEE : parseFeeRule(input.fees.payer, input.currency, `${name}: fees.payer`, problems),
    withdrawal: NO_FEE,
  }
  fees.withdrawal =
    input.fees?.withdrawal === undefined || !currencyKnown ? fees.payer : parseFeeRule(input.fees.withdrawal, input.currency, `${name}: fees.withdrawal`, problems)
  let otp: OtpConfig | undefined
  if (input.otp !== undefined) {
    try {
      otp = resolveOtpConfig(input.otp)
    } catch (error) {
      if (error instanceof ConfigError) problems.push(...error.problems.map((problem) => `${name}: ${problem}`))
      else throw error
    }
  }
  const count = (value: number | undefined, fallback: number, field: string, min: number, max: number): number => {
    const n = value ?? fallback
    need(Number.isInteger(n) && n >= min && n <= max, `${field} must be a whole number from ${min} to ${max}`)
    return n
  }
  const ms = (value: number | undefined, fallback: number, field: string, min: number, max: number): number => {
    const n = value ?? fallback
    need(Number.isInteger(n) && n >= min && n <= max, `${field} must be a whole number of ms from ${min} to ${max}`)
    return n
  }
  const t = input.timeouts ?? {}
  const timeouts = {
    partyMs: ms(t.partyMs, DFSP_DEFAULTS.timeouts.partyMs, 'timeouts.partyMs', 10, 600_000),
    quoteMs: ms(t.quoteMs, DFSP_DEFAULTS.timeouts.quoteMs, 'timeouts.quoteMs', 10, 600_000),
    transferMs: ms(t.transferMs, DFSP_DEFAULTS.timeouts.transferMs, 'timeouts.transferMs', 10, 600_000),
    participantMs: ms(t.participantMs, DFSP_DEFAULTS.timeouts.participantMs, 'timeouts.participantMs', 10, 600_000),
    httpMs: ms(t.httpMs, DFSP_DEFAULTS.timeouts.httpMs, 'timeouts.httpMs', 10, 600_000),
    requestToPayMs: ms(t.requestToPayMs, DFSP_DEFAULTS.timeouts.requestToPayMs, 'timeouts.requestToPayMs', 10, 600_000),
  }
  const listen = {
    host: input.listen?.host ?? DFSP_DEFAULTS.listen.host,
    fspiopPort: ms(input.listen?.fspiopPort, DFSP_DEFAULTS.listen.fspiopPort, 'listen.fspiopPort', 0, 65_535),
    apiPort: ms(input.listen?.apiPort, DFSP_DEFAULTS.listen.apiPort, 'listen.apiPort', 0, 65_535),
  }
  const customers = input.customers ?? []
  for (const [index, seed] of customers.entries()) {
    need(seed.msisdn !== undefined || seed.accountId !== undefined, `customers[${index}] needs an msisdn or an accountId`)
    if (seed.balance !== undefined && currencyKnown) {
      need(parseAmount(seed.balance, input.currency, { grammar: 'decimal' }).ok, `customers[${index}].balance "${seed.balance}" is not a valid amount`)
    }
  }
  const oracleRegistration = input.oracleRegistration ?? DFSP_DEFAULTS.oracleRegistration
  need(oracleRegistration === 'auto' || oracleRegistration === 'manual', 'oracleRegistration must be auto or manual')
  const schemeMaxMinor = input.schemeMaxMinor ?? DEFAULT_SCHEME_MAX_MINOR
  need(schemeMaxMinor > 0n && schemeMaxMinor <= DEFAULT_SCHEME_MAX_MINOR * 1_000n, 'schemeMaxMinor must be positive and fit 64-bit counters')
  const config: DfspConfig = {
    dfspId: input.dfspId,
    currency: input.currency,
    switchUrl: typeof input.switchUrl === 'string' ? input.switchUrl.replace(/\/+$/, '') : '',
    switchToken: input.switchToken,
    inboundToken: input.inboundToken,
    ilpSecret: input.ilpSecret,
    payeeTransferState,
    fees,
    otp,
    timeouts,
    quoteExpiryMs: ms(input.quoteExpiryMs, DFSP_DEFAULTS.quoteExpiryMs, 'quoteExpiryMs', 1_000, 86_400_000),
    transferExpiryMs: ms(input.transferExpiryMs, DFSP_DEFAULTS.transferExpiryMs, 'transferExpiryMs', 1_000, 86_400_000),
    expiryGraceMs: ms(input.expiryGraceMs, DFSP_DEFAULTS.expiryGraceMs, 'expiryGraceMs', 0, 3_600_000),
    abandonAfterMs: ms(input.abandonAfterMs, DFSP_DEFAULTS.abandonAfterMs, 'abandonAfterMs', 0, 86_400_000),
    sweepIntervalMs: ms(input.sweepIntervalMs, DFSP_DEFAULTS.sweepIntervalMs, 'sweepIntervalMs', 10, 600_000),
    callbackAttemptsMax: ms(input.callbackAttemptsMax, DFSP_DEFAULTS.callbackAttemptsMax, 'callbackAttemptsMax', 1, 20),
    requestSessionsMax: count(input.requestSessionsMax, DFSP_DEFAULTS.requestSessionsMax, 'requestSessionsMax', 1, 10_000_000),
    customers,
    oracleRegistration,
    listen,
    schemeMaxMinor,
  }
  need(config.abandonAfterMs >= config.expiryGraceMs, 'abandonAfterMs must not be shorter than expiryGraceMs')
  if (problems.length > 0) throw new ConfigError(problems)
  return Object.freeze(config)
}

function isHttpUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false
  try {
    const url = new URL(value)
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.search === '' && url.hash === ''
  } catch {
    return false
  }
}
