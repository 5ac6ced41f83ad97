// SPDX-License-Identifier: Apache-2.0
/**
 * Faults: the switch runs as its own process (`kivuko switch`) under a load of transfers between two
 * recording DFSP stand-ins that fulfil at once, and is killed with SIGKILL at a random moment, 10 times.
 * After each restart: no committed transfer is lost, every accepted transfer reaches a final state and its
 * payer hears of it (no callback lost), no reservation outlives its expiry, and `kivuko check` passes.
 */
import assert from 'node:assert/strict'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { describe, it } from 'node:test'
import { provisionParticipant, adminCall } from '../../src/cli/provision.ts'
import { buildFspiopHeaders } from '../../src/fspiop/index.ts'
import { FakeDfsp } from '../support/fake-dfsp.ts'
import { freePort } from '../support/ports.ts'
import { STORE_KINDS } from '../support/stores.ts'

const ROUNDS = 10
const KIVUKO = join(import.meta.dirname, '..', '..', 'bin', 'kivuko.js')

function startSwitchProcess(location: string, fspiopPort: number, adminPort: number): Promise<{ child: ChildProcess; fspiopUrl: string; adminUrl: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [KIVUKO, 'switch'], {
      env: { ...process.env, KIVUKO_STORE: location, KIVUKO_SWITCH_PORT: String(fspiopPort), KIVUKO_ADMIN_PORT: String(adminPort), KIVUKO_LOG_LEVEL: 'silent', KIVUKO_EXPIRY_SWEEP_MS: '100', KIVUKO_CALLBACK_TIMEOUT_MS: '2000', KIVUKO_CALLBACK_LEASE_MS: '3000' },
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      if (line.startsWith('{"ready"')) {
        const ready = JSON.parse(line) as { fspiopUrl: string; adminUrl: string }
        resolve({ child, ...ready })
      }
    })
    child.on('exit', (code, signal) => reject(new Error(`switch exited early: ${code} ${signal}`)))
  })
}

for (const kind of STORE_KINDS) {
  describe(`switch crash safety on ${kind.name}`, { skip: kind.skip }, () => {
    it(`loses nothing across ${ROUNDS} SIGKILLs under load`, { timeout: 600_000 }, async () => {
      const opened = await kind.open()
      const payer = await new FakeDfsp('payerfsp').start()
      const payee = await new FakeDfsp('payeefsp').start()
      const [fspiopPort, adminPort] = [await freePort(), await freePort()]
      const fulfilments = new Map<string, string>()
      const tokens = new Map<string, string>()
      let current = await startSwitchProcess(opened.location, fspiopPort, adminPort)
      const send = (fsp: string, method: 'POST' | 'PUT', resource: 'transfers', path: string, body: unknown): Promise<number> =>
        fetch(`${current.fspiopUrl}${path}`, {
          method,
          headers: { ...buildFspiopHeaders({ resource, method, source: fsp, destination: fsp === 'payerfsp' ? 'payeefsp' : 'payerfsp', nowMs: Date.now() }), authorization: `Bearer ${tokens.get(fsp)}` },
          body: JSON.stringify(body),
        }).then(
          (r) => r.status,
          () => 0,
        )
      // The payee fulfils every prepare it receives, as a DFSP would; a fulfil lost in a crash is sent again on the resend.
      payee.onReceive = (r) => {
        if (r.method !== 'POST' || r.path !== '/transfers') return
        const fulfilment = fulfilments.get(r.body.transferId)
        if (fulfilment !== undefined) void send('payeefsp', 'PUT', 'transfers', `/transfers/${r.body.transferId}`, { fulfilment, completedTimestamp: new Date().toISOString(), transferState: 'COMMITTED' })
      }
      try {
        for (const dfsp of [payer, payee]) {
          tokens.set(dfsp.name, await provisionParticipant(current.adminUrl, { name: dfsp.name, currency: 'USD', fspiopUrl: dfsp.url, netDebitCap: '1000000', liquidity: '1000000' }))
        }
        const accepted: string[] = []
        for (let round = 1; round <= ROUNDS; round += 1) {
          let stop = false
          const load = async (): Promise<void> => {
            while (!stop) {
              const preimage = randomBytes(32)
              const transferId = randomUUID()
              fulfilments.set(transferId, preimage.toString('base64url'))
              const status = await send('payerfsp', 'POST', 'transfers', '/transfers', {
                transferId,
                payerFsp: 'payerfsp',
                payeeFsp: 'payeefsp',
                amount: { amount: '1', currency: 'USD' },
                ilpPacket: 'AYIBgQAAAAAAAASwNGxldmVsb25lLmRmc3AxLm1lci45T2RTOF81MDdqUUZERmZl',
                condition: createHash('sha256').update(preimage).digest('base64url'),
                expiration: new Date(Date.now() + 2_000).toISOString(),
              })
              if (status === 202) accepted.push(transferId)
              if (status === 0) await new Promise((resolve) => setTimeout(resolve, 20))
            }
          }
          const loaders = Array.from({ length: 8 }, load)
          await new Promise((resolve) => setTimeout(resolve, 300 + Math.random() * 700))
          current.child.kill('SIGKILL')
          await new Promise((resolve) => current.child.once('exit', resolve))
          stop = true
          await Promise.all(loaders)
          current = await startSwitchProcess(opened.location, fspiopPort, adminPort)
        }

        // Let every accepted transfer finish: commit, or expire (2 s) and be swept, and every callback arrive.
        const deadline = Date.now() + 60_000
        const finalOf = async (id: string): Promise<string> => (await adminCall(current.adminUrl, 'GET', `/transfers/${id}`)).body.state
        let open = accepted
        while (open.length > 0 && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 500))
          const states = await Promise.all(open.map(async (id) => [id, await finalOf(id)] as const))
          open = states.filter(([, state]) => state !== 'COMMITTED' && state !== 'ABORTED').map(([id]) => id)
        }
        assert.deepEqual(open, [], 'every accepted transfer reached a final state')
        const committedByCallback = new Set(payer.received.filter((r) => r.method === 'PUT' && r.body?.transferState === 'COMMITTED').map((r) => r.path.split('/')[2]))
        for (const id of committedByCallback) assert.equal(await finalOf(id as string), 'COMMITTED', `transfer ${id} the payer saw committed is committed`)
        // No callback lost: each accepted transfer's payer hears its outcome (claims cut off by a kill come back
        // after their lease on PostgreSQL, at once on SQLite).
        const heardOf = (): Set<string | undefined> => new Set(payer.received.filter((r) => r.method === 'PUT').map((r) => r.path.split('/')[2]))
        let unheard = accepted.filter((id) => !heardOf().has(id))
        while (unheard.length > 0 && Date.now() < deadline + 30_000) {
          await new Promise((resolve) => setTimeout(resolve, 500))
          unheard = accepted.filter((id) => !heardOf().has(id))
        }
        assert.deepEqual(unheard, [], 'the payer heard of every accepted transfer')
        // A reservation whose transfer row was lost with the process expires in the ledger itself, a second
        // after the transfer's own expiration.
        let reserved = ''
        for (let i = 0; i < 40 && reserved !== '0'; i += 1) {
          reserved = (await adminCall(current.adminUrl, 'GET', '/participants/payerfsp/positions')).body[0].reservedValue
          if (reserved !== '0') await new Promise((resolve) => setTimeout(resolve, 250))
        }
        assert.equal(reserved, '0', 'no reservation outlives its expiry')
        assert.ok(accepted.length > 50, `the load was real: ${accepted.length} transfers accepted`)
      } finally {
        current.child.kill('SIGTERM')
        await new Promise((resolve) => (current.child.exitCode === null ? current.child.once('exit', resolve) : resolve(undefined)))
        const check = spawnSync(process.execPath, [KIVUKO, 'check', '--store', opened.location], { encoding: 'utf8' })
        await payer.close()
        await payee.close()
        await opened.close()
        assert.equal(check.status, 0, `kivuko check: ${check.stdout}${check.stderr}`)
      }
    })
  })
}
