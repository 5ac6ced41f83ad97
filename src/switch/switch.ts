// SPDX-License-Identifier: Apache-2.0
/**
 * The switch: routes FSPIOP messages between participants through its built-in oracle or the external
 * oracles registered for a party id type (ALS's /oracles; oracle/oracle.ts), keeps quotes and
 * transfers with duplicate checks, and reserves, commits and releases payer positions on the ledger.
 * Every message it sends goes through the outbox inside the same database transaction as the state change
 * that causes it, so nothing is lost or sent for a change that did not happen. The HTTP edge validates
 * headers, authentication and body schemas before anything here runs.
 */
import { createHash, type KeyObject } from 'node:crypto'
import type { Clock } from '../core/clock.ts'
import { ConflictError, HubError, NotFoundError, ValidationError } from '../core/errors.ts'
import type { ErrorCode } from '../core/error-catalog.ts'
import { findCurrency, formatAmount, parseAmount } from '../core/money.ts'
import {
  buildFspiopHeaders,
  canonicalJson,
  errorInformationFor,
  parseErrorInformation,
  parseVerificationKey,
  relayableErrorInformation,
  signFspiop,
  validateFulfilment,
  type ErrorInformationObject,
  type FspiopHeaders,
  type FspiopResource,
  type HttpMethod,
} from '../fspiop/index.ts'
import type { Ledger, TransferOutcome } from '../ledger/ledger.ts'
import type { SqlClient, SqlExecutor } from '../store/ports.ts'
import * as oracleRepo from '../store/switch/oracle-repo.ts'
import * as repo from '../store/switch/switch-repo.ts'
import { hubAccountId, participantAccountId } from './accounts.ts'
import { isCallableUrl, isEndpointType, messageUrl, type EndpointType } from './endpoints.ts'
import { createFetchOracleExchange } from './oracle/http-exchange.ts'
import { ParticipantCache } from './participant-cache.ts'
import {
  chooseOracle,
  lookupAnswer,
  ORACLE_ID_TYPES,
  oracleBatchUrl,
  oracleParticipantUrl,
  partyListOf,
  writeAnswer,
  type OracleExchange,
  type OracleFailure,
  type OracleIdType,
  type OracleParty,
  type OracleRecord,
  type OracleReply,
} from './oracle/oracle.ts'
import { nextTransferState, type AbortReason, type TransferState } from './transfers/transfer-state.ts'

/** What the switch needs from the outbox: enqueue inside a transaction, then a nudge after commit. */
export interface MessageQueue {
  enqueue(
    tx: SqlExecutor,
    message: { destination: string; method: HttpMethod; url: string; headers: Record<string, string>; body: string | null; correlation: string; informs?: boolean },
  ): Promise<string>
  wake(): void
}

/** What the switch tells settlement when a transfer commits (inside the commit's transaction). */
export interface CommitRecorder {
  recordCommitted(
    tx: SqlExecutor,
    commit: { transferId: string; payerFsp: string; payeeFsp: string; currency: string; amountMinor: bigint; committedAtMs: number },
  ): Promise<unknown>
}


/** The FSPIOP-Source the switch writes its own messages as, unless told otherwise. */
export const DEFAULT_HUB_NAME = 'switch'

export interface SwitchOptions {
  readonly store: SqlClient
  readonly ledger: Ledger
  readonly queue: MessageQueue
  readonly clock: Clock
  readonly settlement?: CommitRecorder
  /** FSPIOP-Source of the messages the switch writes itself (Mojaloop: "switch"). */
  readonly hubName?: string
  /** How far past a transfer's expiration the ledger releases a reservation by itself, if the switch is down. */
  readonly ledgerExpiryGraceMs?: number
  /** How far in the future a payee's completedTimestamp may be (clock skew). */
  readonly clockSkewMs?: number
  readonly allowOnUsTransfers?: boolean
  /** The hub's JWS signing key: when set, the messages the switch writes itself carry FSPIOP-Signature. */
  readonly signingKey?: KeyObject
  /** How the switch talks to external oracles; by default HTTP with a 5 s deadline. */
  readonly oracleExchange?: OracleExchange
  /**
   * How long participants, endpoints and tokens read for messages are trusted before they are read again
   * (participant-cache.ts). Default: 1 s where other processes may write the store (PostgreSQL), so their
   * admin changes reach this process within it; forever on SQLite, whose only writer is this process.
   */
  readonly participantCacheTtlMs?: number
}

/** Default bound on how long another process's participant change may go unseen (PostgreSQL). */
export const SHARED_PARTICIPANT_CACHE_TTL_MS = 1_000

/** An oracle as the admin API receives it (ALS's OracleInfo). */
export interface OracleInput {
  readonly oracleIdType: string
  readonly endpoint: { readonly value: string; readonly endpointType: string }
  readonly currency?: string | undefined
  readonly isDefault?: boolean | undefined
}

/** How long a participant's verification key is trusted from cache: a key changed by another process sharing the database takes effect within it. */
const VERIFICATION_KEY_TTL_MS = 5_000
/** Likewise for the oracle registry, read on every look-up. */
const ORACLE_REGISTRY_TTL_MS = 5_000

/** An incoming request or callback, already checked at the edge. */
export interface Inbound {
  readonly method: HttpMethod
  /** The path from the resource on, e.g. `/parties/MSISDN/256700000001`. */
  readonly path: string
  readonly headers: FspiopHeaders
  /** The headers as received (lower-case names), for relaying them unchanged. */
  readonly raw: Readonly<Record<string, string | string[] | undefined>>
  readonly body: unknown
  /** The body exactly as received, relayed as is; absent when the message was built in process. */
  readonly rawBody?: string
}

export interface PartyPath {
  readonly partyIdType: string
  readonly partyIdentifier: string
  readonly partySubIdOrType?: string | undefined
}

/** Headers a relay passes on as they came, so the DFSPs' end-to-end signatures still verify. */
const RELAYED_HEADERS = ['content-type', 'accept', 'date', 'fspiop-source', 'fspiop-destination', 'fspiop-signature', 'fspiop-uri', 'fspiop-http-method', 'fspiop-encryption', 'traceparent', 'tracestate']

const LIQUIDITY = 'LIQUIDITY'
const POSITION = 'POSITION'

export class Switch {
  readonly #store: SqlClient
  readonly #ledger: Ledger
  readonly #queue: MessageQueue
  readonly #clock: Clock
  readonly #settlement: CommitRecorder | undefined
  readonly #hubName: string
  readonly #graceMs: number
  readonly #skewMs: number
  readonly #onUs: boolean
  readonly #signingKey: KeyObject | undefined
  readonly #verificationKeys = new Map<string, { readonly key: KeyObject | undefined; readonly readAtMs: number }>()
  readonly #oracleExchange: OracleExchange
  #oracleCache: { readonly oracles: readonly OracleRecord[]; readonly readAtMs: number } | undefined
  readonly #oracleWork = new Set<Promise<void>>()
  readonly #participants: ParticipantCache

  constructor(options: SwitchOptions) {
    this.#store = options.store
    this.#ledger = options.ledger
    this.#queue = options.queue
    this.#clock = options.clock
    this.#settlement = options.settlement
    this.#hubName = options.hubName ?? DEFAULT_HUB_NAME
    this.#graceMs = options.ledgerExpiryGraceMs ?? 1_000
    this.#skewMs = options.clockSkewMs ?? 5_000
    this.#onUs = options.allowOnUsTransfers ?? false
    this.#signingKey = options.signingKey
    this.#oracleExchange = options.oracleExchange ?? createFetchOracleExchange()
    this.#participants = new ParticipantCache({
      ttlMs: options.participantCacheTtlMs ?? (options.store.sharedWriters ? SHARED_PARTICIPANT_CACHE_TTL_MS : Number.POSITIVE_INFINITY),
    })
  }

  get hubName(): string {
    return this.#hubName
  }

  // ------------------------------------------------------------------------------------------------
  // Participants (admin)

  /** Creates a participant with an account pair per currency; idempotent for the same name and currency. */
  async createParticipant(name: string, currency: string): Promise<'created' | 'exists'> {
    const nowMs = this.#clock.nowMs()
    const created = await this.#participants.writing(() =>
      this.#store.transaction(async (tx) => {
        const participantCreated = await repo.insertParticipant(tx, name, nowMs)
        const currencyAdded = await repo.addParticipantCurrency(tx, name, currency, nowMs)
        return participantCreated || currencyAdded
      }),
    )
    await this.#ensureAccounts(name, currency)
    return created ? 'created' : 'exists'
  }

  async #ensureAccounts(name: string, currency: string): Promise<void> {
    const statuses = await this.#ledger.createAccounts([
      { id: participantAccountId(name, currency, POSITION), currency, code: POSITION, debitsLimitMinor: 0n },
      { id: participantAccountId(name, currency, LIQUIDITY), currency, code: LIQUIDITY, debitsLimitMinor: 0n },
      { id: hubAccountId(currency, 'HUB_RECONCILIATION'), currency, code: 'HUB_RECONCILIATION' },
      { id: hubAccountId(currency, 'HUB_MULTILATERAL_SETTLEMENT'), currency, code: 'HUB_MULTILATERAL_SETTLEMENT' },
    ])
    // Accounts created before keep their limits (exists_with_different_limits): the NDC may have changed since.
    const bad = statuses.filter((s) => s !== 'created' && s !== 'exists' && s !== 'exists_with_different_limits')
    if (bad.length > 0) throw new ValidationError(`could not open ledger accounts: ${bad.join(', ')}`, { name, currency })
  }

  async participant(name: string): Promise<repo.ParticipantRecord> {
    const found = await repo.findParticipant(this.#store, name)
    if (found === undefined) throw new NotFoundError('ID_NOT_FOUND', `participant ${name} not found`, { name })
    return found
  }

  async participantNames(): Promise<string[]> {
    return repo.listParticipantNames(this.#store)
  }

  async setParticipantActive(name: string, isActive: boolean): Promise<void> {
    await this.participant(name)
    await this.#participants.writing(() => this.#store.transaction((tx) => repo.setParticipantActive(tx, name, isActive)))
  }

  async setCurrencyActive(name: string, currency: string, isActive: boolean): Promise<void> {
    const changed = await this.#participants.writing(() => this.#store.transaction((tx) => repo.setCurrencyActive(tx, name, currency, isActive)))
    if (changed === 0) throw new NotFoundError('ID_NOT_FOUND', `participant ${name} has no ${currency} account`, { name, currency })
  }

  async setEndpoint(name: string, type: string, value: string): Promise<void> {
    if (!isEndpointType(type)) throw new ValidationError(`unknown endpoint type ${type}`, { type })
    if (this.isHub(name)) {
      // The hub operator has no FSPIOP endpoints, only the addresses its notices go to; its row appears with the first.
      if (!type.endsWith('_EMAIL')) throw new ValidationError(`the hub takes e-mail endpoints only, not ${type}`, { type })
      await this.#participants.writing(() =>
        this.#store.transaction(async (tx) => {
          await repo.insertParticipant(tx, name, this.#clock.nowMs())
          await repo.setEndpoint(tx, name, type, value)
        }),
      )
      return
    }
    await this.participant(name)
    await this.#participants.writing(() => this.#store.transaction((tx) => repo.setEndpoint(tx, name, type, value)))
  }

  /** Whether `name` is the hub operator: "Hub" in Mojaloop's scripts (any case), or the hub's FSPIOP name. */
  isHub(name: string): boolean {
    return name.toLowerCase() === 'hub' || name === this.#hubName
  }

  /** Opens one of the hub's accounts in a currency, as Mojaloop's hub setup does; 'exists' when already open. */
  async openHubAccount(type: string, currency: string): Promise<'created' | 'exists'> {
    if (type !== 'HUB_RECONCILIATION' && type !== 'HUB_MULTILATERAL_SETTLEMENT') throw new ValidationError(`hub accounts are HUB_RECONCILIATION or HUB_MULTILATERAL_SETTLEMENT, not ${type}`, { type })
    const [status] = await this.#ledger.createAccounts([{ id: hubAccountId(currency, type), currency, code: type }])
    if (status === 'created') return 'created'
    if (status === 'exists' || status === 'exists_with_different_limits') return 'exists'
    throw new ValidationError(`cannot open ${type} in ${currency}: ${status}`, { type, currency })
  }

  async endpoints(name: string): Promise<Map<string, string>> {
    await this.participant(name)
    return repo.endpointsOf(this.#store, name)
  }

  /** Issues a new API token for a participant: returned once, stored only as its hash. */
  async issueToken(name: string, token: string): Promise<void> {
    await this.participant(name)
    await this.#participants.writing(() => this.#store.transaction((tx) => repo.setParticipantTokenHash(tx, name, tokenHash(token))))
  }

  /** The participant a bearer token belongs to, if any. */
  async authenticate(token: string): Promise<string | undefined> {
    return this.#participants.participantByTokenHash(this.#store, tokenHash(token))
  }

  /** Registers the key (PEM) a participant's FSPIOP-Signatures are verified with; undefined removes it. */
  async setJwsKey(name: string, publicKeyPem: string | undefined): Promise<void> {
    await this.participant(name)
    if (publicKeyPem !== undefined) {
      try {
        parseVerificationKey(publicKeyPem)
      } catch (error) {
        throw new ValidationError(`publicKey: ${(error as Error).message}`, { name })
      }
    }
    await this.#store.transaction((tx) => repo.setParticipantJwsKey(tx, name, publicKeyPem ?? null))
    this.#verificationKeys.delete(name)
  }

  async jwsKey(name: string): Promise<string | undefined> {
    await this.participant(name)
    return repo.participantJwsKey(this.#store, name)
  }

  /** The key to verify `name`'s FSPIOP-Signature with, if it registered one. */
  async verificationKeyOf(name: string): Promise<KeyObject | undefined> {
    const nowMs = this.#clock.nowMs()
    const cached = this.#verificationKeys.get(name)
    if (cached !== undefined && nowMs - cached.readAtMs < VERIFICATION_KEY_TTL_MS) return cached.key
    const pem = await repo.participantJwsKey(this.#store, name)
    const key = pem === undefined ? undefined : parseVerificationKey(pem)
    this.#verificationKeys.set(name, { key, readAtMs: nowMs })
    return key
  }

  /** Sets the net debit cap: the debits limit of the participant's POSITION account. */
  async setNetDebitCap(name: string, currency: string, ndcMinor: bigint): Promise<void> {
    await this.#requireCurrency(name, currency)
    const status = await this.#ledger.setLimits({ accountId: participantAccountId(name, currency, POSITION), debitsLimitMinor: ndcMinor, creditsLimitMinor: null })
    if (status === 'exceeds_credits') throw new ConflictError(`the position of ${name} in ${currency} already exceeds ${formatAmount(ndcMinor, currency)}`, { name, currency })
    if (status !== 'updated') throw new ValidationError(`cannot set the net debit cap: ${status}`, { name, currency })
  }

  /** Funds in: liquidity deposited at the settlement bank, recorded against the hub's reconciliation account. */
  async recordFundsIn(name: string, currency: string, amountMinor: bigint, transferId: string, reference: string | undefined): Promise<TransferOutcome> {
    await this.#requireCurrency(name, currency)
    return this.#ledger.createTransfer({
      id: `fundsin:${transferId}`,
      type: 'posted',
      debitAccountId: hubAccountId(currency, 'HUB_RECONCILIATION'),
      creditAccountId: participantAccountId(name, currency, LIQUIDITY),
      amountMinor,
      currency,
      ...(reference === undefined ? {} : { reference: reference.slice(0, 128) }),
    })
  }

  /** Funds out, first phase: the amount is reserved from the participant's liquidity until committed or aborted. */
  async reserveFundsOut(name: string, currency: string, amountMinor: bigint, transferId: string, reference: string | undefined): Promise<TransferOutcome> {
    await this.#requireCurrency(name, currency)
    return this.#ledger.createTransfer({
      id: `fundsout:${transferId}`,
      type: 'pending',
      debitAccountId: participantAccountId(name, currency, LIQUIDITY),
      creditAccountId: hubAccountId(currency, 'HUB_RECONCILIATION'),
      amountMinor,
      currency,
      ...(reference === undefined ? {} : { reference: reference.slice(0, 128) }),
    })
  }

  async completeFundsOut(transferId: string, action: 'commit' | 'abort'): Promise<TransferOutcome> {
    return this.#ledger.createTransfer({
      id: `fundsout:${transferId}:${action}`,
      type: action === 'commit' ? 'post_pending' : 'void_pending',
      pendingId: `fundsout:${transferId}`,
    })
  }

  /** Position, reserved amount, liquidity and NDC per currency, as decimal strings. */
  async positions(name: string): Promise<{ currency: string; position: string; reserved: string; liquidity: string; netDebitCap: string | null; isActive: boolean }[]> {
    const participant = await this.participant(name)
    const result = []
    for (const { currency, isActive } of participant.currencies) {
      const [position, liquidity] = await this.#ledger.lookupAccounts([participantAccountId(name, currency, POSITION), participantAccountId(name, currency, LIQUIDITY)])
      if (position === undefined || liquidity === undefined) continue
      const net = position.debitsPostedMinor - position.creditsPostedMinor
      const deposited = liquidity.creditsPostedMinor - liquidity.debitsPostedMinor + net
      result.push({
        currency,
        position: signed(net, currency),
        reserved: formatAmount(position.debitsPendingMinor, currency),
        liquidity: signed(deposited, currency),
        netDebitCap: position.debitsLimitMinor === null ? null : formatAmount(position.debitsLimitMinor, currency),
        isActive,
      })
    }
    return result
  }

  async #requireCurrency(name: string, currency: string): Promise<void> {
    const participant = await this.participant(name)
    if (!participant.currencies.some((c) => c.currency === currency)) {
      throw new NotFoundError('ID_NOT_FOUND', `participant ${name} has no ${currency} account`, { name, currency })
    }
  }

  // ------------------------------------------------------------------------------------------------
  // Oracle registry (admin): external oracles in the shapes of Mojaloop's ALS admin API

  /** The registered oracles, optionally only those of a party id type and/or currency. */
  async oracles(filter: { type?: string | undefined; currency?: string | undefined } = {}): Promise<OracleRecord[]> {
    return oracleRepo.listOracles(this.#store, filter)
  }

  /** Registers an external oracle; ALS refuses a second one for the same party id type and currency. */
  async registerOracle(input: OracleInput): Promise<OracleRecord> {
    const fields = oracleFields(input, undefined)
    const nowMs = this.#clock.nowMs()
    try {
      return await this.#store.transaction(async (tx) => {
        if ((await oracleRepo.findMatchingOracle(tx, fields)) !== undefined) throw duplicateOracle()
        return oracleRepo.insertOracle(tx, fields, nowMs)
      })
    } catch (error) {
      // Two registrations at once: the unique index refused the second; say so as the check above does.
      if (!(error instanceof HubError) && (await oracleRepo.findMatchingOracle(this.#store, fields)) !== undefined) throw duplicateOracle()
      throw error
    } finally {
      this.#oracleCache = undefined
    }
  }

  /**
   * Changes an oracle, as ALS's PUT /oracles/{ID}: type and endpoint are required; a currency or isDefault
   * left out keeps its value. Unlike ALS, the oracle does not count as its own duplicate, so an endpoint
   * can be changed in place, and isDefault can be set back to false.
   */
  async updateOracle(oracleId: number, input: OracleInput): Promise<void> {
    try {
      await this.#store.transaction(async (tx) => {
        const current = await oracleRepo.findOracle(tx, oracleId)
        // ALS's answer for an unknown oracle id (ADD_PARTY_INFO_ERROR), kept for scripts that expect it.
        if (current === undefined) throw new HubError('ADD_PARTY_INFO_ERROR', 'Oracle not found', { oracleId })
        const fields = oracleFields(input, current)
        const match = await oracleRepo.findMatchingOracle(tx, fields)
        if (match !== undefined && match.oracleId !== oracleId) throw duplicateOracle()
        await oracleRepo.updateOracle(tx, oracleId, fields)
      })
    } finally {
      this.#oracleCache = undefined
    }
  }

  /** Removes an oracle; its type falls back to the built-in table when it was the last. Idempotent, as in ALS. */
  async removeOracle(oracleId: number): Promise<void> {
    await this.#store.transaction((tx) => oracleRepo.deleteOracle(tx, oracleId))
    this.#oracleCache = undefined
  }

  /** The oracle that answers for a party id type and currency, or undefined for the built-in table. */
  async #oracleFor(partyIdType: string, currency: string | undefined): Promise<OracleRecord | undefined> {
    return chooseOracle(await this.#oracleRegistry(), partyIdType, currency)
  }

  async #oracleRegistry(): Promise<readonly OracleRecord[]> {
    const nowMs = this.#clock.nowMs()
    if (this.#oracleCache !== undefined && nowMs - this.#oracleCache.readAtMs < ORACLE_REGISTRY_TTL_MS) return this.#oracleCache.oracles
    const oracles = await oracleRepo.listOracles(this.#store)
    this.#oracleCache = { oracles, readAtMs: nowMs }
    return oracles
  }

  /** One request to an oracle's API on behalf of `msg`'s sender, with the headers ALS sends. */
  async #askOracle(oracle: OracleRecord, msg: Inbound, method: 'GET' | 'POST' | 'DELETE', url: string, body: unknown): Promise<OracleReply> {
    const headers: Record<string, string> = {
      accept: 'application/vnd.interoperability.participants+json;version=1',
      'content-type': 'application/vnd.interoperability.participants+json;version=1.1',
      date: new Date(this.#clock.nowMs()).toUTCString(),
      'fspiop-source': msg.headers.source,
    }
    const traceparent = msg.raw.traceparent
    if (typeof traceparent === 'string') headers.traceparent = traceparent
    return this.#oracleExchange({ method, url, headers, body: body === undefined ? null : JSON.stringify(body) })
  }

  /**
   * Work that waits on an oracle runs after the request is answered (202): a request path never waits on
   * another party's HTTP. It is not durable: if the process stops first, the requester's own timeout and
   * resend recover it, as with Mojaloop's ALS. close() waits for what is under way.
   */
  #afterAnswer(work: () => Promise<void>): void {
    const task: Promise<void> = work()
      .catch((error: unknown) => {
        process.emitWarning(`oracle request failed: ${error instanceof Error ? error.message : String(error)}`, { code: 'KIVUKO_ORACLE' })
      })
      .finally(() => this.#oracleWork.delete(task))
    this.#oracleWork.add(task)
  }

  /** Resolves once the oracle exchanges under way have ended and their messages are in the outbox. */
  async drain(): Promise<void> {
    while (this.#oracleWork.size > 0) await Promise.allSettled([...this.#oracleWork])
  }

  // ------------------------------------------------------------------------------------------------
  // Oracle: /participants

  /** GET, POST or DELETE /participants/{Type}/{ID}[/{SubId}]; `currency` is GET's and DELETE's query filter. */
  async participantsRequest(msg: Inbound, party: PartyPath, currency?: string): Promise<void> {
    const wanted = msg.method === 'POST' ? (msg.body as { currency?: string }).currency : currency
    const oracle = await this.#oracleFor(party.partyIdType, wanted)
    if (oracle === undefined) return this.#participantsBuiltIn(msg, party)
    this.#afterAnswer(() => this.#participantsViaOracle(msg, party, oracle, wanted))
  }

  async #participantsBuiltIn(msg: Inbound, party: PartyPath): Promise<void> {
    const source = msg.headers.source
    const nowMs = this.#clock.nowMs()
    const path = partyPathText('participants', party)
    await this.#inTransaction(async (tx) => {
      if (msg.method === 'GET') {
        const found = await repo.lookupParty(tx, party)
        if (found === undefined) return this.#sendError(tx, source, 'participants', path, party, 'PARTY_NOT_FOUND', 'Party not found')
        return this.#sendOwn(tx, source, 'participants', 'PUT', path, { fspId: found.fspId }, party)
      }
      if (msg.method === 'POST') {
        const body = msg.body as { fspId: string; currency?: string }
        if (!(await this.#mayRegister(tx, msg, party, body.fspId))) return
        await repo.registerParty(tx, party, body.fspId, body.currency, nowMs)
        return this.#sendOwn(tx, source, 'participants', 'PUT', path, { fspId: body.fspId, ...(body.currency === undefined ? {} : { currency: body.currency }) }, party)
      }
      // DELETE: only the party's current FSP may remove it.
      const found = await repo.lookupParty(tx, party)
      if (found === undefined) return this.#sendError(tx, source, 'participants', path, party, 'PARTY_NOT_FOUND', 'Party not found')
      if (found.fspId !== source) return this.#sendError(tx, source, 'participants', path, party, 'PAYER_PERMISSION_ERROR', 'Only the party\'s FSP may remove it')
      await repo.removeParty(tx, party)
      return this.#sendOwn(tx, source, 'participants', 'PUT', path, {}, party)
    })
  }

  /** A participant registers only its own parties, and only while it is active. */
  async #mayRegister(tx: SqlExecutor, msg: Inbound, party: PartyPath, fspId: string): Promise<boolean> {
    const source = msg.headers.source
    const path = partyPathText('participants', party)
    const owner = (await this.#participants.participant(tx, fspId))?.record
    if (owner === undefined || !owner.isActive) {
      await this.#sendError(tx, source, 'participants', path, party, 'DESTINATION_FSP_ERROR', `FSP ${fspId} is not an active participant`)
      return false
    }
    if (fspId !== source) {
      await this.#sendError(tx, source, 'participants', path, party, 'PAYER_PERMISSION_ERROR', 'A participant registers only its own parties')
      return false
    }
    return true
  }

  /** The same requests answered by an external oracle, as ALS asks it (see oracle.ts for the error codes). */
  async #participantsViaOracle(msg: Inbound, party: PartyPath, oracle: OracleRecord, currency: string | undefined): Promise<void> {
    const source = msg.headers.source
    const path = partyPathText('participants', party)
    const sub = party.partySubIdOrType
    const failed = (failure: OracleFailure) => this.#inTransaction((tx) => this.#sendError(tx, source, 'participants', path, party, failure.code, failure.description))
    if (msg.method === 'POST') {
      const body = msg.body as { fspId: string; currency?: string }
      if (!(await this.#store.transaction((tx) => this.#mayRegister(tx, msg, party, body.fspId)))) return this.#queue.wake()
      const registration = { fspId: body.fspId, ...(body.currency === undefined ? {} : { currency: body.currency }), ...(sub === undefined ? {} : { partySubIdOrType: sub }) }
      const written = writeAnswer(await this.#askOracle(oracle, msg, 'POST', oracleParticipantUrl(oracle.endpoint, party), registration))
      if (!written.ok) return failed(written.failure)
      return this.#inTransaction((tx) => this.#sendOwn(tx, source, 'participants', 'PUT', path, { fspId: body.fspId, ...(body.currency === undefined ? {} : { currency: body.currency }) }, party))
    }
    const found = lookupAnswer(await this.#askOracle(oracle, msg, 'GET', oracleParticipantUrl(oracle.endpoint, party, { currency, partySubIdOrType: sub }), undefined))
    if (!found.ok) return failed(found.failure)
    const fspId = pickParty(found.parties, sub).fspId
    if (msg.method === 'GET') return this.#inTransaction((tx) => this.#sendOwn(tx, source, 'participants', 'PUT', path, { fspId }, party))
    // DELETE: only the party's current FSP may remove it, as with the built-in table.
    if (fspId !== source) return this.#inTransaction((tx) => this.#sendError(tx, source, 'participants', path, party, 'PAYER_PERMISSION_ERROR', 'Only the party\'s FSP may remove it'))
    const removed = writeAnswer(await this.#askOracle(oracle, msg, 'DELETE', oracleParticipantUrl(oracle.endpoint, party, { currency }), sub === undefined ? undefined : { partySubIdOrType: sub }))
    if (!removed.ok) return failed(removed.failure)
    return this.#inTransaction((tx) => this.#sendOwn(tx, source, 'participants', 'PUT', path, {}, party))
  }

  /**
   * POST /participants: each party goes to the oracle of its type (ALS's batch request per oracle) or to the
   * built-in table; one PUT /participants/{requestId} answers for all, in the request's order.
   */
  async participantsBatch(msg: Inbound): Promise<void> {
    const body = msg.body as { requestId: string; partyList: BatchParty[]; currency?: string }
    const source = msg.headers.source
    const registry = await this.#oracleRegistry()
    const outcomes: (ErrorInformationObject | 'registered' | 'built-in')[] = []
    const byOracle = new Map<number, { oracle: OracleRecord; indexes: number[] }>()
    body.partyList.forEach((party, index) => {
      if ((party.fspId ?? source) !== source) {
        outcomes[index] = errorInformationFor('PAYER_PERMISSION_ERROR', 'A participant registers only its own parties')
        return
      }
      const oracle = chooseOracle(registry, party.partyIdType, body.currency)
      if (oracle === undefined) {
        outcomes[index] = 'built-in'
        return
      }
      const group = byOracle.get(oracle.oracleId) ?? { oracle, indexes: [] }
      group.indexes.push(index)
      byOracle.set(oracle.oracleId, group)
    })
    const answer = async (): Promise<void> => {
      for (const { oracle, indexes } of byOracle.values()) {
        const partyList = indexes.map((i) => ({ ...batchPartyId(body.partyList[i] as BatchParty), fspId: source }))
        const reply = await this.#askOracle(oracle, msg, 'POST', oracleBatchUrl(oracle.endpoint), { requestId: body.requestId, partyList, ...(body.currency === undefined ? {} : { currency: body.currency }) })
        const written = writeAnswer(reply)
        const refusals = written.ok && 'body' in reply ? batchRefusals(reply.body) : new Map<string, ErrorInformationObject>()
        for (const i of indexes) {
          outcomes[i] = written.ok ? (refusals.get(partyKeyText(body.partyList[i] as BatchParty)) ?? 'registered') : errorInformationFor(written.failure.code, written.failure.description)
        }
      }
      await this.#answerBatch(msg, body, outcomes)
    }
    if (byOracle.size === 0) return answer()
    this.#afterAnswer(answer)
  }

  async #answerBatch(msg: Inbound, body: { requestId: string; partyList: BatchParty[]; currency?: string }, outcomes: readonly (ErrorInformationObject | 'registered' | 'built-in')[]): Promise<void> {
    const source = msg.headers.source
    const nowMs = this.#clock.nowMs()
    await this.#inTransaction(async (tx) => {
      const partyList = []
      for (const [index, party] of body.partyList.entries()) {
        const partyId = batchPartyId(party)
        const outcome = outcomes[index]
        if (outcome === 'built-in') await repo.registerParty(tx, partyId, source, body.currency, nowMs)
        if (outcome === 'built-in' || outcome === 'registered') partyList.push({ partyId: { ...partyId, fspId: source } })
        else partyList.push({ partyId, ...(outcome as ErrorInformationObject) })
      }
      const url = await this.#url(tx, source, 'FSPIOP_CALLBACK_URL_PARTICIPANT_BATCH_PUT', { requestId: body.requestId })
      if (url === undefined) return
      await this.#enqueueOwn(tx, source, 'participants', 'PUT', url, `/participants/${body.requestId}`, { partyList, ...(body.currency === undefined ? {} : { currency: body.currency }) }, `participants/${body.requestId}`)
    })
  }

  // ------------------------------------------------------------------------------------------------
  // Parties: routed to the owning FSP through the oracle

  async getParties(msg: Inbound, party: PartyPath): Promise<void> {
    const source = msg.headers.source
    const path = partyPathText('parties', party)
    const given = msg.headers.destination
    if (given !== undefined && given !== this.#hubName) return this.#inTransaction((tx) => this.#forwardPartiesLookup(tx, msg, party, given))
    const oracle = await this.#oracleFor(party.partyIdType, undefined)
    if (oracle !== undefined) {
      this.#afterAnswer(async () => {
        const url = oracleParticipantUrl(oracle.endpoint, party, { partySubIdOrType: party.partySubIdOrType })
        const found = lookupAnswer(await this.#askOracle(oracle, msg, 'GET', url, undefined))
        await this.#inTransaction((tx) =>
          found.ok ? this.#forwardPartiesLookup(tx, msg, party, pickParty(found.parties, party.partySubIdOrType).fspId) : this.#sendError(tx, source, 'parties', path, party, found.failure.code, found.failure.description),
        )
      })
      return
    }
    await this.#inTransaction(async (tx) => {
      const found = await repo.lookupParty(tx, party)
      if (found === undefined) return this.#sendError(tx, source, 'parties', path, party, 'PARTY_NOT_FOUND', 'Party not found')
      await this.#forwardPartiesLookup(tx, msg, party, found.fspId)
    })
  }

  async #forwardPartiesLookup(tx: SqlExecutor, msg: Inbound, party: PartyPath, destination: string): Promise<void> {
    const path = partyPathText('parties', party)
    const type: EndpointType = party.partySubIdOrType === undefined ? 'FSPIOP_CALLBACK_URL_PARTIES_GET' : 'FSPIOP_CALLBACK_URL_PARTIES_SUB_ID_GET'
    const url = await this.#activeUrl(tx, destination, type, partyValues(party))
    if (url === undefined) return this.#sendError(tx, msg.headers.source, 'parties', path, party, 'DESTINATION_FSP_ERROR', `No active endpoint for ${destination}`)
    await this.#relay(tx, msg, destination, url, { 'fspiop-destination': destination }, path.slice(1))
  }

  async putParties(msg: Inbound, party: PartyPath, isError: boolean): Promise<void> {
    const suffix = isError ? '_PUT_ERROR' : '_PUT'
    const type = `FSPIOP_CALLBACK_URL_PARTIES${party.partySubIdOrType === undefined ? '' : '_SUB_ID'}${suffix}` as EndpointType
    await this.#relayCallback(msg, type, partyValues(party), partyPathText('parties', party).slice(1), 'parties', isError ? `${partyPathText('parties', party)}/error` : partyPathText('parties', party), party)
  }

  // ------------------------------------------------------------------------------------------------
  // Quotes

  async postQuote(msg: Inbound): Promise<void> {
    const body = msg.body as QuoteRequest
    const payee = body.payee.partyIdInfo
    const known = msg.headers.destination ?? payee.fspId
    const oracle = known === undefined ? await this.#oracleFor(payee.partyIdType, body.amount.currency) : undefined
    if (oracle === undefined) return this.#inTransaction((tx) => this.#routeQuote(tx, msg, known))
    // The payee's FSP is known to an external oracle only; a resend meanwhile is sorted out by #routeQuote.
    this.#afterAnswer(async () => {
      const url = oracleParticipantUrl(oracle.endpoint, payee, { currency: body.amount.currency, partySubIdOrType: payee.partySubIdOrType })
      const found = lookupAnswer(await this.#askOracle(oracle, msg, 'GET', url, undefined))
      await this.#inTransaction((tx) => this.#routeQuote(tx, msg, found.ok ? pickParty(found.parties, payee.partySubIdOrType).fspId : found.failure))
    })
  }

  /** Duplicate checks, then the quote to its payee FSP: `destination` is its name, a failed oracle look-up, or undefined to ask the built-in table. */
  async #routeQuote(tx: SqlExecutor, msg: Inbound, destination: string | OracleFailure | undefined): Promise<void> {
    const body = msg.body as QuoteRequest
    const source = msg.headers.source
    const hash = hashOf(msg.body)
    const nowMs = this.#clock.nowMs()
    const path = `/quotes/${body.quoteId}`
    const existing = await repo.findQuote(tx, body.quoteId)
    if (existing !== undefined) {
      if (existing.requestHash !== hash || source !== existing.payerFsp) return this.#sendError(tx, source, 'quotes', path, undefined, 'MODIFIED_REQUEST', 'Modified request')
      // A resend: answer again if the payee already did; otherwise the answer is on its way.
      if (existing.responseBody !== null) await this.#resendQuoteResponse(tx, existing, nowMs)
      return
    }
    if (typeof destination === 'object') return this.#sendError(tx, source, 'quotes', path, undefined, destination.code, destination.code === 'PARTY_NOT_FOUND' ? 'Payee not found' : destination.description)
    if (destination === undefined) {
      const found = await repo.lookupParty(tx, body.payee.partyIdInfo)
      if (found === undefined) return this.#sendError(tx, source, 'quotes', path, undefined, 'PARTY_NOT_FOUND', 'Payee not found')
      destination = found.fspId
    }
    const payee = (await this.#participants.participant(tx, destination))?.record
    const currency = body.amount.currency
    if (payee === undefined || !payee.isActive) return this.#sendError(tx, source, 'quotes', path, undefined, 'DESTINATION_FSP_ERROR', `Payee FSP ${destination} is not an active participant`)
    if (!payee.currencies.some((c) => c.currency === currency && c.isActive)) {
      return this.#sendError(tx, source, 'quotes', path, undefined, 'PAYEE_UNSUPPORTED_CURRENCY', `Payee FSP ${destination} has no active ${currency} account`)
    }
    const url = await this.#url(tx, destination, 'FSPIOP_CALLBACK_URL_QUOTES', {}, '/quotes')
    if (url === undefined) return this.#sendError(tx, source, 'quotes', path, undefined, 'DESTINATION_FSP_ERROR', `No endpoint for ${destination}`)
    await repo.insertQuote(tx, { quoteId: body.quoteId, payerFsp: source, payeeFsp: destination, requestHash: hash }, nowMs)
    await this.#relay(tx, msg, destination, url, { 'fspiop-destination': destination }, `quotes/${body.quoteId}`)
  }

  /**
   * The payee's answer again, exactly as it was relayed the first time: its body bytes and the headers the
   * relay forwarded (FSPIOP-Signature, Date, FSPIOP-Source, FSPIOP-URI…), so a payer that verifies the
   * payee's signature accepts it. Building fresh headers would drop the signature and break its Date and URI.
   */
  async #resendQuoteResponse(tx: SqlExecutor, quote: repo.QuoteRecord, nowMs: number): Promise<void> {
    const path = `/quotes/${quote.quoteId}${quote.responseIsError ? '/error' : ''}`
    const url = await this.#url(tx, quote.payerFsp, 'FSPIOP_CALLBACK_URL_QUOTES', {}, path)
    if (url === undefined || quote.responseBody === null) return
    // Answers kept before migration 013 have no headers; those unsigned answers get headers built here.
    const headers = quote.responseHeaders ?? buildFspiopHeaders({ resource: 'quotes', method: 'PUT', source: quote.payeeFsp, destination: quote.payerFsp, nowMs, uri: path })
    await this.#enqueueRaw(tx, quote.payerFsp, 'PUT', url, { ...headers }, quote.responseBody, `quotes/${quote.quoteId}`)
  }

  async putQuote(msg: Inbound, quoteId: string, isError: boolean): Promise<void> {
    const path = isError ? `/quotes/${quoteId}/error` : `/quotes/${quoteId}`
    // The answer is kept and relayed in one transaction: one commit, and never one without the other.
    await this.#inTransaction(async (tx) => {
      const quote = await repo.findQuote(tx, quoteId)
      // Only the payee's answer to its payer is kept for resends: that is the message the payer is owed.
      if (quote !== undefined && quote.payeeFsp === msg.headers.source && quote.payerFsp === msg.headers.destination) {
        await repo.setQuoteResponse(tx, quoteId, { body: relayBody(msg) ?? '', headers: relayedHeaders(msg, {}), isError })
      }
      await this.#relayCallbackIn(tx, msg, 'FSPIOP_CALLBACK_URL_QUOTES', {}, `quotes/${quoteId}`, 'quotes', path, undefined, path)
    })
  }

  async getQuote(msg: Inbound, quoteId: string): Promise<void> {
    const source = msg.headers.source
    const path = `/quotes/${quoteId}`
    await this.#store.transaction(async (tx) => {
      const quote = await repo.findQuote(tx, quoteId)
      const destination = msg.headers.destination ?? (quote === undefined ? undefined : quote.payerFsp === source ? quote.payeeFsp : quote.payerFsp)
      if (destination === undefined) return this.#sendError(tx, source, 'quotes', path, undefined, 'QUOTE_NOT_FOUND', 'Quote ID not found')
      const url = await this.#activeUrl(tx, destination, 'FSPIOP_CALLBACK_URL_QUOTES', {}, path)
      if (url === undefined) return this.#sendError(tx, source, 'quotes', path, undefined, 'DESTINATION_FSP_ERROR', `No endpoint for ${destination}`)
      await this.#relay(tx, msg, destination, url, { 'fspiop-destination': destination }, `quotes/${quoteId}`)
    })
    this.#queue.wake()
  }

  // ------------------------------------------------------------------------------------------------
  // Transaction requests, authorizations, transactions: relayed as they are (reference §2.3, §2.5, §2.7)

  /**
   * Relays a payee-initiated request, an authorization or a transaction enquiry to FSPIOP-Destination's
   * base URL plus the same path (query string included, which GET /authorizations needs). The switch keeps
   * no state for them: OTPs and retries live in the payer FSP. No destination endpoint is 3201 to the sender.
   */
  async relayToDestination(msg: Inbound, resource: 'transactionRequests' | 'authorizations' | 'transactions', id: string | undefined, pathWithQuery: string): Promise<void> {
    const source = msg.headers.source
    const destination = msg.headers.destination
    const errorPath = `/${resource}/${id ?? ''}`.replace(/\/$/, '')
    await this.#store.transaction(async (tx) => {
      if (destination === undefined || destination === this.#hubName) {
        return this.#sendError(tx, source, resource, errorPath, undefined, 'MISSING_ELEMENT', 'Missing mandatory element: FSPIOP-Destination')
      }
      const type = ownEndpointType(resource, false, undefined)
      const url = await this.#activeUrl(tx, destination, type, {}, pathWithQuery)
      if (url === undefined) return this.#sendError(tx, source, resource, errorPath, undefined, 'DESTINATION_FSP_ERROR', `No active endpoint for ${destination}`)
      await this.#relay(tx, msg, destination, url, {}, `${resource}/${id ?? ''}`)
    })
    this.#queue.wake()
  }

  // ------------------------------------------------------------------------------------------------
  // Transfers

  async prepareTransfer(msg: Inbound): Promise<void> {
    const body = msg.body as { transferId: string; payerFsp: string; payeeFsp: string; amount: { amount: string; currency: string }; ilpPacket: string; condition: string; expiration: string }
    const source = msg.headers.source
    const transferId = body.transferId
    const hash = hashOf(msg.body)
    const nowMs = this.#clock.nowMs()

    const existing = await repo.findTransferStatus(this.#store, transferId)
    if (existing !== undefined) return this.#prepareResent(existing, source, hash)

    const invalid = await this.#prepareProblem(body, source, nowMs)
    const parsed = parseAmount(body.amount.amount, body.amount.currency)
    const amountMinor = parsed.ok ? parsed.value : 0n
    const expiresAtMs = Date.parse(body.expiration)
    const record = {
      transferId,
      payerFsp: body.payerFsp,
      payeeFsp: body.payeeFsp,
      amountMinor,
      currency: body.amount.currency,
      ilpCondition: body.condition,
      expiresAtMs: Number.isFinite(expiresAtMs) ? expiresAtMs : nowMs,
      prepareHash: hash,
      prepareBody: JSON.stringify(msg.body),
      fulfilHash: null,
      fulfilment: null,
      payeeAskedReserved: false,
      completedAtMs: null,
      createdAtMs: nowMs,
    }
    if (invalid !== undefined) {
      await this.#storeAborted({ ...record, abortReason: 'INVALID', error: invalid }, source)
      return
    }

    // Liquidity first, then the net debit cap: the first to fail answers (4001 before 4200).
    const reservation = await this.#ledger.createTransfers([
      this.#reservation(record, LIQUIDITY, true),
      this.#reservation(record, POSITION, false),
    ])
    const [liquidity, position] = reservation
    let rejection: HubError | undefined
    if (liquidity?.status === 'exceeds_credits') rejection = new HubError('PAYER_INSUFFICIENT_LIQUIDITY', 'Payer FSP insufficient liquidity')
    else if (position?.status === 'exceeds_credits') rejection = new HubError('PAYER_LIMIT_ERROR', 'Payer limit error: net debit cap exceeded')
    else if (!reservation.every((r) => r.status === 'created' || r.status === 'exists')) {
      rejection = new ValidationError(`Generic validation error: ${reservation.map((r) => r.status).find((s) => s !== 'linked_event_failed') ?? 'ledger rejected'}`)
    }
    if (rejection !== undefined) {
      await this.#storeAborted({ ...record, abortReason: 'REJECTED', error: rejection }, source)
      return
    }

    const forwarded = await this.#store.transaction(async (tx) => {
      const url = await this.#activeUrl(tx, body.payeeFsp, 'FSPIOP_CALLBACK_URL_TRANSFER_POST', { transferId })
      if (url === undefined) return false
      await repo.insertTransfer(tx, { ...record, state: 'RESERVED', abortReason: null, errorCode: null, errorDescription: null })
      await this.#relay(tx, msg, body.payeeFsp, url, { 'fspiop-destination': body.payeeFsp }, `transfers/${transferId}`)
      return true
    })
    if (!forwarded) {
      // Nowhere to send it: the reservation is released and the payer told, before anything was stored.
      await this.#releaseReservation(transferId)
      await this.#storeAborted({ ...record, abortReason: 'ERROR', error: new HubError('DESTINATION_FSP_ERROR', `No active endpoint for ${body.payeeFsp}`) }, source)
      return
    }
    this.#queue.wake()
  }

  #reservation(record: { transferId: string; payerFsp: string; payeeFsp: string; amountMinor: bigint; currency: string; expiresAtMs: number }, type: 'LIQUIDITY' | 'POSITION', linked: boolean) {
    return {
      id: `${record.transferId}:${type === LIQUIDITY ? 'liq' : 'pos'}`,
      type: 'pending' as const,
      debitAccountId: participantAccountId(record.payerFsp, record.currency, type),
      creditAccountId: participantAccountId(record.payeeFsp, record.currency, type),
      amountMinor: record.amountMinor,
      currency: record.currency,
      // The switch expires transfers itself; the ledger's own expiry only guards against the switch being down.
      expiresAtMs: record.expiresAtMs + this.#graceMs,
      reference: record.transferId,
      linked,
    }
  }

  /** §4.2's checks after the schema: the first failure is the answer, with its reason in the description. */
  async #prepareProblem(
    body: { payerFsp: string; payeeFsp: string; amount: { amount: string; currency: string }; condition: string; expiration: string },
    source: string,
    nowMs: number,
  ): Promise<HubError | undefined> {
    if (body.payerFsp !== source) return new ValidationError('Generic validation error: FSPIOP-Source does not match payerFsp')
    const amount = parseAmount(body.amount.amount, body.amount.currency)
    if (!amount.ok) return new ValidationError(`Generic validation error: amount ${amount.status.replace(/_/g, ' ')}`)
    if (amount.value <= 0n) return new ValidationError('Generic validation error: amount must be positive')
    for (const fsp of [body.payerFsp, body.payeeFsp]) {
      const participant = (await this.#participants.participant(this.#store, fsp))?.record
      if (participant === undefined) return new HubError(fsp === body.payerFsp ? 'PAYER_FSP_NOT_FOUND' : 'PAYEE_FSP_NOT_FOUND', `Participant ${fsp} not found`)
      if (!participant.isActive) return new ValidationError(`Generic validation error: participant ${fsp} is inactive`)
      if (!participant.currencies.some((c) => c.currency === body.amount.currency && c.isActive)) {
        return new ValidationError(`Generic validation error: participant ${fsp} has no active ${body.amount.currency} position account`)
      }
    }
    if (!/^[A-Za-z0-9_-]{43}$/.test(body.condition)) return new ValidationError('Generic validation error: condition is not 32 bytes of base64url')
    const expiresAtMs = Date.parse(body.expiration)
    if (!Number.isFinite(expiresAtMs)) return new ValidationError('Generic validation error: expiration is not a date')
    if (expiresAtMs <= nowMs) return new ValidationError('Generic validation error: expiration date is in the past')
    if (body.payerFsp === body.payeeFsp && !this.#onUs) return new ValidationError('Generic validation error: payer and payee FSP are the same')
    return undefined
  }

  async #storeAborted(
    record: Omit<repo.TransferRecord, 'state' | 'abortReason' | 'errorCode' | 'errorDescription'> & { abortReason: AbortReason; error: HubError },
    source: string,
  ): Promise<void> {
    const { error, ...row } = record
    await this.#store.transaction(async (tx) => {
      // A concurrent duplicate may have stored it first; then the duplicate rules answer.
      if (await repo.transferExists(tx, row.transferId)) return
      await repo.insertTransfer(tx, { ...row, state: 'ABORTED', errorCode: error.spec.fspiop, errorDescription: error.message.slice(0, 128) })
      await this.#sendError(tx, source, 'transfers', `/transfers/${row.transferId}`, undefined, error.code, error.message)
    })
    this.#queue.wake()
  }

  /** A prepare with a known id (reference §1.7). */
  async #prepareResent(existing: repo.TransferStatus, source: string, hash: string): Promise<void> {
    const path = `/transfers/${existing.transferId}`
    await this.#store.transaction(async (tx) => {
      if (existing.prepareHash !== hash || source !== existing.payerFsp) return this.#sendError(tx, source, 'transfers', path, undefined, 'MODIFIED_REQUEST', 'Modified request')
      if (existing.state === 'RECEIVED') return
      await this.#sendTransferState(tx, existing, source)
    })
    this.#queue.wake()
  }

  async #sendTransferState(tx: SqlExecutor, t: repo.TransferStatus, to: string): Promise<void> {
    const path = `/transfers/${t.transferId}`
    if (t.state === 'ABORTED' && t.errorCode !== null) {
      const stored = { errorInformation: { errorCode: t.errorCode, errorDescription: t.errorDescription ?? 'Transfer aborted' } }
      return this.#sendErrorInformation(tx, to, 'transfers', path, undefined, stored)
    }
    const body: Record<string, string> = { transferState: t.state }
    if (t.completedAtMs !== null) body.completedTimestamp = new Date(t.completedAtMs).toISOString()
    if (t.state === 'COMMITTED' && t.fulfilment !== null) body.fulfilment = t.fulfilment
    const url = await this.#url(tx, to, 'FSPIOP_CALLBACK_URL_TRANSFER_PUT', { transferId: t.transferId })
    if (url !== undefined) await this.#enqueueOwn(tx, to, 'transfers', 'PUT', url, path, body, `transfers/${t.transferId}`)
  }

  async fulfilTransfer(msg: Inbound, transferId: string): Promise<void> {
    const body = msg.body as { fulfilment?: string; completedTimestamp?: string; transferState: string }
    const source = msg.headers.source
    const hash = hashOf(msg.body)
    const nowMs = this.#clock.nowMs()
    const path = `/transfers/${transferId}`
    const t = await repo.findTransferStatus(this.#store, transferId)
    if (t === undefined) return this.#inTransaction((tx) => this.#sendError(tx, source, 'transfers', path, undefined, 'TRANSFER_NOT_FOUND', 'Transfer ID not found'))
    if (source !== t.payeeFsp) return this.#inTransaction((tx) => this.#sendError(tx, source, 'transfers', path, undefined, 'VALIDATION', 'Generic validation error: FSPIOP-Source is not the payee'))
    if (t.fulfilHash !== null) {
      // The payee sent its fulfil again: same content gets the outcome again, other content is a modified request.
      return this.#inTransaction(async (tx) => {
        if (t.fulfilHash !== hash) return this.#sendError(tx, source, 'transfers', path, undefined, 'MODIFIED_REQUEST', 'Modified request')
        if (t.state === 'COMMITTED' && t.payeeAskedReserved) await this.#sendPatch(tx, t, 'COMMITTED')
      })
    }
    if (t.state !== 'RESERVED') {
      const expired = t.abortReason === 'EXPIRED'
      return this.#inTransaction((tx) =>
        this.#sendError(tx, source, 'transfers', path, undefined, expired ? 'TRANSFER_EXPIRED' : 'VALIDATION', expired ? 'Transfer expired' : 'Generic validation error: non-RESERVED transfer state'),
      )
    }
    const askedReserved = body.transferState === 'RESERVED'
    if (body.transferState !== 'COMMITTED' && !askedReserved) {
      return this.#inTransaction((tx) => this.#sendError(tx, source, 'transfers', path, undefined, 'VALIDATION', 'Generic validation error: transferState must be COMMITTED or RESERVED; a payee rejects with PUT /transfers/{ID}/error'))
    }
    if (nowMs >= t.expiresAtMs) return this.#expire(t.transferId)
    const completedMs = body.completedTimestamp === undefined ? nowMs : Date.parse(body.completedTimestamp)
    let problem: HubError | undefined
    if (validateFulfilment(body.fulfilment, t.ilpCondition) !== 'valid') problem = new ValidationError('Generic validation error: invalid fulfilment')
    else if (!Number.isFinite(completedMs) || completedMs > nowMs + this.#skewMs) problem = new ValidationError('Generic validation error: completedTimestamp is in the future')
    if (problem !== undefined) {
      const error = problem
      await this.#releaseReservation(t.transferId)
      await this.#store.transaction(async (tx) => {
        const moved = await this.#abort(tx, t, 'ERROR', error, askedReserved, nowMs)
        if (!moved) return
        await this.#sendError(tx, t.payerFsp, 'transfers', path, undefined, error.code, error.message)
        if (askedReserved) await this.#sendPatch(tx, { ...t, completedAtMs: nowMs }, 'ABORTED')
        else await this.#sendError(tx, t.payeeFsp, 'transfers', path, undefined, error.code, error.message)
      })
      this.#queue.wake()
      return
    }

    const posted = await this.#ledger.createTransfers([
      { id: `${t.transferId}:liq:post`, type: 'post_pending', pendingId: `${t.transferId}:liq` },
      { id: `${t.transferId}:pos:post`, type: 'post_pending', pendingId: `${t.transferId}:pos` },
    ])
    if (!posted.every((p) => p.status === 'created' || p.status === 'exists')) {
      // Only the ledger's own expiry can get here first: the transfer expired.
      return this.#expire(t.transferId)
    }
    await this.#store.transaction(async (tx) => {
      const committedAtMs = Math.min(completedMs, nowMs)
      const moved = await repo.updateTransferState(tx, {
        transferId: t.transferId,
        from: 'RESERVED',
        to: nextTransferState('RESERVED', 'commit'),
        fulfilHash: hash,
        fulfilment: body.fulfilment as string,
        payeeAskedReserved: askedReserved,
        completedAtMs: committedAtMs,
        note: 'fulfilled by the payee',
        atMs: nowMs,
      })
      if (!moved) return
      await this.#settlement?.recordCommitted(tx, { transferId: t.transferId, payerFsp: t.payerFsp, payeeFsp: t.payeeFsp, currency: t.currency, amountMinor: t.amountMinor, committedAtMs })
      const payerUrl = await this.#url(tx, t.payerFsp, 'FSPIOP_CALLBACK_URL_TRANSFER_PUT', { transferId })
      if (payerUrl !== undefined) {
        if (askedReserved) {
          await this.#enqueueOwn(tx, t.payerFsp, 'transfers', 'PUT', payerUrl, path, { fulfilment: body.fulfilment, completedTimestamp: new Date(committedAtMs).toISOString(), transferState: 'COMMITTED' }, `transfers/${transferId}`)
        } else {
          await this.#relay(tx, msg, t.payerFsp, payerUrl, {}, `transfers/${transferId}`)
        }
      }
      if (askedReserved) await this.#sendPatch(tx, { ...t, completedAtMs: committedAtMs }, 'COMMITTED')
    })
    this.#queue.wake()
  }

  async transferError(msg: Inbound, transferId: string): Promise<void> {
    const source = msg.headers.source
    const path = `/transfers/${transferId}`
    const t = await repo.findTransferStatus(this.#store, transferId)
    if (t === undefined) return this.#inTransaction((tx) => this.#sendError(tx, source, 'transfers', path, undefined, 'TRANSFER_NOT_FOUND', 'Transfer ID not found'))
    if (source !== t.payeeFsp || t.state !== 'RESERVED') return
    const parsed = parseErrorInformation(msg.body)
    const relayed: ErrorInformationObject = parsed.ok ? relayableErrorInformation(parsed.value) : errorInformationFor('VALIDATION', 'API specification undefined errorCode')
    const nowMs = this.#clock.nowMs()
    await this.#releaseReservation(transferId)
    await this.#store.transaction(async (tx) => {
      const moved = await repo.updateTransferState(tx, {
        transferId,
        from: 'RESERVED',
        to: nextTransferState('RESERVED', 'fail'),
        abortReason: 'ERROR',
        errorCode: relayed.errorInformation.errorCode,
        errorDescription: relayed.errorInformation.errorDescription,
        completedAtMs: nowMs,
        note: `payee error ${relayed.errorInformation.errorCode}`,
        atMs: nowMs,
      })
      if (!moved) return
      const url = await this.#url(tx, t.payerFsp, 'FSPIOP_CALLBACK_URL_TRANSFER_ERROR', { transferId })
      if (url === undefined) return
      if (parsed.ok && relayed.errorInformation.errorCode === parsed.value.errorInformation.errorCode) await this.#relay(tx, msg, t.payerFsp, url, {}, `transfers/${transferId}`)
      else await this.#enqueueOwn(tx, t.payerFsp, 'transfers', 'PUT', url, `${path}/error`, relayed, `transfers/${transferId}`)
    })
    this.#queue.wake()
  }

  async getTransfer(msg: Inbound, transferId: string): Promise<void> {
    const source = msg.headers.source
    const path = `/transfers/${transferId}`
    await this.#store.transaction(async (tx) => {
      const t = await repo.findTransferStatus(tx, transferId)
      if (t === undefined) return this.#sendError(tx, source, 'transfers', path, undefined, 'TRANSFER_NOT_FOUND', 'Transfer ID not found')
      if (source !== t.payerFsp && source !== t.payeeFsp) return this.#sendError(tx, source, 'transfers', path, undefined, 'CLIENT_ERROR', 'Only the payer or the payee may ask for a transfer')
      const body: Record<string, string> = { transferState: t.state }
      if (t.completedAtMs !== null) body.completedTimestamp = new Date(t.completedAtMs).toISOString()
      if (t.state === 'COMMITTED' && t.fulfilment !== null) body.fulfilment = t.fulfilment
      const url = await this.#url(tx, source, 'FSPIOP_CALLBACK_URL_TRANSFER_PUT', { transferId })
      if (url !== undefined) await this.#enqueueOwn(tx, source, 'transfers', 'PUT', url, path, body, `transfers/${transferId}`)
    })
    this.#queue.wake()
  }

  /** Aborts every transfer whose expiration has passed; 3303 to the payer and, once reserved, the payee. */
  async expireDue(limit = 500): Promise<number> {
    const due = await repo.dueTransfers(this.#store, this.#clock.nowMs(), limit)
    for (const transferId of due) await this.#expire(transferId)
    return due.length
  }

  async #expire(transferId: string): Promise<void> {
    const t = await repo.findTransferStatus(this.#store, transferId)
    if (t === undefined || (t.state !== 'RESERVED' && t.state !== 'RECEIVED')) return
    await this.#releaseReservation(transferId)
    const nowMs = this.#clock.nowMs()
    await this.#store.transaction(async (tx) => {
      const error = new HubError('TRANSFER_EXPIRED', 'Transfer expired')
      const moved = await this.#abort(tx, t, 'EXPIRED', error, t.payeeAskedReserved, nowMs)
      if (!moved) return
      const path = `/transfers/${transferId}`
      await this.#sendError(tx, t.payerFsp, 'transfers', path, undefined, 'TRANSFER_EXPIRED', 'Transfer expired')
      if (t.state === 'RESERVED') await this.#sendError(tx, t.payeeFsp, 'transfers', path, undefined, 'TRANSFER_EXPIRED', 'Transfer expired')
    })
    this.#queue.wake()
  }

  async #abort(tx: SqlExecutor, t: repo.TransferStatus, reason: AbortReason, error: HubError, askedReserved: boolean, nowMs: number): Promise<boolean> {
    const from: TransferState = t.state
    return repo.updateTransferState(tx, {
      transferId: t.transferId,
      from,
      to: nextTransferState(from, reason === 'EXPIRED' ? 'expire' : 'fail'),
      abortReason: reason,
      errorCode: error.spec.fspiop,
      errorDescription: error.message.slice(0, 128),
      payeeAskedReserved: askedReserved,
      completedAtMs: nowMs,
      note: error.message,
      atMs: nowMs,
    })
  }

  /** Voids both reservations; idempotent, and harmless where they were never made or already ended. */
  async #releaseReservation(transferId: string): Promise<void> {
    await this.#ledger.createTransfers([
      { id: `${transferId}:liq:void`, type: 'void_pending', pendingId: `${transferId}:liq` },
      { id: `${transferId}:pos:void`, type: 'void_pending', pendingId: `${transferId}:pos` },
    ])
  }

  async #sendPatch(tx: SqlExecutor, t: repo.TransferStatus, state: 'COMMITTED' | 'ABORTED'): Promise<void> {
    const url = await this.#url(tx, t.payeeFsp, 'FSPIOP_CALLBACK_URL_TRANSFER_PUT', { transferId: t.transferId })
    if (url === undefined) return
    const completedTimestamp = new Date(t.completedAtMs ?? this.#clock.nowMs()).toISOString()
    await this.#enqueueOwn(tx, t.payeeFsp, 'transfers', 'PATCH', url, `/transfers/${t.transferId}`, { completedTimestamp, transferState: state }, `transfers/${t.transferId}`)
  }

  /**
   * The outbox gave up on a message: its original sender learns it with 1001 (reference §6), unless the
   * switch wrote it itself or it was already an error callback, which nobody could be told about.
   */
  async destinationUnreachable(tx: SqlExecutor, message: { destination: string; headers: Readonly<Record<string, string>>; correlation: string; url: string }): Promise<void> {
    const source = message.headers['fspiop-source']
    if (source === undefined || source === this.#hubName || message.url.endsWith('/error')) return
    const [resource, ...rest] = message.correlation.split('/')
    if (resource !== 'parties' && resource !== 'quotes' && resource !== 'transfers' && resource !== 'participants') return
    const path = `/${message.correlation}`
    const party =
      resource === 'parties' && rest.length >= 2
        ? { partyIdType: decodeURIComponent(rest[0] as string), partyIdentifier: decodeURIComponent(rest[1] as string), ...(rest[2] === undefined ? {} : { partySubIdOrType: decodeURIComponent(rest[2]) }) }
        : undefined
    await this.#sendError(tx, source, resource, path, party, 'DESTINATION_COMMUNICATION', `Destination communication error: ${message.destination} did not answer`)
  }

  // ------------------------------------------------------------------------------------------------
  // Admin reads

  async transfer(transferId: string): Promise<{ transfer: repo.TransferRecord; history: Awaited<ReturnType<typeof repo.transferHistory>> }> {
    const transfer = await repo.findTransfer(this.#store, transferId)
    if (transfer === undefined) throw new NotFoundError('TRANSFER_NOT_FOUND', `transfer ${transferId} not found`, { transferId })
    return { transfer, history: await repo.transferHistory(this.#store, transferId) }
  }

  searchTransfers(search: repo.TransferSearch): Promise<repo.TransferRecord[]> {
    return repo.searchTransfers(this.#store, search)
  }

  // ------------------------------------------------------------------------------------------------
  // Sending

  /** Relays a callback to the FSP named by FSPIOP-Destination; an unknown or unreachable one is 3201 to the sender. */
  async #relayCallback(
    msg: Inbound,
    type: EndpointType,
    values: Readonly<Record<string, string | undefined>>,
    correlation: string,
    resource: FspiopResource,
    errorPath: string,
    party: PartyPath | undefined,
    pathAfterBase?: string,
  ): Promise<void> {
    await this.#inTransaction((tx) => this.#relayCallbackIn(tx, msg, type, values, correlation, resource, errorPath, party, pathAfterBase))
  }

  /** #relayCallback's work, in the caller's transaction. */
  async #relayCallbackIn(
    tx: SqlExecutor,
    msg: Inbound,
    type: EndpointType,
    values: Readonly<Record<string, string | undefined>>,
    correlation: string,
    resource: FspiopResource,
    errorPath: string,
    party: PartyPath | undefined,
    pathAfterBase?: string,
  ): Promise<void> {
    const destination = msg.headers.destination
    if (destination === undefined) {
      return this.#sendError(tx, msg.headers.source, resource, errorPath.replace(/\/error$/, ''), party, 'MISSING_ELEMENT', 'Missing mandatory element: FSPIOP-Destination')
    }
    const url = await this.#activeUrl(tx, destination, type, values, pathAfterBase)
    if (url === undefined) {
      return this.#sendError(tx, msg.headers.source, resource, errorPath.replace(/\/error$/, ''), party, 'DESTINATION_FSP_ERROR', `No active endpoint for ${destination}`)
    }
    await this.#relay(tx, msg, destination, url, {}, correlation)
  }

  async #relay(tx: SqlExecutor, msg: Inbound, destination: string, url: string, extra: Record<string, string>, correlation: string): Promise<void> {
    await this.#enqueueRaw(tx, destination, msg.method, url, relayedHeaders(msg, extra), relayBody(msg), correlation)
  }

  /** A message the switch writes itself: FSPIOP-Source is the hub. */
  async #sendOwn(tx: SqlExecutor, to: string, resource: FspiopResource, method: HttpMethod, path: string, body: unknown, party: PartyPath | undefined): Promise<void> {
    const type = ownEndpointType(resource, false, party)
    const url = await this.#url(tx, to, type, party === undefined ? {} : partyValues(party), isBaseUrlResource(resource) ? path : undefined)
    if (url === undefined) return
    await this.#enqueueOwn(tx, to, resource, method, url, path, body, `${resource}${path.slice(resource.length + 1)}`)
  }

  async #enqueueOwn(tx: SqlExecutor, to: string, resource: FspiopResource, method: HttpMethod, url: string, path: string, body: unknown, correlation: string): Promise<void> {
    const headers = buildFspiopHeaders({ resource, method, source: this.#hubName, destination: to, nowMs: this.#clock.nowMs(), uri: path })
    if (this.#signingKey === undefined) return this.#enqueueRaw(tx, to, method, url, headers, JSON.stringify(body), correlation)
    // Signed bodies go out canonical (sorted keys): Mojaloop's SDK validator re-serialises that way before it verifies.
    const text = canonicalJson(body)
    Object.assign(headers, await signFspiop({ method, uri: path, headers, body: text }, this.#signingKey))
    await this.#enqueueRaw(tx, to, method, url, headers, text, correlation)
  }

  async #enqueueRaw(tx: SqlExecutor, destination: string, method: HttpMethod, url: string, headers: Record<string, string>, body: string | null, correlation: string): Promise<void> {
    // Look-ups and their answers only inform: many answers about one party go to one payer side by side.
    const informs = correlation.startsWith('parties/') || correlation.startsWith('participants/')
    await this.#queue.enqueue(tx, { destination, method, url, headers, body, correlation: correlation.slice(0, 200), informs })
  }

  /** `PUT {path}/error` to `to` from the hub. A participant without an error endpoint cannot be told. */
  async #sendError(tx: SqlExecutor, to: string, resource: FspiopResource, path: string, party: PartyPath | undefined, code: ErrorCode, description: string): Promise<void> {
    await this.#sendErrorInformation(tx, to, resource, path, party, errorInformationFor(code, description))
  }

  async #sendErrorInformation(tx: SqlExecutor, to: string, resource: FspiopResource, path: string, party: PartyPath | undefined, body: ErrorInformationObject): Promise<void> {
    const type = ownEndpointType(resource, true, party)
    const values = party === undefined ? { transferId: lastSegment(path), requestId: lastSegment(path) } : partyValues(party)
    const url = await this.#url(tx, to, type, values, isBaseUrlResource(resource) ? `${path}/error` : undefined)
    if (url === undefined) return
    await this.#enqueueOwn(tx, to, resource, 'PUT', url, `${path}/error`, body, `${resource}${path.slice(resource.length + 1)}`)
  }

  async #url(tx: SqlExecutor, fsp: string, type: EndpointType, values: Readonly<Record<string, string | undefined>>, pathAfterBase?: string): Promise<string | undefined> {
    const endpoints = (await this.#participants.participant(tx, fsp))?.endpoints
    return endpoints === undefined ? undefined : messageUrl(endpoints, type, values, pathAfterBase)
  }

  /** Like #url, but only for an active participant. */
  async #activeUrl(tx: SqlExecutor, fsp: string, type: EndpointType, values: Readonly<Record<string, string | undefined>>, pathAfterBase?: string): Promise<string | undefined> {
    const participant = await this.#participants.participant(tx, fsp)
    if (participant === undefined || !participant.record.isActive) return undefined
    return messageUrl(participant.endpoints, type, values, pathAfterBase)
  }

  async #inTransaction(work: (tx: SqlExecutor) => Promise<void>): Promise<void> {
    await this.#store.transaction(work)
    this.#queue.wake()
  }
}

/** The headers a relay of `msg` forwards: the sender's own, unchanged, with `extra` on top. */
function relayedHeaders(msg: Inbound, extra: Readonly<Record<string, string>>): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const name of RELAYED_HEADERS) {
    const value = msg.raw[name]
    if (typeof value === 'string') headers[name] = value
  }
  return Object.assign(headers, extra)
}

/** The body a relay of `msg` forwards: as it came, byte for byte, so the sender's FSPIOP-Signature still verifies. */
function relayBody(msg: Inbound): string | null {
  return msg.body === undefined || msg.method === 'GET' || msg.method === 'DELETE' ? null : (msg.rawBody ?? JSON.stringify(msg.body))
}

type QuoteRequest = { quoteId: string; payee: { partyIdInfo: { partyIdType: string; partyIdentifier: string; partySubIdOrType?: string; fspId?: string } }; amount: { currency: string } }
type BatchParty = { partyIdType: string; partyIdentifier: string; partySubIdOrType?: string; fspId?: string }

/** An oracle's stored fields from the admin API's input; what the input leaves out comes from `current` (PUT). */
function oracleFields(input: OracleInput, current: OracleRecord | undefined): oracleRepo.OracleFields {
  if (!(ORACLE_ID_TYPES as readonly string[]).includes(input.oracleIdType)) {
    throw new ValidationError(`oracleIdType must be one of ${ORACLE_ID_TYPES.join(', ')}`, { oracleIdType: input.oracleIdType })
  }
  if (input.endpoint.endpointType !== 'URL') throw new ValidationError('endpoint.endpointType must be URL', { endpointType: input.endpoint.endpointType })
  // The switch calls this URL itself, so it must be one it can call (ALS stores any string).
  if (!isCallableUrl(input.endpoint.value)) throw new ValidationError('endpoint.value must be an http or https URL', { value: input.endpoint.value })
  if (input.currency !== undefined && findCurrency(input.currency) === undefined) throw new ValidationError(`currency ${input.currency} is not an ISO 4217 currency code`, { currency: input.currency })
  return {
    oracleIdType: input.oracleIdType as OracleIdType,
    endpointType: 'URL',
    endpoint: input.endpoint.value,
    currency: input.currency ?? current?.currency ?? null,
    isDefault: input.isDefault ?? current?.isDefault ?? false,
  }
}

/**
 * ALS answers a second oracle for the same party id type and currency with 2001 (HTTP 500), and Mojaloop's
 * hub setup collection accepts exactly that as "already exists"; the same answer keeps the collection green.
 */
function duplicateOracle(): HubError {
  return new HubError('INTERNAL', 'Active oracle with matching partyIdType, endpointType and currency already exists')
}

/** The entry that answers for a party: one with the same sub-id or type if given, else the first (ALS's choice). */
function pickParty(parties: readonly OracleParty[], partySubIdOrType: string | undefined): OracleParty {
  return parties.find((p) => partySubIdOrType !== undefined && p.partySubIdOrType === partySubIdOrType) ?? (parties[0] as OracleParty)
}

function batchPartyId(party: BatchParty): { partyIdType: string; partyIdentifier: string; partySubIdOrType?: string } {
  return { partyIdType: party.partyIdType, partyIdentifier: party.partyIdentifier, ...(party.partySubIdOrType === undefined ? {} : { partySubIdOrType: party.partySubIdOrType }) }
}

function partyKeyText(party: { partyIdType: string; partyIdentifier: string; partySubIdOrType?: string }): string {
  return JSON.stringify([party.partyIdType, party.partyIdentifier, party.partySubIdOrType ?? ''])
}

/** The parties an oracle's batch answer refused, with its errorInformation, by party key. */
function batchRefusals(body: string): Map<string, ErrorInformationObject> {
  const refusals = new Map<string, ErrorInformationObject>()
  for (const entry of partyListOf(body)) {
    const partyId = entry.partyId as { partyIdType?: unknown; partyIdentifier?: unknown; partySubIdOrType?: unknown } | undefined
    const parsed = parseErrorInformation({ errorInformation: entry.errorInformation })
    if (typeof partyId?.partyIdType !== 'string' || typeof partyId.partyIdentifier !== 'string' || !parsed.ok) continue
    const key = { partyIdType: partyId.partyIdType, partyIdentifier: partyId.partyIdentifier, ...(typeof partyId.partySubIdOrType === 'string' ? { partySubIdOrType: partyId.partySubIdOrType } : {}) }
    refusals.set(partyKeyText(key), relayableErrorInformation(parsed.value))
  }
  return refusals
}

function ownEndpointType(resource: FspiopResource, isError: boolean, party: PartyPath | undefined): EndpointType {
  const sub = party?.partySubIdOrType !== undefined ? '_SUB_ID' : ''
  switch (resource) {
    case 'parties':
      return `FSPIOP_CALLBACK_URL_PARTIES${sub}_PUT${isError ? '_ERROR' : ''}` as EndpointType
    case 'participants':
      return `FSPIOP_CALLBACK_URL_PARTICIPANT${sub}_PUT${isError ? '_ERROR' : ''}` as EndpointType
    case 'quotes':
      return 'FSPIOP_CALLBACK_URL_QUOTES'
    case 'transactionRequests':
    case 'transactions':
      return 'FSPIOP_CALLBACK_URL_TRX_REQ_SERVICE'
    case 'authorizations':
      return 'FSPIOP_CALLBACK_URL_AUTHORIZATIONS'
    case 'transfers':
      return isError ? 'FSPIOP_CALLBACK_URL_TRANSFER_ERROR' : 'FSPIOP_CALLBACK_URL_TRANSFER_PUT'
    default:
      throw new ValidationError(`the switch sends no ${resource} callbacks of its own`)
  }
}

/** Resources whose endpoint is a base URL that the resource path is appended to (Mojaloop's convention). */
function isBaseUrlResource(resource: FspiopResource): boolean {
  return resource === 'quotes' || resource === 'transactionRequests' || resource === 'transactions' || resource === 'authorizations'
}

function partyValues(party: PartyPath): Record<string, string | undefined> {
  return { partyIdType: party.partyIdType, partyIdentifier: party.partyIdentifier, partySubIdOrType: party.partySubIdOrType }
}

function partyPathText(resource: 'parties' | 'participants', party: PartyPath): string {
  const sub = party.partySubIdOrType === undefined ? '' : `/${encodeURIComponent(party.partySubIdOrType)}`
  return `/${resource}/${encodeURIComponent(party.partyIdType)}/${encodeURIComponent(party.partyIdentifier)}${sub}`
}

function lastSegment(path: string): string {
  return path.split('/').filter((s) => s !== '').pop() ?? ''
}

/** Duplicate checks compare a hash of the canonical (sorted-key) body, so key order does not matter (reference §1.7). */
export function hashOf(body: unknown): string {
  return createHash('sha256').update(canonicalJson(body)).digest('base64url')
}

export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex')
}

function signed(amountMinor: bigint, currency: string): string {
  return amountMinor < 0n ? `-${formatAmount(-amountMinor, currency)}` : formatAmount(amountMinor, currency)
}
