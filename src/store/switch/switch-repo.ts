// SPDX-License-Identifier: Apache-2.0
/** The switch's tables in the portable SQL subset: participants, endpoints, the oracle, quotes, transfers. */
import type { AbortReason, TransferState } from '../../switch/transfers/transfer-state.ts'
import type { Row, SqlExecutor } from '../ports.ts'

export interface ParticipantRecord {
  readonly name: string
  readonly isActive: boolean
  readonly tokenHash: string | null
  readonly createdAtMs: number
  readonly currencies: readonly { currency: string; isActive: boolean }[]
}

export async function insertParticipant(tx: SqlExecutor, name: string, nowMs: number): Promise<boolean> {
  const existing = await tx.query('SELECT name FROM participant WHERE name = ?', [name])
  if (existing.length > 0) return false
  await tx.run('INSERT INTO participant (name, is_active, created_at_ms) VALUES (?, 1, ?)', [name, BigInt(nowMs)])
  return true
}

export async function addParticipantCurrency(tx: SqlExecutor, name: string, currency: string, nowMs: number): Promise<boolean> {
  const existing = await tx.query('SELECT name FROM participant_currency WHERE name = ? AND currency = ?', [name, currency])
  if (existing.length > 0) return false
  await tx.run('INSERT INTO participant_currency (name, currency, is_active, created_at_ms) VALUES (?, ?, 1, ?)', [name, currency, BigInt(nowMs)])
  return true
}

export async function findParticipant(tx: SqlExecutor, name: string): Promise<ParticipantRecord | undefined> {
  const [row] = await tx.query<{ name: string; is_active: bigint; token_hash: string | null; created_at_ms: bigint } & Row>(
    'SELECT name, is_active, token_hash, created_at_ms FROM participant WHERE name = ?',
    [name],
  )
  if (row === undefined) return undefined
  const currencies = await tx.query<{ currency: string; is_active: bigint } & Row>(
    'SELECT currency, is_active FROM participant_currency WHERE name = ? ORDER BY currency',
    [name],
  )
  return {
    name: row.name,
    isActive: row.is_active === 1n,
    tokenHash: row.token_hash,
    createdAtMs: Number(row.created_at_ms),
    currencies: currencies.map((c) => ({ currency: c.currency, isActive: c.is_active === 1n })),
  }
}

export async function listParticipantNames(tx: SqlExecutor): Promise<string[]> {
  return (await tx.query<{ name: string } & Row>('SELECT name FROM participant ORDER BY name')).map((r) => r.name)
}

export async function setParticipantActive(tx: SqlExecutor, name: string, isActive: boolean): Promise<void> {
  await tx.run('UPDATE participant SET is_active = ? WHERE name = ?', [isActive ? 1n : 0n, name])
}

export async function setCurrencyActive(tx: SqlExecutor, name: string, currency: string, isActive: boolean): Promise<number> {
  return tx.run('UPDATE participant_currency SET is_active = ? WHERE name = ? AND currency = ?', [isActive ? 1n : 0n, name, currency])
}

export async function setParticipantTokenHash(tx: SqlExecutor, name: string, tokenHash: string): Promise<void> {
  await tx.run('UPDATE participant SET token_hash = ? WHERE name = ?', [tokenHash, name])
}

export async function findParticipantByTokenHash(tx: SqlExecutor, tokenHash: string): Promise<string | undefined> {
  const [row] = await tx.query<{ name: string } & Row>('SELECT name FROM participant WHERE token_hash = ?', [tokenHash])
  return row?.name
}

export async function setParticipantJwsKey(tx: SqlExecutor, name: string, publicKeyPem: string | null): Promise<void> {
  await tx.run('UPDATE participant SET jws_public_key = ? WHERE name = ?', [publicKeyPem, name])
}

export async function participantJwsKey(tx: SqlExecutor, name: string): Promise<string | undefined> {
  const [row] = await tx.query<{ jws_public_key: string | null } & Row>('SELECT jws_public_key FROM participant WHERE name = ?', [name])
  return row?.jws_public_key ?? undefined
}

export async function endpointsOf(tx: SqlExecutor, name: string): Promise<Map<string, string>> {
  const rows = await tx.query<{ type: string; value: string } & Row>('SELECT type, value FROM participant_endpoint WHERE name = ?', [name])
  return new Map(rows.map((r) => [r.type, r.value]))
}

export async function setEndpoint(tx: SqlExecutor, name: string, type: string, value: string): Promise<void> {
  const changed = await tx.run('UPDATE participant_endpoint SET value = ? WHERE name = ? AND type = ?', [value, name, type])
  if (changed === 0) await tx.run('INSERT INTO participant_endpoint (name, type, value) VALUES (?, ?, ?)', [name, type, value])
}

export interface PartyKey {
  readonly partyIdType: string
  readonly partyIdentifier: string
  readonly partySubIdOrType?: string | undefined
}

export async function registerParty(tx: SqlExecutor, key: PartyKey, fspId: string, currency: string | undefined, nowMs: number): Promise<void> {
  const sub = key.partySubIdOrType ?? ''
  const changed = await tx.run(
    'UPDATE oracle_party SET fsp_id = ?, currency = ? WHERE party_id_type = ? AND party_identifier = ? AND party_sub_id = ?',
    [fspId, currency ?? null, key.partyIdType, key.partyIdentifier, sub],
  )
  if (changed === 0) {
    await tx.run(
      'INSERT INTO oracle_party (party_id_type, party_identifier, party_sub_id, fsp_id, currency, created_at_ms) VALUES (?, ?, ?, ?, ?, ?)',
      [key.partyIdType, key.partyIdentifier, sub, fspId, currency ?? null, BigInt(nowMs)],
    )
  }
}

export async function lookupParty(tx: SqlExecutor, key: PartyKey): Promise<{ fspId: string; currency: string | null } | undefined> {
  const [row] = await tx.query<{ fsp_id: string; currency: string | null } & Row>(
    'SELECT fsp_id, currency FROM oracle_party WHERE party_id_type = ? AND party_identifier = ? AND party_sub_id = ?',
    [key.partyIdType, key.partyIdentifier, key.partySubIdOrType ?? ''],
  )
  return row === undefined ? undefined : { fspId: row.fsp_id, currency: row.currency }
}

export async function removeParty(tx: SqlExecutor, key: PartyKey): Promise<number> {
  return tx.run('DELETE FROM oracle_party WHERE party_id_type = ? AND party_identifier = ? AND party_sub_id = ?', [
    key.partyIdType,
    key.partyIdentifier,
    key.partySubIdOrType ?? '',
  ])
}

export interface QuoteRecord {
  readonly quoteId: string
  readonly payerFsp: string
  readonly payeeFsp: string
  readonly requestHash: string
  /** The payee's answer as relayed, byte for byte; null until it answers. */
  readonly responseBody: string | null
  /** The headers the relay forwarded with that answer; null before it answers, and for answers kept before migration 013. */
  readonly responseHeaders: Readonly<Record<string, string>> | null
  /** Whether the answer was the payee's PUT /quotes/{ID}/error. */
  readonly responseIsError: boolean
}

interface QuoteRow extends Row {
  quote_id: string
  payer_fsp: string
  payee_fsp: string
  request_hash: string
  response_body: string | null
  response_headers: string | null
  response_is_error: bigint
}

export async function findQuote(tx: SqlExecutor, quoteId: string): Promise<QuoteRecord | undefined> {
  const [row] = await tx.query<QuoteRow>(
    'SELECT quote_id, payer_fsp, payee_fsp, request_hash, response_body, response_headers, response_is_error FROM quote WHERE quote_id = ?',
    [quoteId],
  )
  if (row === undefined) return undefined
  return {
    quoteId: row.quote_id,
    payerFsp: row.payer_fsp,
    payeeFsp: row.payee_fsp,
    requestHash: row.request_hash,
    responseBody: row.response_body,
    responseHeaders: row.response_headers === null ? null : (JSON.parse(row.response_headers) as Record<string, string>),
    responseIsError: row.response_is_error === 1n,
  }
}

export async function insertQuote(tx: SqlExecutor, quote: Pick<QuoteRecord, 'quoteId' | 'payerFsp' | 'payeeFsp' | 'requestHash'>, nowMs: number): Promise<void> {
  await tx.run('INSERT INTO quote (quote_id, payer_fsp, payee_fsp, request_hash, created_at_ms) VALUES (?, ?, ?, ?, ?)', [
    quote.quoteId,
    quote.payerFsp,
    quote.payeeFsp,
    quote.requestHash,
    BigInt(nowMs),
  ])
}

/** Keeps the payee's answer as it was relayed: body text and forwarded headers, unchanged. */
export async function setQuoteResponse(tx: SqlExecutor, quoteId: string, response: { body: string; headers: Readonly<Record<string, string>>; isError: boolean }): Promise<void> {
  await tx.run('UPDATE quote SET response_body = ?, response_headers = ?, response_is_error = ? WHERE quote_id = ?', [
    response.body,
    JSON.stringify(response.headers),
    response.isError ? 1n : 0n,
    quoteId,
  ])
}

export interface TransferRecord {
  readonly transferId: string
  readonly payerFsp: string
  readonly payeeFsp: string
  readonly amountMinor: bigint
  readonly currency: string
  readonly ilpCondition: string
  readonly expiresAtMs: number
  readonly state: TransferState
  readonly abortReason: AbortReason | null
  readonly errorCode: string | null
  readonly errorDescription: string | null
  readonly prepareHash: string
  readonly prepareBody: string
  readonly fulfilHash: string | null
  readonly fulfilment: string | null
  readonly payeeAskedReserved: boolean
  readonly completedAtMs: number | null
  readonly createdAtMs: number
}

interface StatusRow extends Row {
  transfer_id: string
  payer_fsp: string
  payee_fsp: string
  amount_minor: bigint
  currency: string
  ilp_condition: string
  expires_at_ms: bigint
  state: string
  abort_reason: string | null
  error_code: string | null
  error_description: string | null
  prepare_hash: string
  fulfil_hash: string | null
  fulfilment: string | null
  payee_asked_reserved: bigint
  completed_at_ms: bigint | null
  created_at_ms: bigint
}

interface TransferRow extends StatusRow {
  prepare_body: string
}

const TRANSFER_COLUMNS = `transfer_id, payer_fsp, payee_fsp, amount_minor, currency, ilp_condition, expires_at_ms, state, abort_reason,
  error_code, error_description, prepare_hash, prepare_body, fulfil_hash, fulfilment, payee_asked_reserved, completed_at_ms, created_at_ms`
/** All but prepare_body, the largest column, which only the admin API shows. */
const STATUS_COLUMNS = TRANSFER_COLUMNS.replace('prepare_body, ', '')

/** A transfer as the message paths need it: everything but the prepare's body. */
export type TransferStatus = Omit<TransferRecord, 'prepareBody'>

function toTransfer(row: TransferRow): TransferRecord {
  return { ...toStatus(row), prepareBody: row.prepare_body }
}

function toStatus(row: StatusRow): TransferStatus {
  return {
    transferId: row.transfer_id,
    payerFsp: row.payer_fsp,
    payeeFsp: row.payee_fsp,
    amountMinor: row.amount_minor,
    currency: row.currency,
    ilpCondition: row.ilp_condition,
    expiresAtMs: Number(row.expires_at_ms),
    state: row.state as TransferState,
    abortReason: row.abort_reason as AbortReason | null,
    errorCode: row.error_code,
    errorDescription: row.error_description,
    prepareHash: row.prepare_hash,
    fulfilHash: row.fulfil_hash,
    fulfilment: row.fulfilment,
    payeeAskedReserved: row.payee_asked_reserved === 1n,
    completedAtMs: row.completed_at_ms === null ? null : Number(row.completed_at_ms),
    createdAtMs: Number(row.created_at_ms),
  }
}

export async function findTransfer(tx: SqlExecutor, transferId: string, lock = false): Promise<TransferRecord | undefined> {
  const suffix = lock && tx.dialect === 'postgres' ? ' FOR UPDATE' : ''
  const [row] = await tx.query<TransferRow>(`SELECT ${TRANSFER_COLUMNS} FROM transfer WHERE transfer_id = ?${suffix}`, [transferId])
  return row === undefined ? undefined : toTransfer(row)
}

/** The transfer without its prepare body: what handling a message reads, at a fraction of the bytes. */
export async function findTransferStatus(tx: SqlExecutor, transferId: string): Promise<TransferStatus | undefined> {
  const [row] = await tx.query<StatusRow>(`SELECT ${STATUS_COLUMNS} FROM transfer WHERE transfer_id = ?`, [transferId])
  return row === undefined ? undefined : toStatus(row)
}

export async function transferExists(tx: SqlExecutor, transferId: string): Promise<boolean> {
  return (await tx.query('SELECT 1 AS found FROM transfer WHERE transfer_id = ?', [transferId])).length > 0
}

export async function insertTransfer(tx: SqlExecutor, t: TransferRecord): Promise<void> {
  await tx.run(
    `INSERT INTO transfer (${TRANSFER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [
      t.transferId,
      t.payerFsp,
      t.payeeFsp,
      t.amountMinor,
      t.currency,
      t.ilpCondition,
      BigInt(t.expiresAtMs),
      t.state,
      t.abortReason,
      t.errorCode,
      t.errorDescription,
      t.prepareHash,
      t.prepareBody,
      t.fulfilHash,
      t.fulfilment,
      t.payeeAskedReserved ? 1n : 0n,
      t.completedAtMs === null ? null : BigInt(t.completedAtMs),
      BigInt(t.createdAtMs),
    ],
  )
  await recordStateChange(tx, t.transferId, null, t.state, t.abortReason ?? 'prepare received', t.createdAtMs)
}

export interface StateUpdate {
  readonly transferId: string
  readonly from: TransferState
  readonly to: TransferState
  readonly abortReason?: AbortReason
  readonly errorCode?: string
  readonly errorDescription?: string
  readonly fulfilHash?: string
  readonly fulfilment?: string
  readonly payeeAskedReserved?: boolean
  readonly completedAtMs?: number
  readonly note: string
  readonly atMs: number
}

/** Compare-and-set on state: false means another writer moved the transfer first. */
export async function updateTransferState(tx: SqlExecutor, u: StateUpdate): Promise<boolean> {
  const changed = await tx.run(
    `UPDATE transfer SET state = ?, abort_reason = COALESCE(?, abort_reason), error_code = COALESCE(?, error_code),
        error_description = COALESCE(?, error_description), fulfil_hash = COALESCE(?, fulfil_hash), fulfilment = COALESCE(?, fulfilment),
        payee_asked_reserved = COALESCE(?, payee_asked_reserved), completed_at_ms = COALESCE(?, completed_at_ms)
      WHERE transfer_id = ? AND state = ?`,
    [
      u.to,
      u.abortReason ?? null,
      u.errorCode ?? null,
      u.errorDescription ?? null,
      u.fulfilHash ?? null,
      u.fulfilment ?? null,
      u.payeeAskedReserved === undefined ? null : u.payeeAskedReserved ? 1n : 0n,
      u.completedAtMs === undefined ? null : BigInt(u.completedAtMs),
      u.transferId,
      u.from,
    ],
  )
  if (changed !== 1) return false
  await recordStateChange(tx, u.transferId, u.from, u.to, u.note, u.atMs)
  return true
}

async function recordStateChange(tx: SqlExecutor, transferId: string, from: TransferState | null, to: TransferState, reason: string, atMs: number): Promise<void> {
  await tx.run('INSERT INTO transfer_state_change (transfer_id, from_state, to_state, reason, at_ms) VALUES (?, ?, ?, ?, ?)', [
    transferId,
    from,
    to,
    reason.slice(0, 256),
    BigInt(atMs),
  ])
}

export async function transferHistory(tx: SqlExecutor, transferId: string): Promise<{ from: string | null; to: string; reason: string | null; atMs: number }[]> {
  const rows = await tx.query<{ from_state: string | null; to_state: string; reason: string | null; at_ms: bigint } & Row>(
    'SELECT from_state, to_state, reason, at_ms FROM transfer_state_change WHERE transfer_id = ? ORDER BY seq',
    [transferId],
  )
  return rows.map((r) => ({ from: r.from_state, to: r.to_state, reason: r.reason, atMs: Number(r.at_ms) }))
}

export async function dueTransfers(tx: SqlExecutor, nowMs: number, limit: number): Promise<string[]> {
  const rows = await tx.query<{ transfer_id: string } & Row>(
    "SELECT transfer_id FROM transfer WHERE state IN ('RECEIVED', 'RESERVED') AND expires_at_ms <= ? ORDER BY expires_at_ms LIMIT ?",
    [BigInt(nowMs), limit],
  )
  return rows.map((r) => r.transfer_id)
}

export interface TransferSearch {
  readonly participant?: string
  readonly state?: TransferState
  readonly fromMs?: number
  readonly toMs?: number
  readonly limit: number
}

export async function searchTransfers(tx: SqlExecutor, search: TransferSearch): Promise<TransferRecord[]> {
  const where: string[] = []
  const params: (string | bigint | number)[] = []
  if (search.participant !== undefined) {
    where.push('(payer_fsp = ? OR payee_fsp = ?)')
    params.push(search.participant, search.participant)
  }
  if (search.state !== undefined) {
    where.push('state = ?')
    params.push(search.state)
  }
  if (search.fromMs !== undefined) {
    where.push('created_at_ms >= ?')
    params.push(BigInt(search.fromMs))
  }
  if (search.toMs !== undefined) {
    where.push('created_at_ms <= ?')
    params.push(BigInt(search.toMs))
  }
  const rows = await tx.query<TransferRow>(
    `SELECT ${TRANSFER_COLUMNS} FROM transfer ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at_ms DESC LIMIT ?`,
    [...params, search.limit],
  )
  return rows.map(toTransfer)
}
