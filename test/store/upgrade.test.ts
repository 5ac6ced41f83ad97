// SPDX-License-Identifier: Apache-2.0
/**
 * Upgrading a database that holds a ledger: migration 012 rebuilds ledger_account on SQLite (a CHECK cannot
 * be altered there) and alters it on PostgreSQL. Every account, counter and journal row must come through,
 * the journal's foreign keys must still bind to the rebuilt table, and `kivuko check` must pass.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { BatchingLedger } from '../../src/store/ledger/batching-ledger.ts'
import { checkLedger } from '../../src/store/ledger/ledger-check.ts'
import { migrate } from '../../src/store/migrate.ts'
import { openStore, type Store } from '../../src/store/open-store.ts'
import { PostgresClient, quoteIdent } from '../../src/store/postgres/postgres-client.ts'
import { STORE_KINDS } from '../support/stores.ts'

const BEFORE = '011_settlement_model'
const POSTGRES_URL = process.env.KIVUKO_TEST_POSTGRES_URL

async function withRawStore(kind: 'sqlite' | 'postgres', run: (store: Store) => Promise<void>): Promise<void> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'kivuko-upgrade-'))
    const store = await openStore(join(dir, 'kivuko.db'))
    try {
      await run(store)
    } finally {
      await store.close()
      rmSync(dir, { recursive: true, force: true })
    }
    return
  }
  const url = POSTGRES_URL as string
  const schema = `kivuko_upgrade_${randomBytes(6).toString('hex')}`
  const store = await openStore(`${url}${url.includes('?') ? '&' : '?'}schema=${schema}`)
  try {
    await run(store)
  } finally {
    await store.close()
    const admin = new PostgresClient({ url, poolMax: 1 })
    await admin.run(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`)
    await admin.close()
  }
}

for (const kind of STORE_KINDS) {
  describe(`upgrading a ledger to the debits-limit exemption on ${kind.name}`, { skip: kind.skip }, () => {
    it('keeps every account and journal row, and the foreign keys and limits still hold', async () => {
      await withRawStore(kind.name, async (store) => {
        const before = await migrate(store, { upTo: BEFORE })
        assert.equal(before.at(-1), BEFORE)
        // Rows as the ledger wrote them before the upgrade, through plain SQL with the old columns.
        await store.run(
          `INSERT INTO ledger_account (id, currency, code, debits_limit_minor, credits_limit_minor, debits_pending_minor, debits_posted_minor,
             credits_pending_minor, credits_posted_minor, created_at_ms)
           VALUES ('fund', 'USD', 'FUND', NULL, NULL, 0, 500, 0, 0, 1), ('pos', 'USD', 'POSITION', 100, NULL, 40, 0, 0, 500, 1),
                  ('hub', 'USD', 'HUB', NULL, NULL, 0, 0, 40, 0, 1)`,
        )
        await store.run(
          `INSERT INTO ledger_transfer (id, type, debit_account_id, credit_account_id, amount_minor, currency, pending_id, expires_at_ms, reference, created_at_ms)
           VALUES ('in', 'posted', 'fund', 'pos', 500, 'USD', NULL, NULL, 'funds in', 1), ('hold', 'pending', 'pos', 'hub', 40, 'USD', NULL, NULL, NULL, 2)`,
        )
        const applied = await migrate(store)
        assert.ok(applied.includes('012_debits_limit_exemption'), applied.join(', '))
        const ledger = new BatchingLedger(store, { writerThread: false })
        try {
          const [pos] = await ledger.lookupAccounts(['pos'])
          assert.deepEqual(pos, {
            id: 'pos',
            currency: 'USD',
            code: 'POSITION',
            debitsLimitMinor: 100n,
            creditsLimitMinor: null,
            debitsPendingMinor: 40n,
            debitsPostedMinor: 0n,
            creditsPendingMinor: 0n,
            creditsPostedMinor: 500n,
            createdAtMs: 1,
          })
          assert.deepEqual(
            (await ledger.lookupTransfers(['in', 'hold'])).map((t) => [t.id, t.pendingState]),
            [
              ['in', null],
              ['hold', 'pending'],
            ],
          )
          // The journal's foreign keys bind to the rebuilt table: an unknown account is refused by the database.
          await assert.rejects(
            store.run(
              `INSERT INTO ledger_transfer (id, type, debit_account_id, credit_account_id, amount_minor, currency, created_at_ms)
               VALUES ('orphan', 'posted', 'nobody', 'hub', 1, 'USD', 3)`,
            ),
          )
          // The database still refuses a stored breach of the limit, unless exempt debits cover it.
          await assert.rejects(store.run(`UPDATE ledger_account SET debits_posted_minor = 600 WHERE id = 'pos'`))
          assert.equal((await ledger.createTransfer({ id: 'hold-post', type: 'post_pending', pendingId: 'hold' })).status, 'created')
          assert.equal(
            (await ledger.createTransfer({ id: 'settle', type: 'posted', debitAccountId: 'pos', creditAccountId: 'hub', amountMinor: 600n, currency: 'USD', exemptFromDebitsLimit: true })).status,
            'created',
          )
          const [after] = await ledger.lookupAccounts(['pos'])
          assert.equal(after?.debitsPostedMinor, 640n)
          assert.equal(after?.debitsExemptMinor, 600n)
        } finally {
          await ledger.close()
        }
        assert.deepEqual((await checkLedger(store)).problems, [])
      })
    })
  })
}
