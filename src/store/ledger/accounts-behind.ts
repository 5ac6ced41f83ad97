// SPDX-License-Identifier: Apache-2.0
/**
 * Account rows that lag the journal (SQLite, migration 016), and the expiry index with them. The ledger's
 * writer thread writes account rows and expiry rows back every few commits, not in every one: the journal rows are durable in each commit, and every counter
 * is recomputable from them. `ledger_epoch.accounts_seq` says how far the rows are current: an account's
 * counters are its row plus the effects of the journal rows after that seq (the tail); NULL means no tail.
 *
 * - A transaction that writes account rows from values it read first replays the tail into the rows
 *   (`catchUpAccounts`), so that a row is never overwritten with a value that misses part of the tail.
 * - A read that must be exact while the writer may lag (a balance enquiry, `kivuko check`) adds the tail
 *   in the same statement (`lookupAccountsSeeingThrough`): one statement is one snapshot in SQLite, so the
 *   row and the tail cannot come from either side of a write-back.
 * PostgreSQL writes every row in every batch and has no tail.
 */
import type { Row, SqlExecutor } from '../ports.ts'

/** The tail's first seq is the one after this; NULL (no tail) makes every `seq > since` false. */
const SINCE = '(SELECT accounts_seq FROM ledger_epoch WHERE id = 1)'

/**
 * What one journal row of the tail does to the counters of its accounts. A resolution (post, void, expire)
 * names the same accounts as its pending transfer, releases the whole reserved amount and posts its own
 * (a post's); a posted row may be exempt from its debit account's limit (settlement).
 */
const PENDING_DELTA = `CASE t.type WHEN 'pending' THEN t.amount_minor WHEN 'posted' THEN 0 ELSE -p.amount_minor END`
const POSTED_DELTA = `CASE WHEN t.type IN ('posted', 'post_pending') THEN t.amount_minor ELSE 0 END`
const EXEMPT_DELTA = `CASE WHEN t.exempt_from_debits_limit = 1 THEN t.amount_minor ELSE 0 END`
const TAIL_ROWS = `ledger_transfer t LEFT JOIN ledger_transfer p ON p.id = t.pending_id WHERE t.seq > ${SINCE}`

/** The tail's effects summed per account: one row per account the tail touches. */
export const TAIL_EFFECTS = `
WITH tail AS (
  SELECT t.debit_account_id, t.credit_account_id, ${PENDING_DELTA} AS pend, ${POSTED_DELTA} AS post, ${EXEMPT_DELTA} AS exempt FROM ${TAIL_ROWS}
)
SELECT account_id, SUM(dpend) AS dpend, SUM(dpost) AS dpost, SUM(cpend) AS cpend, SUM(cpost) AS cpost, SUM(dexempt) AS dexempt
  FROM (SELECT debit_account_id AS account_id, pend AS dpend, post AS dpost, 0 AS cpend, 0 AS cpost, exempt AS dexempt FROM tail
        UNION ALL
        SELECT credit_account_id, 0, 0, pend, post, 0 FROM tail) AS effects
 GROUP BY account_id`

/** The counters' names in ledger_account and the tail's column that adds to each. */
export const TAIL_COLUMNS = [
  ['debits_pending_minor', 'dpend'],
  ['debits_posted_minor', 'dpost'],
  ['credits_pending_minor', 'cpend'],
  ['credits_posted_minor', 'cpost'],
  ['debits_exempt_minor', 'dexempt'],
] as const

/** The seq after which the journal is not yet in the account rows; null when the rows are current. */
export async function accountsBehind(tx: SqlExecutor): Promise<bigint | null> {
  if (tx.dialect !== 'sqlite') return null
  const [row] = await tx.query<{ accounts_seq: bigint | null } & Row>('SELECT accounts_seq FROM ledger_epoch WHERE id = 1')
  return row?.accounts_seq ?? null
}

/**
 * Inside a write transaction: replays the journal's tail into the account rows and the expiry index, and
 * marks them current.
 * Returns how many accounts it updated (0 when there was no tail). Replaying is idempotent only through
 * accounts_seq, which the same transaction clears.
 */
export async function catchUpAccounts(tx: SqlExecutor): Promise<number> {
  if ((await accountsBehind(tx)) === null) return 0
  const set = TAIL_COLUMNS.map(([column, delta]) => `${column} = ${column} + e.${delta}`).join(', ')
  const updated = await tx.run(`UPDATE ledger_account SET ${set} FROM (${TAIL_EFFECTS}) AS e WHERE ledger_account.id = e.account_id`)
  // The expiry index lags with the rows: pending transfers the tail resolved leave it, those it opened and
  // left open enter it.
  await tx.run(`DELETE FROM ledger_expiry WHERE (expires_at_ms, id) IN (
    SELECT p.expires_at_ms, p.id FROM ledger_transfer r JOIN ledger_transfer p ON p.id = r.pending_id
     WHERE r.seq > ${SINCE} AND p.expires_at_ms IS NOT NULL)`)
  await tx.run(`INSERT INTO ledger_expiry (expires_at_ms, id)
    SELECT t.expires_at_ms, t.id FROM ledger_transfer t
     WHERE t.seq > ${SINCE} AND t.type = 'pending' AND t.expires_at_ms IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM ledger_transfer r WHERE r.pending_id = t.id)`)
  await tx.run('UPDATE ledger_epoch SET accounts_seq = NULL WHERE id = 1')
  return updated
}

/**
 * The pending transfers due by ?1, at most ?2, earliest first, as the expiry index says once the journal's
 * tail is in it: the index's rows that the tail has not resolved, and the tail's open pending transfers.
 */
export const DUE_EXPIRIES_SEEING_THROUGH = `
SELECT id FROM (
  SELECT e.id, e.expires_at_ms FROM ledger_expiry e
   WHERE e.expires_at_ms <= ?1
     AND NOT EXISTS (SELECT 1 FROM ledger_transfer r WHERE r.pending_id = e.id AND r.seq > ${SINCE})
  UNION ALL
  SELECT t.id, t.expires_at_ms FROM ledger_transfer t
   WHERE t.seq > ${SINCE} AND t.type = 'pending' AND t.expires_at_ms <= ?1
     AND NOT EXISTS (SELECT 1 FROM ledger_transfer r WHERE r.pending_id = t.id)
) AS due
 ORDER BY expires_at_ms LIMIT ?2`

/** The last journal row the account rows and the expiry index hold: every row on PostgreSQL (never behind). */
export function heldUpTo(dialect: SqlExecutor['dialect']): string {
  return dialect === 'sqlite' ? `COALESCE(${SINCE}, 9223372036854775807)` : '9223372036854775807'
}

/**
 * One account's row with the tail added, in one statement (one snapshot). With no tail the journal part is
 * an empty range of the primary key, so this costs about what the plain read does. A customer account (a
 * DFSP's wallet) has statement indexes on (account, seq) (migration 006): its tail is two index ranges;
 * any other account's tail is a scan of the tail's rows (bounded by the ledger's write-back policy).
 */
export function selectAccountSeeingThrough(indexed: boolean): string {
  const side = (column: string, effects: string): string =>
    `SELECT ${effects} FROM ledger_transfer t LEFT JOIN ledger_transfer p ON p.id = t.pending_id
      WHERE t.${column} = ?1${indexed ? ` AND t.${column} LIKE '${STATEMENT_ACCOUNT_PREFIX}%'` : ''} AND t.seq > ${SINCE}`
  return `
SELECT a.id, a.currency, a.code, a.debits_limit_minor, a.credits_limit_minor,
       a.debits_pending_minor + COALESCE(d.dpend, 0) AS debits_pending_minor,
       a.debits_posted_minor + COALESCE(d.dpost, 0) AS debits_posted_minor,
       a.credits_pending_minor + COALESCE(d.cpend, 0) AS credits_pending_minor,
       a.credits_posted_minor + COALESCE(d.cpost, 0) AS credits_posted_minor,
       a.created_at_ms,
       a.debits_exempt_minor + COALESCE(d.dexempt, 0) AS debits_exempt_minor
  FROM ledger_account a,
       (SELECT SUM(dpend) AS dpend, SUM(dpost) AS dpost, SUM(cpend) AS cpend, SUM(cpost) AS cpost, SUM(dexempt) AS dexempt
          FROM (${side('debit_account_id', `${PENDING_DELTA} AS dpend, ${POSTED_DELTA} AS dpost, 0 AS cpend, 0 AS cpost, ${EXEMPT_DELTA} AS dexempt`)}
                UNION ALL
                ${side('credit_account_id', `0, 0, ${PENDING_DELTA}, ${POSTED_DELTA}, 0`)}) AS effects) AS d
 WHERE a.id = ?1`
}

/**
 * Accounts with ids that start with this have an index for their statements (a DFSP's customer accounts,
 * migration 006's partial indexes); others (scheme positions, hub accounts) are read by scanning.
 */
export const STATEMENT_ACCOUNT_PREFIX = 'dfsp.'
