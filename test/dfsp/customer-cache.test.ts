// SPDX-License-Identifier: Apache-2.0
/**
 * The DFSP repository keeps the customers it has read or inserted, on both stores: a second look-up by id,
 * MSISDN or account id reads nothing from the database, an absence is never kept (a customer another
 * process of the same DFSP inserts is found next time), and past its bound it forgets the oldest and still
 * answers right.
 */
import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, it } from 'node:test'
import type { Customer } from '../../src/dfsp/index.ts'
import { SqlDfspRepository } from '../../src/store/dfsp/dfsp-repo.ts'
import type { SqlClient } from '../../src/store/ports.ts'
import { STORE_KINDS, type TestStore } from '../support/stores.ts'

const customer = (n: number, overrides: Partial<Customer> = {}): Customer => ({
  customerId: `c${String(n).padStart(15, '0')}`,
  msisdn: `2567000${String(n).padStart(5, '0')}`,
  accountId: `ACC-${n}`,
  name: `Customer ${n}`,
  firstName: null,
  middleName: null,
  lastName: null,
  dateOfBirth: null,
  currency: 'USD',
  walletAccountId: `dfsp.bank:W:c${n}`,
  createdAtMs: 1_700_000_000_000 + n,
  ...overrides,
})

/** The store, counting the SELECTs on dfsp_customer that go through it. */
function counting(store: SqlClient): { client: SqlClient; reads: () => number } {
  let reads = 0
  const client = new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'query') {
        return (sql: string, params?: readonly unknown[]) => {
          if (/FROM dfsp_customer/.test(sql)) reads += 1
          return target.query(sql, params as never)
        }
      }
      const value = Reflect.get(target, property, receiver) as unknown
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value
    },
  })
  return { client, reads: () => reads }
}

for (const kind of STORE_KINDS) {
  describe(`DFSP repository customer cache on ${kind.name}`, { skip: kind.skip }, () => {
    let testStore: TestStore

    beforeEach(async () => {
      testStore = await kind.open()
    })

    afterEach(async () => {
      await testStore.close()
    })

    it('answers a customer it inserted or read again without reading the database', async () => {
      const { client, reads } = counting(testStore.store)
      const repo = new SqlDfspRepository(client, 'bank')
      const alice = customer(1)
      assert.equal(await repo.insertCustomer(alice), 'inserted')
      const afterInsert = reads()
      assert.deepEqual(await repo.findCustomer(alice.customerId), alice)
      assert.deepEqual(await repo.findCustomerByParty('MSISDN', alice.msisdn as string), alice)
      assert.deepEqual(await repo.findCustomerByParty('ACCOUNT_ID', alice.accountId as string), alice)
      assert.equal(reads(), afterInsert)

      // Another repository (another process) finds it in the database once, then keeps it.
      const other = counting(testStore.store)
      const second = new SqlDfspRepository(other.client, 'bank')
      assert.deepEqual(await second.findCustomerByParty('MSISDN', alice.msisdn as string), alice)
      assert.equal(other.reads(), 1)
      assert.deepEqual(await second.findCustomer(alice.customerId), alice)
      assert.deepEqual(await second.findCustomerByParty('ACCOUNT_ID', alice.accountId as string), alice)
      assert.equal(other.reads(), 1)
      // Scoped by DFSP as the table is: the wallet's repository does not see the bank's customer.
      assert.equal(await new SqlDfspRepository(testStore.store, 'wallet').findCustomer(alice.customerId), undefined)
    })

    it('never keeps an absence: a customer inserted elsewhere afterwards is found', async () => {
      const { client, reads } = counting(testStore.store)
      const repo = new SqlDfspRepository(client, 'bank')
      const bob = customer(2)
      assert.equal(await repo.findCustomerByParty('MSISDN', bob.msisdn as string), undefined)
      assert.equal(await repo.findCustomer(bob.customerId), undefined)
      assert.equal(await new SqlDfspRepository(testStore.store, 'bank').insertCustomer(bob), 'inserted')
      assert.deepEqual(await repo.findCustomerByParty('MSISDN', bob.msisdn as string), bob)
      assert.deepEqual(await repo.findCustomer(bob.customerId), bob)
      assert.equal(reads(), 3)
      // A taken MSISDN is still refused, whether the repository knows the holder or not.
      assert.equal(await repo.insertCustomer(customer(3, { msisdn: bob.msisdn })), 'msisdn_taken')
      assert.equal(await repo.insertCustomer(customer(4, { msisdn: null, accountId: bob.accountId })), 'account_id_taken')
    })

    it('forgets the oldest past its bound and reads it again', async () => {
      const { client, reads } = counting(testStore.store)
      const repo = new SqlDfspRepository(client, 'bank', { customerCacheMax: 2 })
      const [a, b, c] = [customer(5), customer(6), customer(7)]
      for (const each of [a, b, c]) assert.equal(await repo.insertCustomer(each), 'inserted')
      const before = reads()
      assert.deepEqual(await repo.findCustomer(c.customerId), c)
      assert.deepEqual(await repo.findCustomerByParty('MSISDN', b.msisdn as string), b)
      assert.equal(reads(), before)
      // a was dropped with both its party ids; read again, it is kept again.
      assert.deepEqual(await repo.findCustomerByParty('ACCOUNT_ID', a.accountId as string), a)
      assert.deepEqual(await repo.findCustomerByParty('MSISDN', a.msisdn as string), a)
      assert.deepEqual(await repo.findCustomer(a.customerId), a)
      assert.equal(reads(), before + 1)
    })
  })
}
