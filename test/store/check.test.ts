// SPDX-License-Identifier: Apache-2.0
/** `kivuko check` and migrations against both adapters: a clean ledger passes, each kind of damage is named. */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { STORE_KINDS, type TestStore } from '../support/stores.ts'
import { BatchingLedger } from '../../src/store/ledger/batching-ledger.ts'
import { checkLedger } from '../../src/store/ledger/ledger-check.ts'
import { migrate } from '../../src/store/migrate.ts'

const KIVUKO = join(import.meta.dirname, '..', '..', 'bin', 'kivuko.js')

async function seeded(open: () => Promise<TestStore>): Promise<TestStore> {
  const opened = await open()
  const ledger = new BatchingLedger(opened.store)
  await ledger.createAccounts([
    { id: 'bank', currency: 'USD', code: 'SETTLEMENT' },
    { id: 'alice', currency: 'USD', code: 'WALLET', debitsLimitMinor: 0n },
    { id: 'bob', currency: 'USD', code: 'WALLET', debitsLimitMinor: 0n },
  ])
  const outcomes = await ledger.createTransfers([
    { id: 'fund', type: 'posted', debitAccountId: 'bank', creditAccountId: 'alice', amountMinor: 10_000n, currency: 'USD' },
    { id: 'hold', type: 'pending', debitAccountId: 'alice', creditAccountId: 'bob', amountMinor: 2_500n, currency: 'USD', expiresAtMs: Date.now() + 60_000 },
    { id: 'hold2', type: 'pending', debitAccountId: 'alice', creditAccountId: 'bob', amountMinor: 1_000n, currency: 'USD' },
    { id: 'post', type: 'post_pending', pendingId: 'hold', amountMinor: 2_000n },
    { id: 'hold3', type: 'pending', debitAccountId: 'alice', creditAccountId: 'bob', amountMinor: 500n, currency: 'USD', expiresAtMs: Date.now() + 60_000 },
  ])
  assert.deepEqual(outcomes.map((o) => o.status), ['created', 'created', 'created', 'created', 'created'])
  await ledger.close()
  return opened
}

for (const kind of STORE_KINDS) {
  describe(`kivuko check on ${kind.name}`, { skip: kind.skip }, () => {
    it('migrations are idempotent', async () => {
      const opened = await kind.open()
      try {
        assert.deepEqual(await migrate(opened.store), [])
      } finally {
        await opened.close()
      }
    })

    it('passes on a healthy ledger, through the real command', async () => {
      const opened = await seeded(() => kind.open())
      try {
        const report = await checkLedger(opened.store)
        assert.deepEqual(report, { ok: true, accounts: 3, transfers: 5, problems: [] })
        const cli = spawnSync(process.execPath, [KIVUKO, 'check', '--store', opened.location], { encoding: 'utf8' })
        assert.equal(cli.status, 0, cli.stderr)
        assert.equal(JSON.parse(cli.stdout).transfers, 5)
      } finally {
        await opened.close()
      }
    })

    const damages: [string, string, RegExp][] = [
      ['a stored counter that disagrees with the journal', "UPDATE ledger_account SET credits_posted_minor = credits_posted_minor + 1 WHERE id = 'bob'", /account bob: stored credits_posted_minor/],
      ['a resolution that moves more than was reserved', "UPDATE ledger_transfer SET amount_minor = 3000 WHERE id = 'post'", /post moves more than its pending transfer reserved/],
      ['exempt debits the journal does not record', "UPDATE ledger_account SET debits_exempt_minor = 1 WHERE id = 'bank'", /account bank: stored debits_exempt_minor 1 but the journal gives 0/],
      ['an exemption the account does not count', "UPDATE ledger_transfer SET exempt_from_debits_limit = 1 WHERE id = 'fund'", /account bank: stored debits_exempt_minor 0 but the journal gives 10000/],
      ['an expiry entry for a resolved transfer', "INSERT INTO ledger_expiry (id, expires_at_ms) VALUES ('hold', 1)", /hold is in the expiry index but resolved/],
      ['an expiry entry due at another time than its transfer', "UPDATE ledger_expiry SET expires_at_ms = expires_at_ms + 1 WHERE id = 'hold3'", /hold3 is in the expiry index but resolved, unknown or due at another time/],
      ['an open pending transfer missing from the expiry index', "DELETE FROM ledger_expiry WHERE id = 'hold3'", /hold3 is unresolved with an expiry but missing from the expiry index/],
    ]
    for (const [what, damage, expected] of damages) {
      it(`names ${what}`, async () => {
        const opened = await seeded(() => kind.open())
        try {
          await opened.store.run(damage)
          const report = await checkLedger(opened.store)
          assert.equal(report.ok, false)
          assert.ok(report.problems.some((p) => expected.test(p)), report.problems.join('\n'))
          const cli = spawnSync(process.execPath, [KIVUKO, 'check', '--store', opened.location], { encoding: 'utf8' })
          assert.equal(cli.status, 1)
        } finally {
          await opened.close()
        }
      })
    }

    it('the database itself refuses a stored breach of a balance limit', async () => {
      const opened = await seeded(() => kind.open())
      try {
        await assert.rejects(opened.store.run("UPDATE ledger_account SET debits_posted_minor = 1000000 WHERE id = 'alice'"))
        await assert.rejects(opened.store.run("INSERT INTO ledger_transfer (id, type, debit_account_id, credit_account_id, amount_minor, currency, pending_id, created_at_ms) VALUES ('again', 'void_pending', 'alice', 'bob', 2500, 'USD', 'hold', 1)"))
      } finally {
        await opened.close()
      }
    })
  })
}
