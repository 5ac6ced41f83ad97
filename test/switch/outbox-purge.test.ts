// SPDX-License-Identifier: Apache-2.0
/** The switch purges delivered callbacks once their retention has passed, and keeps them until then. */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { provisionParticipant } from '../../src/cli/provision.ts'
import { buildFspiopHeaders } from '../../src/fspiop/index.ts'
import { startSwitch, type SwitchProcess } from '../../src/http/switch/start-switch.ts'
import { FakeDfsp } from '../support/fake-dfsp.ts'
import { STORE_KINDS, type TestStore } from '../support/stores.ts'

for (const kind of STORE_KINDS) {
  describe(`outbox retention on ${kind.name}`, { skip: kind.skip }, () => {
    let opened: TestStore
    let hub: SwitchProcess
    const dfsp = new FakeDfsp('retainfsp')
    let token = ''
    const count = async (): Promise<bigint> => ((await opened.store.query<{ n: bigint }>('SELECT COUNT(*) AS n FROM outbox_message'))[0] as { n: bigint }).n

    before(async () => {
      opened = await kind.open()
      await dfsp.start()
      hub = await startSwitch({ store: opened.store, fspiopPort: 0, adminPort: 0, outbox: { pollIntervalMs: 50, retentionMs: 3_000, purgeIntervalMs: 100 } })
      token = await provisionParticipant(hub.adminUrl, { name: dfsp.name, currency: 'USD', fspiopUrl: dfsp.url, netDebitCap: '100', liquidity: '100' })
    })
    after(async () => {
      await hub?.close()
      await dfsp.close()
      await opened?.close()
    })

    it('keeps a delivered callback for its retention, then purges it', async () => {
      const transferId = randomUUID()
      const headers = buildFspiopHeaders({ resource: 'transfers', method: 'GET', source: dfsp.name, nowMs: Date.now() })
      assert.equal((await fetch(`${hub.fspiopUrl}/transfers/${transferId}`, { headers: { ...headers, authorization: `Bearer ${token}` } })).status, 202)
      await dfsp.next((r) => r.path.endsWith(`/transfers/${transferId}/error`))
      assert.equal(await count(), 1n, 'kept while within retention')
      const deadline = Date.now() + 20_000
      while ((await count()) > 0n && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100))
      assert.equal(await count(), 0n, 'purged after retention')
    })
  })
}
