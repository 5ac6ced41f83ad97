// SPDX-License-Identifier: Apache-2.0
/**
 * The ledger's tables in the portable SQL subset: the same statements run on SQLite and PostgreSQL.
 * Writes are multi-row statements whose row counts come from a fixed ladder (256, 128, … 1), so a batch
 * of any size uses a handful of cached statements instead of one per row.
 */
import { isLedgerId } from '../../core/ids.ts'
import { isJournalId, type BatchWrites } from '../../ledger/apply.ts'
import type { AccountTransfersQuery, JournalEntry } from '../../ledger/ledger.ts'
import type { Account, JournalType, PendingState, StoredTransfer, Transfer } from '../../ledger/types.ts'
import type { Row, SqlExecutor, SqlValue } from '../ports.ts'
import { DUE_EXPIRIES_SEEING_THROUGH, selectAccountSeeingThrough, STATEMENT_ACCOUNT_PREFIX } from './accounts-behind.ts'
import { netExpiries, packSqliteWrites, unpackSqliteWrites, type SqliteWrites } from './packed-writes.ts'

export type { SqliteWrites } from './packed-writes.ts'

const CHUNK_ROWS_MAX = 256
const IN_LIST_MAX = 512

const ACCOUNT_COLUMNS =
  'id, currency, code, debits_limit_minor, credits_limit_minor, debits_pending_minor, debits_posted_minor, credits_pending_minor, credits_posted_minor, created_at_ms'
/** New accounts start with no exempt debits (the column's default); reads need it. */
const ACCOUNT_READ_COLUMNS = `${ACCOUNT_COLUMNS}, debits_exempt_minor`
const TRANSFER_COLUMNS = 'id, type, debit_account_id, credit_account_id, amount_minor, currency, pending_id, expires_at_ms, reference, created_at_ms'

interface AccountRow extends Row {
  id: string
  currency: string
  code: string
  debits_limit_minor: bigint | null
  credits_limit_minor: bigint | null
  debits_pending_minor: bigint
  debits_posted_minor: bigint
  credits_pending_minor: bigint
  credits_posted_minor: bigint
  created_at_ms: bigint
  debits_exempt_minor: bigint
}

interface TransferRow extends Row {
  id: string
  type: string
  debit_account_id: string
  credit_account_id: string
  amount_minor: bigint
  currency: string
  pending_id: string | null
  expires_at_ms: bigint | null
  reference: string | null
  created_at_ms: bigint
  exempt_from_debits_limit: bigint
  resolved_by: string | null
}

const RESOLVED_STATE: Readonly<Record<string, PendingState>> = {
  post_pending: 'posted',
  void_pending: 'voided',
  expire_pending: 'expired',
}

function toAccount(row: AccountRow): Account {
  return {
    id: row.id,
    currency: row.currency,
    code: row.code,
    debitsLimitMinor: row.debits_limit_minor,
    creditsLimitMinor: row.credits_limit_minor,
    debitsPendingMinor: row.debits_pending_minor,
    debitsPostedMinor: row.debits_posted_minor,
    creditsPendingMinor: row.credits_pending_minor,
    creditsPostedMinor: row.credits_posted_minor,
    createdAtMs: Number(row.created_at_ms),
    ...(row.debits_exempt_minor > 0n ? { debitsExemptMinor: row.debits_exempt_minor } : {}),
  }
}

function toTransfer(row: TransferRow): StoredTransfer {
  const type = row.type as JournalType
  return {
    id: row.id,
    type,
    debitAccountId: row.debit_account_id,
    creditAccountId: row.credit_account_id,
    amountMinor: row.amount_minor,
    currency: row.currency,
    pendingId: row.pending_id,
    expiresAtMs: row.expires_at_ms === null ? null : Number(row.expires_at_ms),
    reference: row.reference,
    createdAtMs: Number(row.created_at_ms),
    ...(row.exempt_from_debits_limit === 1n ? { exemptFromDebitsLimit: true as const } : {}),
    pendingState: type !== 'pending' ? null : row.resolved_by === null ? 'pending' : (RESOLVED_STATE[row.resolved_by] ?? null),
  }
}

function placeholders(count: number): string {
  return Array.from({ length: count }, () => '?').join(', ')
}

function* chunks<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let start = 0; start < items.length; start += size) yield items.slice(start, start + size)
}

/** Splits n rows into ladder sizes: full chunks of CHUNK_ROWS_MAX, then powers of two. */
function* ladder<T>(rows: readonly T[]): Generator<T[]> {
  let start = 0
  while (start < rows.length) {
    const left = rows.length - start
    let size = CHUNK_ROWS_MAX
    while (size > left) size >>= 1
    yield rows.slice(start, start + size)
    start += size
  }
}

const insertTexts = new Map<string, string>()
/** The text of a multi-row INSERT, built once per table, columns and row count (a few hundred at most). */
function insertSql(table: string, columns: string, width: number, rows: number): string {
  const key = `${table}(${columns})${rows}`
  let sql = insertTexts.get(key)
  if (sql === undefined) {
    const tuple = `(${placeholders(width)})`
    sql = `INSERT INTO ${table} (${columns}) VALUES ${Array.from({ length: rows }, () => tuple).join(', ')}`
    insertTexts.set(key, sql)
  }
  return sql
}

async function insertRows(tx: SqlExecutor, table: string, columns: string, width: number, rows: readonly SqlValue[][]): Promise<void> {
  for (const part of ladder(rows)) await tx.run(insertSql(table, columns, width, part.length), part.flat())
}

const SELECT_TRANSFERS = `SELECT t.id, t.type, t.debit_account_id, t.credit_account_id, t.amount_minor, t.currency, t.pending_id, t.expires_at_ms,
       t.reference, t.created_at_ms, t.exempt_from_debits_limit, r.type AS resolved_by
  FROM ledger_transfer t LEFT JOIN ledger_transfer r ON r.pending_id = t.id`

/**
 * On SQLite a statement is a function call in process, so one cached point query per id beats building
 * IN lists; on PostgreSQL each statement is a round trip, so ids go in lists.
 */
export async function findTransfers(tx: SqlExecutor, candidates: Iterable<string>): Promise<Map<string, StoredTransfer>> {
  const found = new Map<string, StoredTransfer>()
  // Only ids that can exist are looked up: a malformed one (a NUL, say, which PostgreSQL refuses) is not found.
  const ids = [...candidates].filter(isJournalId)
  if (tx.dialect === 'sqlite') {
    for (const row of await tx.queryMany<TransferRow>(`${SELECT_TRANSFERS} WHERE t.id = ?`, ids.map((id) => [id]))) found.set(row.id, toTransfer(row))
    return found
  }
  for (const part of chunks(ids, IN_LIST_MAX)) {
    const rows = await tx.query<TransferRow>(`${SELECT_TRANSFERS} WHERE t.id IN (${placeholders(part.length)})`, part)
    for (const row of rows) found.set(row.id, toTransfer(row))
  }
  return found
}

/**
 * Reads account rows; with `lock`, takes their row locks in id order, the one order every process uses, so
 * concurrent batches wait for each other instead of deadlocking. On SQLite the rows may lag the journal
 * (accounts-behind.ts): a caller reads through this only after catching up, or for accounts it knows no
 * commit since the last catch-up has touched (the ledger's cache holds every one that was).
 */
export async function readAccounts(tx: SqlExecutor, candidates: Iterable<string>, lock: boolean): Promise<Map<string, Account>> {
  const found = new Map<string, Account>()
  const ids = [...candidates].filter(isLedgerId)
  if (tx.dialect === 'sqlite') {
    for (const row of await tx.queryMany<AccountRow>(`SELECT ${ACCOUNT_READ_COLUMNS} FROM ledger_account WHERE id = ?`, ids.map((id) => [id]))) {
      found.set(row.id, toAccount(row))
    }
    return found
  }
  const sorted = [...ids].sort()
  for (const part of chunks(sorted, IN_LIST_MAX)) {
    const suffix = lock ? ' ORDER BY id FOR UPDATE' : ''
    const rows = await tx.query<AccountRow>(`SELECT ${ACCOUNT_READ_COLUMNS} FROM ledger_account WHERE id IN (${placeholders(part.length)})${suffix}`, part)
    for (const row of rows) found.set(row.id, toAccount(row))
  }
  return found
}

function accountValues(a: Account): SqlValue[] {
  return [
    a.id,
    a.currency,
    a.code,
    a.debitsLimitMinor,
    a.creditsLimitMinor,
    a.debitsPendingMinor,
    a.debitsPostedMinor,
    a.creditsPendingMinor,
    a.creditsPostedMinor,
    BigInt(a.createdAtMs),
  ]
}

function transferValues(t: Transfer): SqlValue[] {
  return [
    t.id,
    t.type,
    t.debitAccountId,
    t.creditAccountId,
    t.amountMinor,
    t.currency,
    t.pendingId,
    t.expiresAtMs === null ? null : BigInt(t.expiresAtMs),
    t.reference,
    BigInt(t.createdAtMs),
  ]
}

const UPDATE_TUPLE =
  '(CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT))'

function splitExempt(transfers: readonly Transfer[]): [Transfer[], Transfer[]] {
  const exempt: Transfer[] = []
  const plain: Transfer[] = []
  for (const t of transfers) (t.exemptFromDebitsLimit === true ? exempt : plain).push(t)
  return [exempt, plain]
}

/** PostgreSQL: one UPDATE … FROM (VALUES …) per ladder step (SQLite: writeSqliteBatch). */
async function updateAccounts(tx: SqlExecutor, accounts: readonly Account[]): Promise<void> {
  // Sorted like the locks, so that two writers never update the same rows in opposite orders.
  const sorted = [...accounts].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  for (const part of ladder(sorted)) {
    const sql = `UPDATE ledger_account SET debits_limit_minor = v.column2, credits_limit_minor = v.column3,
        debits_pending_minor = v.column4, debits_posted_minor = v.column5, credits_pending_minor = v.column6, credits_posted_minor = v.column7,
        debits_exempt_minor = v.column8
      FROM (VALUES ${Array.from({ length: part.length }, () => UPDATE_TUPLE).join(', ')}) AS v
      WHERE ledger_account.id = v.column1`
    const params = part.flatMap((a) => [
      a.id,
      a.debitsLimitMinor,
      a.creditsLimitMinor,
      a.debitsPendingMinor,
      a.debitsPostedMinor,
      a.creditsPendingMinor,
      a.creditsPostedMinor,
      a.debitsExemptMinor ?? 0n,
    ])
    await tx.run(sql, params)
  }
}

export async function writeBatch(tx: SqlExecutor, writes: BatchWrites): Promise<void> {
  if (tx.dialect === 'sqlite') {
    await writeSqliteBatch(tx, sqliteWrites(writes))
    return
  }
  if (writes.accountsCreated.length > 0) await insertRows(tx, 'ledger_account', ACCOUNT_COLUMNS, 10, writes.accountsCreated.map(accountValues))
  if (writes.accountsUpdated.length > 0) await updateAccounts(tx, writes.accountsUpdated)
  // Exempt transfers (settlement) are rare: they go in a statement of their own, with the flag's column,
  // after the batch's other rows (the journal's order within one batch carries no meaning).
  const [exempt, plain] = splitExempt(writes.transfersCreated)
  if (plain.length > 0) await insertRows(tx, 'ledger_transfer', TRANSFER_COLUMNS, 10, plain.map(transferValues))
  if (exempt.length > 0) await insertRows(tx, 'ledger_transfer', `${TRANSFER_COLUMNS}, exempt_from_debits_limit`, 11, exempt.map((t) => [...transferValues(t), 1n]))
  const { opened, closed } = netExpiries(writes.expiriesOpened, writes.expiriesClosed)
  if (opened.length > 0) await insertRows(tx, 'ledger_expiry', 'expires_at_ms, id', 2, opened.map((e) => [BigInt(e.expiresAtMs), e.id]))
  for (const part of chunks(closed, IN_LIST_MAX / 2)) {
    const keys = Array.from({ length: part.length }, () => '(CAST(? AS BIGINT), CAST(? AS TEXT))').join(', ')
    await tx.run(`DELETE FROM ledger_expiry WHERE (expires_at_ms, id) IN (VALUES ${keys})`, part.flatMap((e) => [BigInt(e.expiresAtMs), e.id]))
  }
}

/**
 * A batch's rows for SQLite as parameter lists, ready to bind: flat lists (ACCOUNT and TRANSFER columns,
 * row after row) for the multi-row inserts and the account updates. The layout is packSqliteWrites's, the
 * one form that crosses to the ledger's writer thread. Timestamps go as numbers (safe integers, stored as
 * INTEGER by the STRICT tables); money stays bigint.
 */
export function sqliteWrites(writes: BatchWrites): SqliteWrites {
  return unpackSqliteWrites(packSqliteWrites(writes))
}

/**
 * Several batches' rows as one transaction's, with the same final state as writing them one after the
 * other: accounts created are inserted first, then each updated account once with its last values (later
 * batches were validated on top of earlier ones, so their rows are the newer state), journal rows in order,
 * and the expiry rows of pending transfers opened and resolved within the group cancel out.
 */
export function mergeSqliteWrites(batches: readonly SqliteWrites[]): SqliteWrites {
  const accountsCreated: SqlValue[] = []
  const updated = new Map<SqlValue, readonly SqlValue[]>()
  const transfers: SqlValue[] = []
  const exemptTransfers: SqlValue[] = []
  const opened: SqlValue[] = []
  const closed: SqlValue[] = []
  for (const w of batches) {
    for (const v of w.accountsCreated) accountsCreated.push(v)
    for (const row of [...rowsOf(w.accountsUpdated, UPDATE_WIDTH), ...rowsOf(w.accountsUpdatedExempt, UPDATE_WIDTH + 1)]) {
      const id = row[row.length - 1] as SqlValue
      // Delete first so that Map order follows the last update (any order is correct; this one is stable).
      updated.delete(id)
      updated.set(id, row)
    }
    for (const v of w.transfers) transfers.push(v)
    for (const v of w.exemptTransfers) exemptTransfers.push(v)
    for (const v of w.expiriesOpened) opened.push(v)
    for (const v of w.expiriesClosed) closed.push(v)
  }
  const closedIds = new Set<SqlValue>()
  for (let i = 1; i < closed.length; i += 2) closedIds.add(closed[i] as SqlValue)
  const expiriesOpened: SqlValue[] = []
  const cancelled = new Set<SqlValue>()
  for (let i = 0; i < opened.length; i += 2) {
    const id = opened[i + 1] as SqlValue
    if (closedIds.has(id)) cancelled.add(id)
    else expiriesOpened.push(opened[i] as SqlValue, id)
  }
  const expiriesClosed: SqlValue[] = []
  for (let i = 0; i < closed.length; i += 2) if (!cancelled.has(closed[i + 1] as SqlValue)) expiriesClosed.push(closed[i] as SqlValue, closed[i + 1] as SqlValue)
  const accountsUpdated: SqlValue[] = []
  const accountsUpdatedExempt: SqlValue[] = []
  for (const row of updated.values()) (row.length === UPDATE_WIDTH ? accountsUpdated : accountsUpdatedExempt).push(...row)
  return { accountsCreated, accountsUpdated, accountsUpdatedExempt, transfers, exemptTransfers, expiriesOpened, expiriesClosed }
}

/** Values of an account update without the exemption column: six counters and limits, then the id. */
const UPDATE_WIDTH = 7

/** A flat list of `width` values per row, as rows. */
function rowsOf(values: readonly SqlValue[], width: number): SqlValue[][] {
  const rows: SqlValue[][] = []
  for (let i = 0; i < values.length; i += width) rows.push(values.slice(i, i + width))
  return rows
}

const SQLITE_UPDATE_ACCOUNT = `UPDATE ledger_account SET debits_limit_minor = ?, credits_limit_minor = ?, debits_pending_minor = ?, debits_posted_minor = ?,
    credits_pending_minor = ?, credits_posted_minor = ? WHERE id = ?`
const SQLITE_UPDATE_ACCOUNT_EXEMPT = `UPDATE ledger_account SET debits_limit_minor = ?, credits_limit_minor = ?, debits_pending_minor = ?, debits_posted_minor = ?,
    credits_pending_minor = ?, credits_posted_minor = ?, debits_exempt_minor = ? WHERE id = ?`

export async function writeSqliteBatch(tx: SqlExecutor, w: SqliteWrites): Promise<void> {
  await insertFlat(tx, 'ledger_account', ACCOUNT_COLUMNS, 10, w.accountsCreated)
  // SQLite plans UPDATE … FROM (VALUES …) as a scan of the table per statement; in process, one cached
  // statement per row by primary key is the cheap way.
  if (w.accountsUpdated.length > 0) await runFlat(tx, SQLITE_UPDATE_ACCOUNT, w.accountsUpdated, UPDATE_WIDTH)
  if (w.accountsUpdatedExempt.length > 0) await runFlat(tx, SQLITE_UPDATE_ACCOUNT_EXEMPT, w.accountsUpdatedExempt, UPDATE_WIDTH + 1)
  await insertFlat(tx, 'ledger_transfer', TRANSFER_COLUMNS, 10, w.transfers)
  if (w.exemptTransfers.length > 0) {
    const rows = rowsOf(w.exemptTransfers, 10).map((row) => [...row, 1n])
    await insertRows(tx, 'ledger_transfer', `${TRANSFER_COLUMNS}, exempt_from_debits_limit`, 11, rows)
  }
  await insertFlat(tx, 'ledger_expiry', 'expires_at_ms, id', 2, w.expiriesOpened)
  // One cached point statement per row: in process that is cheaper than SQLite's plan for a row-value IN list.
  if (w.expiriesClosed.length > 0) await runFlat(tx, 'DELETE FROM ledger_expiry WHERE expires_at_ms = ? AND id = ?', w.expiriesClosed, 2)
}

/** One statement per row of a flat list: through the executor's runFlat where it has one. */
function runFlat(tx: SqlExecutor, sql: string, values: readonly SqlValue[], width: number): Promise<number> {
  return tx.runFlat === undefined ? tx.runMany(sql, rowsOf(values, width)) : tx.runFlat(sql, values, width)
}

/** insertRows over a flat list of `width` values per row. */
async function insertFlat(tx: SqlExecutor, table: string, columns: string, width: number, values: readonly SqlValue[]): Promise<void> {
  const rows = values.length / width
  let start = 0
  while (start < rows) {
    let size = CHUNK_ROWS_MAX
    while (size > rows - start) size >>= 1
    await tx.run(insertSql(table, columns, width, size), values.slice(start * width, (start + size) * width))
    start += size
  }
}

export async function dueExpiries(tx: SqlExecutor, nowMs: number, limit: number): Promise<string[]> {
  // On SQLite the index may lag the journal with the account rows (accounts-behind.ts).
  const sql = tx.dialect === 'sqlite' ? DUE_EXPIRIES_SEEING_THROUGH : 'SELECT id FROM ledger_expiry WHERE expires_at_ms <= ? ORDER BY expires_at_ms LIMIT ?'
  const rows = await tx.query<{ id: string }>(sql, [BigInt(nowMs), limit])
  return rows.map((row) => row.id)
}

const SEEING_THROUGH = selectAccountSeeingThrough(false)
const SEEING_THROUGH_INDEXED = selectAccountSeeingThrough(true)

/**
 * Accounts as their callers see them after every acknowledged operation: on SQLite the row plus the
 * journal's tail the writer thread has not written back yet (accounts-behind.ts), one statement each.
 */
export async function lookupAccounts(tx: SqlExecutor, ids: readonly string[]): Promise<Account[]> {
  const found = new Map<string, Account>()
  if (tx.dialect === 'sqlite') {
    for (const id of ids.filter(isLedgerId)) {
      const [row] = await tx.query<AccountRow>(id.startsWith(STATEMENT_ACCOUNT_PREFIX) ? SEEING_THROUGH_INDEXED : SEEING_THROUGH, [id])
      if (row !== undefined) found.set(row.id, toAccount(row))
    }
  } else {
    for (const [id, account] of await readAccounts(tx, ids, false)) found.set(id, account)
  }
  return ids.flatMap((id) => {
    const account = found.get(id)
    return account === undefined ? [] : [account]
  })
}

export async function lookupTransfers(tx: SqlExecutor, ids: readonly string[]): Promise<StoredTransfer[]> {
  const found = await findTransfers(tx, ids)
  return ids.flatMap((id) => {
    const transfer = found.get(id)
    return transfer === undefined ? [] : [transfer]
  })
}

interface JournalRow extends TransferRow {
  seq: bigint
}

/** A page older than any row: seq is a positive 64-bit integer on both adapters. */
const SEQ_NONE = 2n ** 63n - 1n

/**
 * One account's journal rows, newest first. Each side is read on its own index ((debit_account_id, seq)
 * and (credit_account_id, seq), migration 004) and the two short lists are merged, so a page costs two
 * index range scans however long the journal is; an OR over both columns would scan or sort instead.
 * A transfer never debits and credits the same account, so no row comes from both sides.
 */
export async function lookupAccountTransfers(tx: SqlExecutor, accountId: string, query: AccountTransfersQuery): Promise<JournalEntry[]> {
  const beforeSeq = query.beforeSeq ?? SEQ_NONE
  // The statement indexes are partial (migration 006): naming their predicate lets the planner use them.
  const indexed = accountId.startsWith(STATEMENT_ACCOUNT_PREFIX)
  const side = (column: string): string =>
    `SELECT * FROM (SELECT t.seq, t.id, t.type, t.debit_account_id, t.credit_account_id, t.amount_minor, t.currency, t.pending_id, t.expires_at_ms,
            t.reference, t.created_at_ms, t.exempt_from_debits_limit, r.type AS resolved_by
       FROM ledger_transfer t LEFT JOIN ledger_transfer r ON r.pending_id = t.id
      WHERE t.${column} = ?${indexed ? ` AND t.${column} LIKE '${STATEMENT_ACCOUNT_PREFIX}%'` : ''} AND t.seq < ? ORDER BY t.seq DESC LIMIT ?) AS ${column.slice(0, 1)}`
  const rows = await tx.query<JournalRow>(
    `${side('debit_account_id')} UNION ALL ${side('credit_account_id')} ORDER BY seq DESC LIMIT ?`,
    [accountId, beforeSeq, query.limit, accountId, beforeSeq, query.limit, query.limit],
  )
  return rows.map((row) => ({ ...toTransfer(row), seq: row.seq }))
}
