// SPDX-License-Identifier: Apache-2.0
/**
 * afterTransaction on both stores: a hook hears true only once its transaction's COMMIT is done, false when
 * the transaction (or, inside SQLite's group commit, its own part) rolled back, and never both.
 */
import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, it } from 'node:test'
import type { SqlExecutor } from '../../src/store/ports.ts'
import { STORE_KINDS, type TestStore } from '../support/stores.ts'

for (const kind of STORE_KINDS) {
  describe(`afterTransaction on ${kind.name}`, { skip: kind.skip }, () => {
    let testStore: TestStore

    beforeEach(async () => {
      testStore = await kind.open()
      await testStore.store.run('CREATE TABLE hook_probe (n INTEGER PRIMARY KEY)')
    })

    afterEach(async () => {
      await testStore.close()
    })

    const count = async (): Promise<number> => Number((await testStore.store.query<{ n: bigint }>('SELECT COUNT(*) AS n FROM hook_probe'))[0]?.n ?? -1)

    it('runs after the commit, before the transaction’s promise settles', async () => {
      const heard: boolean[] = []
      const store = testStore.store
      let settled = false
      const done = store.transaction(async (tx) => {
        await tx.run('INSERT INTO hook_probe (n) VALUES (1)')
        assert.ok(tx.afterTransaction !== undefined, 'a transaction executor has afterTransaction')
        tx.afterTransaction((committed) => {
          assert.equal(settled, false)
          heard.push(committed)
        })
        return 'value'
      })
      assert.equal(await done.finally(() => (settled = true)), 'value')
      assert.deepEqual(heard, [true])
      assert.equal(await count(), 1)
    })

    it('hears false when the transaction rolls back, and the others of a group commit still hear true', async () => {
      const heard: string[] = []
      const store = testStore.store
      const work = (n: number, fail: boolean) => async (tx: SqlExecutor) => {
        await tx.run('INSERT INTO hook_probe (n) VALUES (?)', [n])
        tx.afterTransaction?.((committed) => heard.push(`${n}:${committed}`))
        if (fail) throw new Error(`work ${n} failed`)
      }
      // Started together: on SQLite they share one group commit, each in its own savepoint.
      const results = await Promise.allSettled([store.transaction(work(1, false)), store.transaction(work(2, true)), store.transaction(work(3, false))])
      assert.deepEqual(
        results.map((r) => r.status),
        ['fulfilled', 'rejected', 'fulfilled'],
      )
      assert.deepEqual([...heard].sort(), ['1:true', '2:false', '3:true'])
      assert.equal(await count(), 2)
    })

    it('keeps going when a hook throws', async () => {
      const heard: boolean[] = []
      const warnings: string[] = []
      const onWarning = (warning: Error): void => {
        warnings.push(warning.message)
      }
      process.on('warning', onWarning)
      try {
        await testStore.store.transaction(async (tx) => {
          tx.afterTransaction?.(() => {
            throw new Error('a broken hook')
          })
          tx.afterTransaction?.((committed) => heard.push(committed))
        })
        await new Promise((resolve) => setImmediate(resolve))
      } finally {
        process.off('warning', onWarning)
      }
      assert.deepEqual(heard, [true])
      assert.ok(warnings.some((w) => w.includes('a broken hook')))
    })
  })
}
