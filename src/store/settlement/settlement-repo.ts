// SPDX-License-Identifier: Apache-2.0
/**
 * Settlement's tables in the portable SQL subset, one set of statements for SQLite and PostgreSQL.
 *
 * The one dialect difference is locking. On PostgreSQL several Kivuko processes commit transfers while an
 * operator may be closing the window they land in, so a committing transaction holds the OPEN window's row
 * FOR SHARE from the moment it finds it until it commits, and the close takes it FOR UPDATE: the close
 * waits for every transfer already assigned to the window to commit, and a commit that arrives during the
 * close waits for it, then finds the window CLOSED and takes the new OPEN one. A window's content therefore
 * never changes once it is closed. (The foreign key's own KEY SHARE lock is not enough: it is taken at the
 * insert, so a close could commit between finding the window and inserting into it; the race test in
 * test/settlement fails without the FOR SHARE.) SQLite has a single writer, whose transactions are serial,
 * so the same statements need no lock.
 *
 * Every state change is a compare-and-set whose expected states come from the transition tables.
 */
import { StoreError, type Row, type SqlExecutor, type SqlValue } from '../ports.ts'
import type { FlowTotal } from '../../switch/settlement/netting.ts'
import type { CommittedTransfer, SettlementParticipant, WindowContent, WindowFilter } from '../../switch/settlement/model.ts'
import {
  isSettlementState,
  isWindowState,
  settlementStatesAllowing,
  windowStatesAllowing,
  type SettlementEvent,
  type SettlementState,
  type WindowEvent,
  type WindowState,
} from '../../switch/settlement/settlement-state.ts'

const IN_LIST_MAX = 500

export interface WindowRecord {
  readonly id: number
  readonly state: WindowState
  readonly reason: string | null
  readonly createdAtMs: number
  readonly changedAtMs: number
}

export interface SettlementRecord {
  readonly id: number
  readonly model: string
  readonly state: SettlementState
  readonly reason: string
  readonly createdAtMs: number
  readonly changedAtMs: number
}

interface WindowRow extends Row {
  id: bigint
  state: string
  reason: string | null
  created_at_ms: bigint
  changed_at_ms: bigint
}

interface SettlementRow extends Row {
  id: bigint
  model: string
  state: string
  reason: string
  created_at_ms: bigint
  changed_at_ms: bigint
}

const WINDOW_COLUMNS = 'id, state, reason, created_at_ms, changed_at_ms'
const SETTLEMENT_COLUMNS = 'id, model, state, reason, created_at_ms, changed_at_ms'

function toWindow(row: WindowRow): WindowRecord {
  if (!isWindowState(row.state)) throw new StoreError(`settlement_window ${row.id} has an unknown state ${row.state}`)
  return { id: Number(row.id), state: row.state, reason: row.reason, createdAtMs: Number(row.created_at_ms), changedAtMs: Number(row.changed_at_ms) }
}

function toSettlement(row: SettlementRow): SettlementRecord {
  if (!isSettlementState(row.state)) throw new StoreError(`settlement ${row.id} has an unknown state ${row.state}`)
  return {
    id: Number(row.id),
    model: row.model,
    state: row.state,
    reason: row.reason,
    createdAtMs: Number(row.created_at_ms),
    changedAtMs: Number(row.changed_at_ms),
  }
}

/** State names as SQL literals. They are constants of the transition tables, never input. */
function literals(states: readonly string[]): string {
  return states.map((state) => `'${state}'`).join(', ')
}

function placeholders(count: number): string {
  return Array.from({ length: count }, () => '?').join(', ')
}

function* chunks<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let start = 0; start < items.length; start += size) yield items.slice(start, start + size)
}

function lockClause(ex: SqlExecutor, mode: 'SHARE' | 'UPDATE'): string {
  return ex.dialect === 'postgres' ? ` FOR ${mode}` : ''
}

// ---- windows ------------------------------------------------------------------------------------------

/**
 * The OPEN window, if there is one. With `share`, on PostgreSQL the row stays locked FOR SHARE until the
 * transaction ends, so the window cannot close under a transfer being assigned to it. A close that commits
 * while this statement waits makes it find no row (the new window is not in its snapshot): the caller
 * then asks again.
 */
export async function findOpenWindow(tx: SqlExecutor, share: boolean): Promise<WindowRecord | undefined> {
  const [row] = await tx.query<WindowRow>(`SELECT ${WINDOW_COLUMNS} FROM settlement_window WHERE state = 'OPEN'${share ? lockClause(tx, 'SHARE') : ''}`)
  return row === undefined ? undefined : toWindow(row)
}

/** Opens a window unless one is OPEN already (the unique index decides); returns its id, or undefined. */
export async function insertOpenWindow(tx: SqlExecutor, nowMs: number, reason: string | null): Promise<number | undefined> {
  const [row] = await tx.query<{ id: bigint }>(
    `INSERT INTO settlement_window (state, reason, created_at_ms, changed_at_ms) VALUES ('OPEN', NULL, ?, ?) ON CONFLICT DO NOTHING RETURNING id`,
    [BigInt(nowMs), BigInt(nowMs)],
  )
  if (row === undefined) return undefined
  const id = Number(row.id)
  await insertWindowStateChanges(tx, [id], null, 'OPEN', reason, nowMs)
  return id
}

/** Reads windows, in id order; with `lock`, locks them FOR UPDATE on PostgreSQL (in id order, so never in a cycle). */
export async function readWindows(ex: SqlExecutor, ids: readonly number[], lock: boolean): Promise<Map<number, WindowRecord>> {
  const found = new Map<number, WindowRecord>()
  const sorted = [...new Set(ids)].sort((a, b) => a - b)
  for (const part of chunks(sorted, IN_LIST_MAX)) {
    const sql = `SELECT ${WINDOW_COLUMNS} FROM settlement_window WHERE id IN (${placeholders(part.length)}) ORDER BY id${lock ? lockClause(ex, 'UPDATE') : ''}`
    for (const row of await ex.query<WindowRow>(sql, part)) found.set(Number(row.id), toWindow(row))
  }
  return found
}

export async function listWindows(ex: SqlExecutor, filter: WindowFilter): Promise<WindowRecord[]> {
  const conditions: string[] = []
  const params: SqlValue[] = []
  if (filter.state !== undefined) {
    conditions.push('w.state = ?')
    params.push(filter.state)
  }
  if (filter.fromMs !== undefined) {
    conditions.push('w.created_at_ms >= ?')
    params.push(BigInt(filter.fromMs))
  }
  if (filter.toMs !== undefined) {
    conditions.push('w.created_at_ms <= ?')
    params.push(BigInt(filter.toMs))
  }
  if (filter.participantId !== undefined) {
    conditions.push(`(EXISTS (SELECT 1 FROM settlement_transfer t WHERE t.payer_fsp = ? AND t.window_id = w.id)
                      OR EXISTS (SELECT 1 FROM settlement_transfer t WHERE t.payee_fsp = ? AND t.window_id = w.id))`)
    params.push(filter.participantId, filter.participantId)
  }
  const where = conditions.length === 0 ? '' : ` WHERE ${conditions.join(' AND ')}`
  const rows = await ex.query<WindowRow>(`SELECT w.id, w.state, w.reason, w.created_at_ms, w.changed_at_ms FROM settlement_window w${where} ORDER BY w.id`, params)
  return rows.map(toWindow)
}

/**
 * Moves the given windows along `event`, each only if it is in a state the event leaves from; returns how
 * many moved. The caller compares that with how many it expected.
 */
export async function transitionWindows(
  tx: SqlExecutor,
  ids: readonly number[],
  event: WindowEvent,
  to: WindowState,
  reason: string | null,
  nowMs: number,
): Promise<number> {
  let moved = 0
  for (const part of chunks(ids, IN_LIST_MAX)) {
    moved += await tx.run(
      `UPDATE settlement_window SET state = ?, reason = ?, changed_at_ms = ?
        WHERE id IN (${placeholders(part.length)}) AND state IN (${literals(windowStatesAllowing(event))})`,
      [to, reason, BigInt(nowMs), ...part],
    )
  }
  return moved
}

export async function insertWindowStateChanges(
  tx: SqlExecutor,
  ids: readonly number[],
  from: WindowState | null,
  to: WindowState,
  reason: string | null,
  nowMs: number,
): Promise<void> {
  if (ids.length === 0) return
  await tx.runMany(
    'INSERT INTO settlement_window_state_change (window_id, from_state, to_state, reason, changed_at_ms) VALUES (?, ?, ?, ?, ?)',
    ids.map((id) => [id, from, to, reason, BigInt(nowMs)]),
  )
}

/** Per window, per currency: how many transfers it holds and their total. */
export async function windowContents(ex: SqlExecutor, ids: readonly number[]): Promise<Map<number, WindowContent[]>> {
  const contents = new Map<number, WindowContent[]>()
  for (const part of chunks(ids, IN_LIST_MAX)) {
    const rows = await ex.query<{ window_id: bigint; currency: string; n: bigint; total: bigint }>(
      `SELECT window_id, currency, COUNT(*) AS n, SUM(amount_minor) AS total FROM settlement_transfer
        WHERE window_id IN (${placeholders(part.length)}) GROUP BY window_id, currency`,
      part,
    )
    for (const row of rows) {
      const id = Number(row.window_id)
      const list = contents.get(id) ?? []
      list.push({ currency: row.currency, transferCount: Number(row.n), amountMinor: row.total })
      contents.set(id, list)
    }
  }
  for (const list of contents.values()) list.sort((a, b) => (a.currency < b.currency ? -1 : a.currency > b.currency ? 1 : 0))
  return contents
}

/** Per window, the settlement covering it now: the one of its settlements that was not aborted. */
export async function coveringSettlements(ex: SqlExecutor, ids: readonly number[]): Promise<Map<number, number>> {
  const covering = new Map<number, number>()
  for (const part of chunks(ids, IN_LIST_MAX)) {
    const rows = await ex.query<{ window_id: bigint; settlement_id: bigint }>(
      `SELECT m.window_id, m.settlement_id FROM settlement_window_member m JOIN settlement s ON s.id = m.settlement_id
        WHERE m.window_id IN (${placeholders(part.length)}) AND s.state <> 'ABORTED'`,
      part,
    )
    for (const row of rows) covering.set(Number(row.window_id), Number(row.settlement_id))
  }
  return covering
}

// ---- committed transfers ------------------------------------------------------------------------------

export interface RecordedTransfer extends CommittedTransfer {
  readonly windowId: number
}

export async function findRecordedTransfer(ex: SqlExecutor, transferId: string): Promise<RecordedTransfer | undefined> {
  const [row] = await ex.query<{
    transfer_id: string
    window_id: bigint
    payer_fsp: string
    payee_fsp: string
    currency: string
    amount_minor: bigint
    committed_at_ms: bigint
  }>('SELECT transfer_id, window_id, payer_fsp, payee_fsp, currency, amount_minor, committed_at_ms FROM settlement_transfer WHERE transfer_id = ?', [
    transferId,
  ])
  if (row === undefined) return undefined
  return {
    transferId: row.transfer_id,
    windowId: Number(row.window_id),
    payerFsp: row.payer_fsp,
    payeeFsp: row.payee_fsp,
    currency: row.currency,
    amountMinor: row.amount_minor,
    committedAtMs: Number(row.committed_at_ms),
  }
}

/** Writes the transfer into the window unless its id is recorded already; true when it was written. */
export async function insertRecordedTransfer(tx: SqlExecutor, transfer: CommittedTransfer, windowId: number): Promise<boolean> {
  const changed = await tx.run(
    `INSERT INTO settlement_transfer (transfer_id, window_id, payer_fsp, payee_fsp, currency, amount_minor, committed_at_ms)
     VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (transfer_id) DO NOTHING`,
    [transfer.transferId, windowId, transfer.payerFsp, transfer.payeeFsp, transfer.currency, transfer.amountMinor, BigInt(transfer.committedAtMs)],
  )
  return changed === 1
}

/** What each participant sent and received per currency over the windows' transfers. */
export async function flowTotals(ex: SqlExecutor, windowIds: readonly number[]): Promise<{ sent: FlowTotal[]; received: FlowTotal[] }> {
  const sent = new Map<string, FlowTotal>()
  const received = new Map<string, FlowTotal>()
  const add = (into: Map<string, FlowTotal>, fsp: string, currency: string, totalMinor: bigint) => {
    const key = `${fsp}\u0000${currency}`
    const before = into.get(key)
    into.set(key, { fsp, currency, totalMinor: (before?.totalMinor ?? 0n) + totalMinor })
  }
  for (const part of chunks(windowIds, IN_LIST_MAX)) {
    const list = placeholders(part.length)
    const sentRows = await ex.query<{ fsp: string; currency: string; total: bigint }>(
      `SELECT payer_fsp AS fsp, currency, SUM(amount_minor) AS total FROM settlement_transfer WHERE window_id IN (${list}) GROUP BY payer_fsp, currency`,
      part,
    )
    for (const row of sentRows) add(sent, row.fsp, row.currency, row.total)
    const receivedRows = await ex.query<{ fsp: string; currency: string; total: bigint }>(
      `SELECT payee_fsp AS fsp, currency, SUM(amount_minor) AS total FROM settlement_transfer WHERE window_id IN (${list}) GROUP BY payee_fsp, currency`,
      part,
    )
    for (const row of receivedRows) add(received, row.fsp, row.currency, row.total)
  }
  return { sent: [...sent.values()], received: [...received.values()] }
}

// ---- settlements --------------------------------------------------------------------------------------

export async function insertSettlement(tx: SqlExecutor, model: string, reason: string, state: SettlementState, nowMs: number): Promise<number> {
  const [row] = await tx.query<{ id: bigint }>(
    'INSERT INTO settlement (model, state, reason, created_at_ms, changed_at_ms) VALUES (?, ?, ?, ?, ?) RETURNING id',
    [model, state, reason, BigInt(nowMs), BigInt(nowMs)],
  )
  if (row === undefined) throw new StoreError('INSERT INTO settlement returned no id')
  const id = Number(row.id)
  await insertSettlementStateChange(tx, id, null, state, reason, nowMs)
  return id
}

export async function insertMembers(tx: SqlExecutor, settlementId: number, windowIds: readonly number[]): Promise<void> {
  await tx.runMany(
    'INSERT INTO settlement_window_member (settlement_id, window_id) VALUES (?, ?)',
    windowIds.map((id) => [settlementId, id]),
  )
}

export async function insertParticipants(tx: SqlExecutor, settlementId: number, participants: readonly SettlementParticipant[]): Promise<void> {
  if (participants.length === 0) return
  await tx.runMany(
    `INSERT INTO settlement_participant (settlement_id, fsp, currency, sent_minor, received_minor, net_minor, ledger_transfer_id)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
    participants.map((p) => [settlementId, p.fsp, p.currency, p.sentMinor, p.receivedMinor, p.netMinor, p.ledgerTransferId]),
  )
}

/** The settlement; with `lock`, locked FOR UPDATE on PostgreSQL until the transaction ends. */
export async function findSettlement(ex: SqlExecutor, id: number, lock: boolean): Promise<SettlementRecord | undefined> {
  const [row] = await ex.query<SettlementRow>(`SELECT ${SETTLEMENT_COLUMNS} FROM settlement WHERE id = ?${lock ? lockClause(ex, 'UPDATE') : ''}`, [id])
  return row === undefined ? undefined : toSettlement(row)
}

/** Compare-and-set along `event`; false when the settlement was not in a state the event leaves from. */
export async function transitionSettlement(
  tx: SqlExecutor,
  id: number,
  from: SettlementState,
  event: SettlementEvent,
  to: SettlementState,
  reason: string,
  nowMs: number,
): Promise<boolean> {
  if (!settlementStatesAllowing(event).includes(from)) return false
  const changed = await tx.run('UPDATE settlement SET state = ?, reason = ?, changed_at_ms = ? WHERE id = ? AND state = ?', [to, reason, BigInt(nowMs), id, from])
  if (changed !== 1) return false
  await insertSettlementStateChange(tx, id, from, to, reason, nowMs)
  return true
}

async function insertSettlementStateChange(
  tx: SqlExecutor,
  id: number,
  from: SettlementState | null,
  to: SettlementState,
  reason: string,
  nowMs: number,
): Promise<void> {
  await tx.run('INSERT INTO settlement_state_change (settlement_id, from_state, to_state, reason, changed_at_ms) VALUES (?, ?, ?, ?, ?)', [
    id,
    from,
    to,
    reason,
    BigInt(nowMs),
  ])
}

export async function memberWindowIds(ex: SqlExecutor, settlementId: number): Promise<number[]> {
  const rows = await ex.query<{ window_id: bigint }>('SELECT window_id FROM settlement_window_member WHERE settlement_id = ? ORDER BY window_id', [settlementId])
  return rows.map((row) => Number(row.window_id))
}

export async function settlementParticipants(ex: SqlExecutor, settlementId: number): Promise<SettlementParticipant[]> {
  const rows = await ex.query<{
    fsp: string
    currency: string
    sent_minor: bigint
    received_minor: bigint
    net_minor: bigint
    ledger_transfer_id: string | null
  }>(
    `SELECT fsp, currency, sent_minor, received_minor, net_minor, ledger_transfer_id FROM settlement_participant
      WHERE settlement_id = ?`,
    [settlementId],
  )
  const participants = rows.map((row) => ({
    fsp: row.fsp,
    currency: row.currency,
    sentMinor: row.sent_minor,
    receivedMinor: row.received_minor,
    netMinor: row.net_minor,
    ledgerTransferId: row.ledger_transfer_id,
  }))
  // Ordered here, by code points, rather than by the database's collation, which differs between adapters.
  return participants.sort((a, b) => (a.fsp !== b.fsp ? (a.fsp < b.fsp ? -1 : 1) : a.currency < b.currency ? -1 : a.currency > b.currency ? 1 : 0))
}

export interface SettlementModelRecord {
  readonly name: string
  readonly currency: string | null
  readonly requireLiquidityCheck: boolean
  readonly autoPositionReset: boolean
  readonly isActive: boolean
  readonly createdAtMs: number
}

/** Inserts a settlement model; false when one of that name exists already. */
export async function insertSettlementModel(tx: SqlExecutor, model: Omit<SettlementModelRecord, 'isActive'>): Promise<boolean> {
  if ((await tx.query('SELECT name FROM settlement_model WHERE name = ?', [model.name])).length > 0) return false
  await tx.run('INSERT INTO settlement_model (name, currency, require_liquidity_check, auto_position_reset, is_active, created_at_ms) VALUES (?, ?, ?, ?, 1, ?)', [
    model.name,
    model.currency,
    model.requireLiquidityCheck ? 1n : 0n,
    model.autoPositionReset ? 1n : 0n,
    BigInt(model.createdAtMs),
  ])
  return true
}

type ModelRow = { name: string; currency: string | null; require_liquidity_check: bigint; auto_position_reset: bigint; is_active: bigint; created_at_ms: bigint } & Row

const modelOf = (r: ModelRow): SettlementModelRecord => ({
  name: r.name,
  currency: r.currency,
  requireLiquidityCheck: r.require_liquidity_check === 1n,
  autoPositionReset: r.auto_position_reset === 1n,
  isActive: r.is_active === 1n,
  createdAtMs: Number(r.created_at_ms),
})

export async function listSettlementModels(ex: SqlExecutor, name?: string): Promise<SettlementModelRecord[]> {
  const columns = 'SELECT name, currency, require_liquidity_check, auto_position_reset, is_active, created_at_ms FROM settlement_model'
  const rows = name === undefined ? await ex.query<ModelRow>(`${columns} ORDER BY name`) : await ex.query<ModelRow>(`${columns} WHERE name = ?`, [name])
  return rows.map(modelOf)
}

export async function setSettlementModelActive(tx: SqlExecutor, name: string, isActive: boolean): Promise<number> {
  return tx.run('UPDATE settlement_model SET is_active = ? WHERE name = ?', [isActive ? 1n : 0n, name])
}
