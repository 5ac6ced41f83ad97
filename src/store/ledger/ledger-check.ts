// SPDX-License-Identifier: Apache-2.0
/**
 * `kivuko check`: verifies the ledger's invariants against its journal, the source of truth.
 * - every account's four stored counters (plus, on SQLite, the journal tail not yet written back to them)
 *   equal what the journal recomputes;
 * - Σ debits = Σ credits per currency, posted and pending each;
 * - no account passes its balance-limit flags, except by the posted debits exempt from them (settlement),
 *   which the account counts and the journal recomputes;
 * - every pending transfer is resolved at most once, by a row of the same accounts and amount or less;
 * - the expiry index lists exactly the pending transfers that are unresolved and have an expiry (on SQLite,
 *   as of the journal row the account rows hold).
 * The recomputation is one SQL aggregate, so it runs where the data is on both adapters.
 */
import type { Row, SqlExecutor } from '../ports.ts'
import { heldUpTo, TAIL_COLUMNS, TAIL_EFFECTS } from './accounts-behind.ts'

export interface CheckReport {
  readonly ok: boolean
  readonly accounts: number
  readonly transfers: number
  readonly problems: string[]
}

const PROBLEMS_MAX = 50

interface RecomputedRow extends Row {
  account_id: string
  debits_pending: bigint | null
  debits_posted: bigint | null
  credits_pending: bigint | null
  credits_posted: bigint | null
  debits_exempt: bigint | null
}

/**
 * One row per journal effect on one side of one account, summed per account. A resolution (post, void,
 * expire) releases the whole pending amount and posts its own amount (zero for void and expire).
 */
const RECOMPUTE = `
SELECT account_id, SUM(dpend) AS debits_pending, SUM(dpost) AS debits_posted, SUM(cpend) AS credits_pending, SUM(cpost) AS credits_posted,
       SUM(dexempt) AS debits_exempt
FROM (
  SELECT debit_account_id AS account_id,
         CASE WHEN type = 'pending' THEN amount_minor ELSE 0 END AS dpend,
         CASE WHEN type = 'posted' THEN amount_minor ELSE 0 END AS dpost,
         0 AS cpend, 0 AS cpost,
         CASE WHEN exempt_from_debits_limit = 1 THEN amount_minor ELSE 0 END AS dexempt
    FROM ledger_transfer WHERE type IN ('posted', 'pending')
  UNION ALL
  SELECT credit_account_id, 0, 0,
         CASE WHEN type = 'pending' THEN amount_minor ELSE 0 END,
         CASE WHEN type = 'posted' THEN amount_minor ELSE 0 END, 0
    FROM ledger_transfer WHERE type IN ('posted', 'pending')
  UNION ALL
  SELECT p.debit_account_id, -p.amount_minor, CASE WHEN r.type = 'post_pending' THEN r.amount_minor ELSE 0 END, 0, 0, 0
    FROM ledger_transfer r JOIN ledger_transfer p ON p.id = r.pending_id
  UNION ALL
  SELECT p.credit_account_id, 0, 0, -p.amount_minor, CASE WHEN r.type = 'post_pending' THEN r.amount_minor ELSE 0 END, 0
    FROM ledger_transfer r JOIN ledger_transfer p ON p.id = r.pending_id
) effects
GROUP BY account_id`

interface AccountRow extends Row {
  id: string
  currency: string
  debits_limit_minor: bigint | null
  credits_limit_minor: bigint | null
  debits_pending_minor: bigint
  debits_posted_minor: bigint
  credits_pending_minor: bigint
  credits_posted_minor: bigint
  debits_exempt_minor: bigint
}

const ACCOUNTS =
  'SELECT id, currency, debits_limit_minor, credits_limit_minor, debits_pending_minor, debits_posted_minor, credits_pending_minor, credits_posted_minor, debits_exempt_minor FROM ledger_account'

/**
 * On SQLite the rows may lag the journal (accounts-behind.ts): what they say is the row plus the journal's
 * tail, read in one statement. The database's CHECKs hold the rows themselves; the limits are checked here
 * on the sums.
 */
const ACCOUNTS_SEEING_THROUGH = `
SELECT a.id, a.currency, a.debits_limit_minor, a.credits_limit_minor,
       ${TAIL_COLUMNS.map(([column, delta]) => `a.${column} + COALESCE(e.${delta}, 0) AS ${column}`).join(',\n       ')}
  FROM ledger_account a LEFT JOIN (${TAIL_EFFECTS}) AS e ON e.account_id = a.id`

export async function checkLedger(db: SqlExecutor): Promise<CheckReport> {
  const problems: string[] = []
  const report = (problem: string): void => {
    if (problems.length < PROBLEMS_MAX) problems.push(problem)
  }
  const accounts = await db.query<AccountRow>(db.dialect === 'sqlite' ? ACCOUNTS_SEEING_THROUGH : ACCOUNTS)
  const recomputed = new Map((await db.query<RecomputedRow>(RECOMPUTE)).map((row) => [row.account_id, row]))
  const totals = new Map<string, { dpend: bigint; dpost: bigint; cpend: bigint; cpost: bigint }>()
  for (const a of accounts) {
    const r = recomputed.get(a.id)
    const expected = {
      debits_pending_minor: r?.debits_pending ?? 0n,
      debits_posted_minor: r?.debits_posted ?? 0n,
      credits_pending_minor: r?.credits_pending ?? 0n,
      credits_posted_minor: r?.credits_posted ?? 0n,
      debits_exempt_minor: r?.debits_exempt ?? 0n,
    }
    for (const [column, value] of Object.entries(expected)) {
      const stored = a[column as keyof typeof expected]
      if (stored !== value) report(`account ${a.id}: stored ${column} ${stored} but the journal gives ${value}`)
    }
    if (a.debits_limit_minor !== null && a.debits_pending_minor + a.debits_posted_minor > a.credits_posted_minor + a.debits_limit_minor + a.debits_exempt_minor) {
      const exempt = a.debits_exempt_minor > 0n ? ` and the exempt debits ${a.debits_exempt_minor}` : ''
      report(`account ${a.id}: debits exceed credits plus the limit ${a.debits_limit_minor}${exempt}`)
    }
    if (a.credits_limit_minor !== null && a.credits_pending_minor + a.credits_posted_minor > a.debits_posted_minor + a.credits_limit_minor) {
      report(`account ${a.id}: credits exceed debits plus the limit ${a.credits_limit_minor}`)
    }
    const t = totals.get(a.currency) ?? { dpend: 0n, dpost: 0n, cpend: 0n, cpost: 0n }
    t.dpend += a.debits_pending_minor
    t.dpost += a.debits_posted_minor
    t.cpend += a.credits_pending_minor
    t.cpost += a.credits_posted_minor
    totals.set(a.currency, t)
  }
  const accountIds = new Set(accounts.map((a) => a.id))
  for (const id of recomputed.keys()) {
    if (!accountIds.has(id)) report(`journal names account ${id}, which does not exist`)
  }
  for (const [currency, t] of totals) {
    if (t.dpost !== t.cpost) report(`${currency}: posted debits ${t.dpost} ≠ posted credits ${t.cpost}`)
    if (t.dpend !== t.cpend) report(`${currency}: pending debits ${t.dpend} ≠ pending credits ${t.cpend}`)
  }

  const badResolutions = await db.query<{ id: string; why: string } & Row>(`
    SELECT r.id, CASE
        WHEN p.id IS NULL THEN 'resolves a transfer that does not exist'
        WHEN p.type <> 'pending' THEN 'resolves a transfer that is not pending'
        WHEN p.debit_account_id <> r.debit_account_id OR p.credit_account_id <> r.credit_account_id THEN 'has other accounts than its pending transfer'
        WHEN r.amount_minor > p.amount_minor THEN 'moves more than its pending transfer reserved'
        WHEN r.type <> 'post_pending' AND r.amount_minor <> p.amount_minor THEN 'releases another amount than was reserved'
        ELSE 'ok' END AS why
      FROM ledger_transfer r LEFT JOIN ledger_transfer p ON p.id = r.pending_id
     WHERE r.pending_id IS NOT NULL`)
  for (const row of badResolutions) if (row.why !== 'ok') report(`transfer ${row.id} ${row.why}`)

  const twice = await db.query<{ pending_id: string; n: bigint } & Row>(
    'SELECT pending_id, COUNT(*) AS n FROM ledger_transfer WHERE pending_id IS NOT NULL GROUP BY pending_id HAVING COUNT(*) > 1',
  )
  for (const row of twice) report(`pending transfer ${row.pending_id} is resolved ${row.n} times`)

  // The index holds the journal up to where the account rows do (accounts-behind.ts): it must list exactly
  // the pending transfers with an expiry up to there that nothing up to there resolved.
  const upTo = heldUpTo(db.dialect)
  const expiryMismatch = await db.query<{ id: string; why: string } & Row>(`
    SELECT t.id, 'is unresolved with an expiry but missing from the expiry index' AS why
      FROM ledger_transfer t
     WHERE t.type = 'pending' AND t.expires_at_ms IS NOT NULL AND t.seq <= ${upTo}
       AND NOT EXISTS (SELECT 1 FROM ledger_transfer r WHERE r.pending_id = t.id AND r.seq <= ${upTo})
       AND NOT EXISTS (SELECT 1 FROM ledger_expiry e WHERE e.expires_at_ms = t.expires_at_ms AND e.id = t.id)
    UNION ALL
    SELECT e.id, 'is in the expiry index but resolved, unknown or due at another time'
      FROM ledger_expiry e
     WHERE NOT EXISTS (SELECT 1 FROM ledger_transfer t WHERE t.id = e.id AND t.type = 'pending' AND t.expires_at_ms = e.expires_at_ms AND t.seq <= ${upTo})
        OR EXISTS (SELECT 1 FROM ledger_transfer r WHERE r.pending_id = e.id AND r.seq <= ${upTo})`)
  for (const row of expiryMismatch) report(`pending transfer ${row.id} ${row.why}`)

  const [count] = await db.query<{ n: bigint } & Row>('SELECT COUNT(*) AS n FROM ledger_transfer')
  return { ok: problems.length === 0, accounts: accounts.length, transfers: Number(count?.n ?? 0n), problems }
}
