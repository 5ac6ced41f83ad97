// SPDX-License-Identifier: Apache-2.0
/**
 * The switch's callback outbox on real stores (SQLite always, PostgreSQL when KIVUKO_TEST_POSTGRES_URL is
 * set), delivering over real HTTP to node:http servers on 127.0.0.1 that stand in for DFSPs. Retry times
 * and leases run on a manual clock, so no test depends on how fast the machine is: waits are for conditions,
 * with generous deadlines, and "promptly" is shown causally (the good DFSP's messages all arrive while the
 * dead DFSP's first attempts are still hanging), not by a stopwatch.
 */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { ManualClock } from '../../src/core/clock.ts'
import { openStore, type Store } from '../../src/store/open-store.ts'
import type { SqlValue } from '../../src/store/ports.ts'
import {
  createFetchSender,
  Outbox,
  type DeliveryInfo,
  type DeliveryState,
  type OutboxActivity,
  type OutboxMessage,
  type OutboxMessageInput,
  type OutboxMetrics,
  type OutboxOptions,
  type RetryPolicy,
  type SendResult,
} from '../../src/switch/outbox/index.ts'
import { STORE_KINDS, type TestStore } from '../support/stores.ts'

const TEST_TIMEOUT_MS = 180_000
const WAIT_MS = 90_000
const START_MS = Date.UTC(2026, 0, 1)
/** Three attempts, 0.5–1 s then 1–2 s apart: advancing the manual clock by delayMaxMs makes any retry due. */
const POLICY: RetryPolicy = { attemptsMax: 3, ageMaxMs: 3_600_000, delayBaseMs: 1_000, delayMaxMs: 4_000 }
/** Written into every body: nothing the outbox reports may ever contain it. */
const PARTY_NAME = 'Amina SECRET-PARTY-NAME'

type Answer = number | 'hang' | 'hold'

interface Received {
  readonly method: string
  readonly path: string
  readonly correlation: string
  readonly body: string
  readonly headers: IncomingMessage['headers']
}

/** A DFSP's callback endpoint: records what arrives and answers as told. */
class FakeDfsp {
  readonly name: string
  readonly received: Received[] = []
  /** Requests answered so far. */
  answered = 0
  inFlight = 0
  inFlightMax = 0
  readonly #inFlightByCorrelation = new Map<string, number>()
  /** Set when two requests of one correlation were ever in flight together. */
  overlappingCorrelation: string | null = null
  #answer: (request: Received, index: number) => Answer
  readonly #held: (() => void)[] = []
  readonly #server: Server
  base = ''

  constructor(name: string, answer: (request: Received, index: number) => Answer) {
    this.name = name
    this.#answer = answer
    this.#server = createServer((request, response) => this.#handle(request, response))
  }

  async listen(): Promise<this> {
    this.#server.listen(0, '127.0.0.1')
    await once(this.#server, 'listening')
    this.base = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`
    return this
  }

  answerWith(answer: (request: Received, index: number) => Answer): void {
    this.#answer = answer
  }

  /** Answers every held request with 200. */
  release(): void {
    for (const answer of this.#held.splice(0)) answer()
  }

  get held(): number {
    return this.#held.length
  }

  /** Stops listening and drops every open connection: requests in flight fail, new ones are refused. */
  async stop(): Promise<void> {
    this.release()
    this.#server.closeAllConnections()
    if (this.#server.listening) {
      this.#server.close()
      await once(this.#server, 'close')
    }
  }

  paths(correlation?: string): string[] {
    return this.received.filter((r) => correlation === undefined || r.correlation === correlation).map((r) => r.path)
  }

  #handle(request: IncomingMessage, response: ServerResponse): void {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const correlation = String(request.headers['x-correlation'] ?? '')
      const received: Received = { method: request.method ?? '', path: request.url ?? '', correlation, body: Buffer.concat(chunks).toString('utf8'), headers: request.headers }
      const index = this.received.push(received) - 1
      this.inFlight += 1
      this.inFlightMax = Math.max(this.inFlightMax, this.inFlight)
      const sameCorrelation = (this.#inFlightByCorrelation.get(correlation) ?? 0) + 1
      this.#inFlightByCorrelation.set(correlation, sameCorrelation)
      if (sameCorrelation > 1) this.overlappingCorrelation = correlation
      const finish = (status: number): void => {
        this.inFlight -= 1
        this.#inFlightByCorrelation.set(correlation, (this.#inFlightByCorrelation.get(correlation) ?? 1) - 1)
        this.answered += 1
        response.writeHead(status).end()
      }
      response.on('close', () => {
        if (!response.writableEnded) {
          this.inFlight -= 1
          this.#inFlightByCorrelation.set(correlation, (this.#inFlightByCorrelation.get(correlation) ?? 1) - 1)
        }
      })
      const answer = this.#answer(received, index)
      if (answer === 'hang') return
      if (answer === 'hold') this.#held.push(() => finish(200))
      else finish(answer)
    })
  }
}

async function dfsp(name: string, answer: (request: Received, index: number) => Answer = () => 200): Promise<FakeDfsp> {
  return new FakeDfsp(name, answer).listen()
}

/** A destination nothing listens on: every connection is refused. */
async function refusingDfsp(name: string): Promise<FakeDfsp> {
  const d = await dfsp(name)
  await d.stop()
  return d
}

function aCallback(to: FakeDfsp, correlation: string, n: number, overrides: Partial<OutboxMessageInput> = {}): OutboxMessageInput {
  return {
    destination: to.name,
    method: 'PUT',
    url: `${to.base}/${correlation}/${n}`,
    headers: {
      'content-type': 'application/vnd.interoperability.transfers+json;version=1.1',
      date: 'Thu, 01 Jan 2026 00:00:00 GMT',
      'fspiop-source': 'Hub',
      'fspiop-destination': to.name,
      'x-correlation': correlation,
    },
    body: JSON.stringify({ n, payee: { name: PARTY_NAME } }),
    correlation,
    ...overrides,
  }
}

async function until(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** Runs rounds by hand until nothing more is due now (the manual clock does not move). */
async function settle(...outboxes: Outbox[]): Promise<void> {
  for (let round = 0; round < 1_000; round += 1) {
    const claimed = await Promise.all(outboxes.map((o) => o.runOnce()))
    await Promise.all(outboxes.map((o) => o.idle()))
    if (claimed.every((n) => n === 0)) return
  }
  throw new Error('the outbox kept claiming for 1,000 rounds')
}

/** Settles, then lets time pass until no message is open any more. */
async function deliverEverything(clock: ManualClock, ...outboxes: Outbox[]): Promise<void> {
  for (let step = 0; step < 50; step += 1) {
    await settle(...outboxes)
    const counts = await (outboxes[0] as Outbox).countByState()
    if (counts.PENDING === 0 && counts.SENDING === 0) return
    clock.advance(POLICY.delayMaxMs)
  }
  throw new Error('messages were still open after 50 retry periods')
}

interface MetricEvent {
  readonly kind: 'delivered' | 'retried' | 'failed' | 'latency'
  readonly info: DeliveryInfo
  readonly extra: unknown
}

class Recorder {
  readonly events: MetricEvent[] = []
  readonly errors: { error: unknown; during: OutboxActivity }[] = []
  readonly metrics: OutboxMetrics = {
    delivered: (info) => this.events.push({ kind: 'delivered', info, extra: null }),
    retried: (info, nextAttemptAtMs) => this.events.push({ kind: 'retried', info, extra: nextAttemptAtMs }),
    failed: (info, reason) => this.events.push({ kind: 'failed', info, extra: reason }),
    attemptLatency: (info, durationMs) => this.events.push({ kind: 'latency', info, extra: durationMs }),
  }

  count(kind: MetricEvent['kind'], destination?: string, extra?: unknown): number {
    return this.events.filter((e) => e.kind === kind && (destination === undefined || e.info.destination === destination) && (extra === undefined || e.extra === extra)).length
  }

  onError = (error: unknown, during: OutboxActivity): void => {
    this.errors.push({ error, during })
  }
}

function states(counts: Record<DeliveryState, number>): Partial<Record<DeliveryState, number>> {
  return Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0))
}

for (const kind of STORE_KINDS) {
  describe(`outbox on ${kind.name}`, { skip: kind.skip, timeout: TEST_TIMEOUT_MS }, () => {
    let testStore: TestStore
    let store: Store
    let clock: ManualClock
    let recorder: Recorder
    let unreachable: OutboxMessage[]
    const outboxes: Outbox[] = []
    const dfsps: FakeDfsp[] = []
    const extraStores: Store[] = []

    beforeEach(async () => {
      testStore = await kind.open()
      store = testStore.store
      clock = new ManualClock(START_MS)
      recorder = new Recorder()
      unreachable = []
    })

    afterEach(async () => {
      for (const d of dfsps.splice(0)) await d.stop()
      for (const o of outboxes.splice(0)) await o.close()
      for (const s of extraStores.splice(0)) await s.close()
      await testStore.close()
    })

    function outboxOn(on: Store, overrides: Partial<OutboxOptions> = {}): Outbox {
      const outbox = new Outbox({
        store: on,
        send: createFetchSender({ timeoutMs: 120_000 }),
        onUnreachable: (message) => {
          unreachable.push(message)
        },
        clock,
        retryPolicy: POLICY,
        random: () => 0,
        pollIntervalMs: 20,
        attemptTimeoutMs: 120_000,
        leaseMs: 300_000,
        metrics: recorder.metrics,
        onError: recorder.onError,
        ...overrides,
      })
      outboxes.push(outbox)
      return outbox
    }

    const outboxWith = (overrides: Partial<OutboxOptions> = {}): Outbox => outboxOn(store, overrides)

    async function fake(name: string, answer?: (request: Received, index: number) => Answer): Promise<FakeDfsp> {
      const d = await dfsp(name, answer)
      dfsps.push(d)
      return d
    }

    /** Another client on the same database, as a restarted or second Kivuko process would open. */
    async function secondStore(): Promise<Store> {
      const s = await openStore(testStore.location)
      extraStores.push(s)
      return s
    }

    async function enqueueAll(outbox: Outbox, messages: readonly OutboxMessageInput[]): Promise<string[]> {
      return store.transaction((tx) => outbox.enqueueMany(tx, messages))
    }

    function assertNothingLeaked(): void {
      const reported = JSON.stringify(recorder.events, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value))
      assert.ok(!reported.includes('SECRET-PARTY-NAME'), 'metrics never carry a body')
      assert.ok(!reported.includes('127.0.0.1'), 'metrics never carry a URL')
      assert.deepEqual(
        recorder.errors.map((e) => `${e.during}: ${String(e.error)}`),
        [],
      )
    }

    describe('enqueue inside the caller’s transaction', () => {
      it('sends nothing before the commit, and delivers right after it', async () => {
        const payer = await fake('payerfsp')
        const outbox = outboxWith()
        outbox.start()
        let id = ''
        await store.transaction(async (tx) => {
          id = await outbox.enqueue(tx, aCallback(payer, 'transfers/t1', 1))
          // The worker is polling all along; the message must stay invisible to it until this commits.
          await sleep(300)
          assert.equal(payer.received.length, 0)
        })
        await until('the callback after commit', () => payer.received.length === 1)
        await until('it to be recorded', async () => (await outbox.find(id))?.state === 'DELIVERED')
        const stored = await outbox.find(id)
        assert.equal(stored?.attempts, 1)
        assert.equal(stored?.lastStatus, 200)
        assert.equal(stored?.completedAtMs, START_MS)
        const got = payer.received[0]
        assert.equal(got?.method, 'PUT')
        assert.equal(got?.path, '/transfers/t1/1')
        assert.equal(got?.headers['fspiop-destination'], 'payerfsp')
        assert.equal(got?.headers['content-type'], 'application/vnd.interoperability.transfers+json;version=1.1')
        assert.deepEqual(JSON.parse(got?.body ?? ''), { n: 1, payee: { name: PARTY_NAME } })
        assertNothingLeaked()
      })

      it('never sends a message whose transaction rolled back', async () => {
        const payer = await fake('payerfsp')
        const outbox = outboxWith()
        outbox.start()
        await assert.rejects(
          store.transaction(async (tx) => {
            await outbox.enqueue(tx, aCallback(payer, 'transfers/t1', 1))
            throw new Error('the state change failed')
          }),
          /the state change failed/,
        )
        await sleep(300)
        assert.equal(payer.received.length, 0)
        assert.deepEqual(states(await outbox.countByState()), {})
      })

      it('keeps the order given to enqueueMany, and refuses a second message with the same id', async () => {
        const payee = await fake('payeefsp')
        const outbox = outboxWith()
        const ids = await enqueueAll(outbox, [1, 2, 3, 4, 5].map((n) => aCallback(payee, 'transfers/t1', n, { id: `m-${n}` })))
        assert.deepEqual(ids, ['m-1', 'm-2', 'm-3', 'm-4', 'm-5'])
        await assert.rejects(store.transaction((tx) => outbox.enqueue(tx, aCallback(payee, 'transfers/t2', 1, { id: 'm-3' }))))
        await settle(outbox)
        assert.deepEqual(payee.paths(), ['/transfers/t1/1', '/transfers/t1/2', '/transfers/t1/3', '/transfers/t1/4', '/transfers/t1/5'])
      })
    })

    describe('hand-off: with the worker running, a committed message goes straight to the sender', () => {
      /** The store, counting the worker's queries for due messages (the claim path's polling query). */
      function countingDueQueries(on: Store): { store: Store; dueQueries: () => number } {
        let count = 0
        const proxy = new Proxy(on, {
          get(target, property) {
            if (property === 'query') {
              return (sql: string, params?: readonly SqlValue[]) => {
                if (sql.includes('ROW_NUMBER()')) count += 1
                return target.query(sql, params)
              }
            }
            const value = Reflect.get(target, property, target) as unknown
            return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value
          },
        })
        return { store: proxy, dueQueries: () => count }
      }

      it('is written claimed and sent right after the commit, with no query for due messages', async () => {
        const payer = await fake('payerfsp', () => 'hold')
        const counting = countingDueQueries(store)
        // The only poll is the first one; everything after it must come from the hand-off.
        const outbox = outboxWith({ store: counting.store, pollIntervalMs: 600_000 })
        outbox.start()
        await until('the first poll', () => counting.dueQueries() === 1)
        let id = ''
        await store.transaction(async (tx) => {
          id = await outbox.enqueue(tx, aCallback(payer, 'transfers/t1', 1))
          await sleep(100)
          assert.equal(payer.received.length, 0, 'nothing is sent before the commit')
        })
        await until('the callback after commit', () => payer.held === 1)
        const sending = await outbox.find(id)
        assert.deepEqual([sending?.state, sending?.attempts, sending?.dueAtMs], ['SENDING', 1, START_MS + 300_000], 'claimed at enqueue, leased')
        payer.release()
        await until('it to be recorded', async () => (await outbox.find(id))?.state === 'DELIVERED')
        assert.equal(counting.dueQueries(), 1, 'no query for due messages after the first poll')
        assert.equal(recorder.count('delivered'), 1)
        assertNothingLeaked()
      })

      it('is retried after a failed attempt, like any claimed message', async () => {
        const payee = await fake('payeefsp', (_request, index) => (index === 0 ? 503 : 200))
        const outbox = outboxWith()
        outbox.start()
        const [id] = await enqueueAll(outbox, [aCallback(payee, 'transfers/t1', 1)])
        await until('the first attempt to be recorded', () => recorder.count('retried') === 1)
        assert.deepEqual(
          await outbox.find(id as string).then((m) => [m?.state, m?.attempts, m?.lastStatus, m?.dueAtMs]),
          ['PENDING', 1, 503, START_MS + 500],
        )
        clock.advance(POLICY.delayMaxMs)
        await until('the retry to be delivered', async () => (await outbox.find(id as string))?.state === 'DELIVERED')
        assert.equal((await outbox.find(id as string))?.attempts, 2)
        assert.deepEqual(payee.paths(), ['/transfers/t1/1', '/transfers/t1/1'])
      })

      it('is sent again after a restart when the process died before its outcome was recorded', async () => {
        const payee = await fake('payeefsp')
        // The first process: its sender never finishes (the process "dies" mid-attempt).
        const stuck: ((result: SendResult) => void)[] = []
        const dead = outboxWith({ send: () => new Promise<SendResult>((resolve) => stuck.push(resolve)), leaseMs: 60_000, attemptTimeoutMs: 50_000, reclaimOnStart: kind.name === 'sqlite' })
        dead.start()
        await sleep(50)
        const [id] = await enqueueAll(dead, [aCallback(payee, 'transfers/t1', 1)])
        await until('the attempt to start', () => stuck.length === 1)
        assert.equal((await dead.find(id as string))?.state, 'SENDING')
        // The process is gone: it claims nothing more (its attempt stays stuck until the end of the test).
        const deadClosed = dead.close()
        try {
          // The next process on the same database. On SQLite it is the file's only worker and takes its
          // predecessor's claims back at start; on PostgreSQL it waits for the lease to run out.
          const heir = outboxOn(await secondStore(), { leaseMs: 60_000, attemptTimeoutMs: 50_000, reclaimOnStart: kind.name === 'sqlite' })
          if (kind.name === 'postgres') {
            assert.equal(await heir.runOnce(), 0, 'a live lease is respected')
            clock.advance(60_000)
          }
          heir.start()
          await until('the message to be delivered by the next process', async () => (await heir.find(id as string))?.state === 'DELIVERED')
          assert.deepEqual(payee.paths(), ['/transfers/t1/1'])
          assert.equal((await heir.find(id as string))?.attempts, 2)
          // The dead process's late outcome belongs to a claim that no longer owns the message.
          for (const resolve of stuck) resolve({ status: 500 })
          await deadClosed
          assert.equal((await heir.find(id as string))?.state, 'DELIVERED')
        } finally {
          for (const resolve of stuck) resolve({ status: 500 })
        }
      })

      it('writes a message behind an open one of its correlation PENDING, and sends it as soon as the first is recorded', async () => {
        const payee = await fake('payeefsp', (request) => (request.path === '/transfers/t1/1' ? 'hold' : 200))
        const counting = countingDueQueries(store)
        const outbox = outboxWith({ store: counting.store, pollIntervalMs: 600_000 })
        outbox.start()
        await until('the first poll', () => counting.dueQueries() === 1)
        const [first] = await enqueueAll(outbox, [aCallback(payee, 'transfers/t1', 1)])
        await until('the first to be held', () => payee.held === 1)
        const [second] = await enqueueAll(outbox, [aCallback(payee, 'transfers/t1', 2)])
        const [other] = await enqueueAll(outbox, [aCallback(payee, 'transfers/t2', 1)])
        await until('the other correlation', async () => (await outbox.find(other as string))?.state === 'DELIVERED')
        assert.equal((await outbox.find(second as string))?.state, 'PENDING', 'waits behind the first')
        assert.equal(payee.overlappingCorrelation, null)
        payee.release()
        // No poll is due for ten minutes: the first's recorded outcome itself sends the second.
        await until('the second', async () => (await outbox.find(second as string))?.state === 'DELIVERED')
        assert.equal((await outbox.find(first as string))?.state, 'DELIVERED')
        assert.deepEqual(payee.paths('transfers/t1'), ['/transfers/t1/1', '/transfers/t1/2'])
        assert.equal(payee.overlappingCorrelation, null)
      })

      it('keeps to perDestinationMax: a message with no free slot waits PENDING and goes when one frees', async () => {
        const payee = await fake('payeefsp', () => 'hold')
        const outbox = outboxWith({ perDestinationMax: 2, pollIntervalMs: 600_000 })
        outbox.start()
        await sleep(50)
        const ids = await enqueueAll(outbox, [1, 2, 3, 4].map((n) => aCallback(payee, `transfers/t${n}`, 1)))
        await until('two held', () => payee.held === 2)
        await sleep(100)
        assert.equal(payee.received.length, 2, 'no more than two in flight')
        assert.deepEqual(states(await outbox.countByState()), { SENDING: 2, PENDING: 2 })
        payee.answerWith(() => 200)
        payee.release()
        await until('all four', async () => (await outbox.countByState()).DELIVERED === 4)
        assert.ok(payee.inFlightMax <= 2, `had ${payee.inFlightMax} in flight`)
        assert.deepEqual(await Promise.all(ids.map(async (id) => (await outbox.find(id))?.attempts)), [1, 1, 1, 1])
      })

      it('frees the slot of a message whose transaction rolled back', async () => {
        const payee = await fake('payeefsp')
        const outbox = outboxWith({ perDestinationMax: 1, pollIntervalMs: 600_000 })
        outbox.start()
        await sleep(50)
        for (let i = 0; i < 3; i += 1) {
          await assert.rejects(
            store.transaction(async (tx) => {
              await outbox.enqueue(tx, aCallback(payee, `transfers/r${i}`, 1))
              throw new Error('the state change failed')
            }),
          )
        }
        const [id] = await enqueueAll(outbox, [aCallback(payee, 'transfers/t1', 1)])
        await until('the message after the rollbacks', async () => (await outbox.find(id as string))?.state === 'DELIVERED')
        assert.deepEqual(payee.paths(), ['/transfers/t1/1'])
        assert.deepEqual(states(await outbox.countByState()), { DELIVERED: 1 })
      })
    })

    describe('outcomes', () => {
      it('records 2xx as DELIVERED, a refusal as FAILED at once, and a 3xx as FAILED without following it', async () => {
        const payer = await fake('payerfsp', (request) => Number(request.path.split('/').at(-1)))
        const outbox = outboxWith()
        const statuses = [200, 202, 204, 400, 404, 301, 302]
        const ids = await enqueueAll(
          outbox,
          statuses.map((status, n) => aCallback(payer, `transfers/s${n}`, status)),
        )
        await settle(outbox)
        clock.advance(POLICY.delayMaxMs * 10)
        await settle(outbox)
        const found = await Promise.all(ids.map((id) => outbox.find(id)))
        assert.deepEqual(
          found.map((m) => [m?.state, m?.attempts, m?.lastStatus]),
          [
            ['DELIVERED', 1, 200],
            ['DELIVERED', 1, 202],
            ['DELIVERED', 1, 204],
            ['FAILED', 1, 400],
            ['FAILED', 1, 404],
            ['FAILED', 1, 301],
            ['FAILED', 1, 302],
          ],
        )
        assert.equal(payer.received.length, statuses.length, 'nothing was retried')
        assert.equal(recorder.count('delivered'), 3)
        assert.equal(recorder.count('failed', undefined, 'rejected'), 4)
        assert.equal(recorder.count('retried'), 0)
        assert.equal(unreachable.length, 0, 'a refusal is not unreachability')
        assertNothingLeaked()
      })

      it('retries 5xx, 429, timeouts and refused connections with backoff, then delivers', async () => {
        // Each path fails in its own way on the first attempt(s) and answers 200 afterwards.
        const seen = new Map<string, number>()
        const payee = await fake('payeefsp', (request) => {
          const n = (seen.get(request.path) ?? 0) + 1
          seen.set(request.path, n)
          if (request.path.startsWith('/transfers/e500/')) return n <= 2 ? 500 : 200
          if (request.path.startsWith('/transfers/e503/')) return n === 1 ? 503 : 200
          if (request.path.startsWith('/transfers/e429/')) return n === 1 ? 429 : 200
          if (request.path.startsWith('/transfers/slow/')) return n === 1 ? 'hang' : 200
          return 200
        })
        const outbox = outboxWith({ attemptTimeoutMs: 300, leaseMs: 60_000 })
        const ids = await enqueueAll(outbox, [
          aCallback(payee, 'transfers/e500', 1),
          aCallback(payee, 'transfers/e503', 1),
          aCallback(payee, 'transfers/e429', 1),
          aCallback(payee, 'transfers/slow', 1),
        ])
        await settle(outbox)
        const afterFirst = await Promise.all(ids.map((id) => outbox.find(id)))
        assert.deepEqual(
          afterFirst.map((m) => [m?.state, m?.attempts, m?.lastStatus, m?.lastError]),
          [
            ['PENDING', 1, 500, null],
            ['PENDING', 1, 503, null],
            ['PENDING', 1, 429, null],
            ['PENDING', 1, null, 'timeout'],
          ],
        )
        // random() = 0: the first pause is exactly half the base delay.
        for (const m of afterFirst) assert.equal(m?.dueAtMs, START_MS + 500)
        clock.advance(499)
        await settle(outbox)
        assert.equal(payee.received.length, 4, 'nothing is retried before its time')
        clock.advance(1)
        await settle(outbox)
        clock.advance(POLICY.delayMaxMs)
        await settle(outbox)
        const final = await Promise.all(ids.map((id) => outbox.find(id)))
        assert.deepEqual(
          final.map((m) => [m?.state, m?.attempts, m?.lastStatus]),
          [
            ['DELIVERED', 3, 200],
            ['DELIVERED', 2, 200],
            ['DELIVERED', 2, 200],
            ['DELIVERED', 2, 200],
          ],
        )
        assert.equal(recorder.count('retried'), 5)
        assert.equal(recorder.count('delivered'), 4)
        assert.equal(recorder.count('latency'), 9, 'one latency per attempt')
        assert.ok(recorder.events.filter((e) => e.kind === 'latency').every((e) => typeof e.extra === 'number' && e.extra >= 0))
        const retriedAt = recorder.events.filter((e) => e.kind === 'retried').map((e) => e.extra)
        assert.deepEqual(retriedAt.slice(0, 4), [START_MS + 500, START_MS + 500, START_MS + 500, START_MS + 500])
        assertNothingLeaked()
      })

      it('waits as long as Retry-After asks, within the longest pause', async () => {
        const payee = await fake('payeefsp', (_request, index) => (index === 0 ? 429 : 200))
        const outbox = outboxWith({
          send: async (request, signal) => {
            const result = await createFetchSender()(request, signal)
            return 'status' in result && result.status === 429 ? { ...result, retryAfterMs: 3_000 } : result
          },
        })
        const [id] = await enqueueAll(outbox, [aCallback(payee, 'transfers/t1', 1)])
        await settle(outbox)
        assert.equal((await outbox.find(id as string))?.dueAtMs, START_MS + 3_000)
        clock.advance(2_999)
        await settle(outbox)
        assert.equal(payee.received.length, 1)
        clock.advance(1)
        await settle(outbox)
        assert.equal((await outbox.find(id as string))?.state, 'DELIVERED')
      })

      it('gives up after the last attempt: FAILED_UNREACHABLE, and the hook once, whose 1001 callback commits with it', async () => {
        const payer = await fake('payerfsp')
        const payee = await refusingDfsp('payeefsp')
        const notices: string[] = []
        const outbox: Outbox = outboxWith({
          onUnreachable: async (message, tx) => {
            notices.push(message.id)
            // What the switch will do: tell the source, in the same transaction as the notice.
            await outbox.enqueue(tx, {
              ...aCallback(payer, `${message.correlation}/error`, 1001),
              body: JSON.stringify({ errorInformation: { errorCode: '1001', errorDescription: 'Destination communication error' } }),
            })
          },
        })
        const [id] = await enqueueAll(outbox, [aCallback(payee, 'transfers/t1', 1, { method: 'POST', url: `${payee.base}/transfers` })])
        await deliverEverything(clock, outbox)
        const message = await outbox.find(id as string)
        assert.equal(message?.state, 'FAILED_UNREACHABLE')
        assert.equal(message?.attempts, POLICY.attemptsMax)
        assert.equal(message?.lastError, 'network: ECONNREFUSED')
        assert.deepEqual(notices, [id])
        assert.deepEqual(payer.paths(), ['/transfers/t1/error/1001'])
        assert.equal(JSON.parse(payer.received[0]?.body ?? '{}').errorInformation.errorCode, '1001')
        // More rounds and more time change nothing: the notice was given once.
        clock.advance(POLICY.delayMaxMs * 10)
        await settle(outbox)
        assert.deepEqual(notices, [id])
        assert.equal(recorder.count('retried', 'payeefsp'), POLICY.attemptsMax - 1)
        assert.equal(recorder.count('failed', 'payeefsp', 'unreachable'), 1)
        assert.deepEqual(states(await outbox.countByState()), { DELIVERED: 1, FAILED_UNREACHABLE: 1 })
        assertNothingLeaked()
      })

      it('gives up when the age limit comes first', async () => {
        const payee = await refusingDfsp('payeefsp')
        const outbox = outboxWith({ retryPolicy: { ...POLICY, attemptsMax: 100, ageMaxMs: 2_000 } })
        const [id] = await enqueueAll(outbox, [aCallback(payee, 'transfers/t1', 1)])
        // Attempts at 0 s, 0.5 s and 1.5 s of age; the pause after the third (2 s) would end past 2 s.
        await settle(outbox)
        clock.advance(500)
        await settle(outbox)
        assert.equal((await outbox.find(id as string))?.state, 'PENDING')
        clock.advance(1_000)
        await settle(outbox)
        const message = await outbox.find(id as string)
        assert.equal(message?.state, 'FAILED_UNREACHABLE')
        assert.equal(message?.attempts, 3)
        assert.equal(unreachable.length, 1)
      })

      it('tries a hook that fails again at the next round, and commits its work only once', async () => {
        const payer = await fake('payerfsp')
        const payee = await refusingDfsp('payeefsp')
        let calls = 0
        const outbox: Outbox = outboxWith({
          retryPolicy: { ...POLICY, attemptsMax: 1 },
          onUnreachable: async (message, tx) => {
            calls += 1
            await outbox.enqueue(tx, aCallback(payer, `${message.correlation}/error`, calls))
            if (calls === 1) throw new Error('the switch could not build the error callback')
          },
        })
        await enqueueAll(outbox, [aCallback(payee, 'transfers/t1', 1)])
        await settle(outbox)
        assert.equal(calls, 2)
        assert.deepEqual(
          recorder.errors.map((e) => e.during),
          ['notice'],
        )
        recorder.errors.length = 0
        await settle(outbox)
        assert.equal(calls, 2)
        // The first call's callback rolled back with it; only the second one's was sent.
        assert.deepEqual(payer.paths(), ['/transfers/t1/error/2'])
      })

      it('counts a sender that throws as a network error, and reports the throw', async () => {
        let calls = 0
        const payee = await fake('payeefsp')
        const outbox = outboxWith({
          send: async (request, signal) => {
            calls += 1
            if (calls === 1) throw new Error('a bug in the sender')
            return createFetchSender()(request, signal)
          },
        })
        const [id] = await enqueueAll(outbox, [aCallback(payee, 'transfers/t1', 1)])
        await deliverEverything(clock, outbox)
        const message = await outbox.find(id as string)
        assert.deepEqual([message?.state, message?.attempts], ['DELIVERED', 2])
        assert.deepEqual(
          recorder.errors.map((e) => e.during),
          ['send'],
        )
      })

      it('survives metrics callbacks that throw', async () => {
        const payee = await fake('payeefsp')
        const outbox = outboxWith({
          metrics: {
            delivered: () => {
              throw new Error('metrics backend down')
            },
          },
        })
        const [id] = await enqueueAll(outbox, [aCallback(payee, 'transfers/t1', 1)])
        await settle(outbox)
        assert.equal((await outbox.find(id as string))?.state, 'DELIVERED')
        assert.deepEqual(
          recorder.errors.map((e) => e.during),
          ['metrics'],
        )
      })
    })

    describe('order per (destination, correlation)', () => {
      it('does not start message N+1 while N waits for a retry, while other correlations go ahead', async () => {
        let firstOfA = true
        const payee = await fake('payeefsp', (request) => {
          if (request.path === '/transfers/a/1' && firstOfA) {
            firstOfA = false
            return 503
          }
          return 200
        })
        const payer = await fake('payerfsp')
        const outbox = outboxWith()
        await enqueueAll(outbox, [
          ...[1, 2, 3, 4, 5].map((n) => aCallback(payee, 'transfers/a', n)),
          ...[1, 2, 3].map((n) => aCallback(payee, 'transfers/b', n)),
          // The same correlation to another destination is another queue.
          ...[1, 2].map((n) => aCallback(payer, 'transfers/a', n)),
        ])
        await settle(outbox)
        assert.deepEqual(payee.paths('transfers/a'), ['/transfers/a/1'], 'a/2 waits while a/1 waits for its retry')
        assert.deepEqual(payee.paths('transfers/b'), ['/transfers/b/1', '/transfers/b/2', '/transfers/b/3'])
        assert.deepEqual(payer.paths(), ['/transfers/a/1', '/transfers/a/2'])
        clock.advance(POLICY.delayMaxMs)
        await settle(outbox)
        assert.deepEqual(payee.paths('transfers/a'), ['/transfers/a/1', '/transfers/a/1', '/transfers/a/2', '/transfers/a/3', '/transfers/a/4', '/transfers/a/5'])
      })

      it('lets GETs of one correlation go out side by side, but never before an open message that changes something', async () => {
        const payee = await fake('payeefsp', () => 'hold')
        const outbox = outboxWith()
        outbox.start()
        await sleep(50)
        const aGet = (n: number): OutboxMessageInput => ({ ...aCallback(payee, 'parties/MSISDN/1', n), method: 'GET', body: null })
        await enqueueAll(outbox, [aCallback(payee, 'parties/MSISDN/1', 1)])
        await until('the PUT to be held', () => payee.held === 1)
        const gets = await enqueueAll(outbox, [aGet(2), aGet(3)])
        gets.push(...(await enqueueAll(outbox, [aGet(4)])))
        await sleep(100)
        assert.equal(payee.received.length, 1, 'the GETs wait for the PUT before them')
        assert.deepEqual(await Promise.all(gets.map(async (id) => (await outbox.find(id))?.state)), ['PENDING', 'PENDING', 'PENDING'])
        payee.release()
        await until('the three GETs in flight together', () => payee.held === 3)
        // A PUT after open GETs does not wait for them.
        await enqueueAll(outbox, [aCallback(payee, 'parties/MSISDN/1', 5)])
        await until('the PUT beside the GETs', () => payee.held === 4)
        payee.answerWith(() => 200)
        payee.release()
        await until('all five', async () => (await outbox.countByState()).DELIVERED === 5)
        assert.equal(payee.paths()[0], '/parties/MSISDN/1/1')
        assert.equal(payee.paths().at(-1), '/parties/MSISDN/1/5')
      })

      it('lets messages that only inform (answers to look-ups) go out side by side, but never before one that holds back', async () => {
        const payer = await fake('payerfsp', () => 'hold')
        const outbox = outboxWith()
        outbox.start()
        await sleep(50)
        const anAnswer = (n: number): OutboxMessageInput => aCallback(payer, 'parties/MSISDN/1', n, { informs: true })
        await enqueueAll(outbox, [aCallback(payer, 'parties/MSISDN/1', 1)])
        await until('the first PUT, which holds back, to be held', () => payer.held === 1)
        const answers = await enqueueAll(outbox, [anAnswer(2), anAnswer(3)])
        answers.push(...(await enqueueAll(outbox, [anAnswer(4)])))
        await sleep(100)
        assert.equal(payer.received.length, 1, 'the answers wait for the message before them that holds back')
        payer.release()
        await until('the three answers in flight together', () => payer.held === 3)
        assert.equal(payer.overlappingCorrelation, 'parties/MSISDN/1', 'answers of one correlation were in flight at once')
        payer.answerWith(() => 200)
        payer.release()
        await until('all four', async () => (await outbox.countByState()).DELIVERED === 4)
      })

      it('lets N+1 go ahead once N has failed for good', async () => {
        const payee = await fake('payeefsp', (request) => (request.path === '/transfers/a/1' ? 400 : 200))
        const outbox = outboxWith()
        const ids = await enqueueAll(
          outbox,
          [1, 2].map((n) => aCallback(payee, 'transfers/a', n)),
        )
        await settle(outbox)
        assert.deepEqual(payee.paths(), ['/transfers/a/1', '/transfers/a/2'])
        assert.deepEqual(
          await Promise.all(ids.map(async (id) => (await outbox.find(id))?.state)),
          ['FAILED', 'DELIVERED'],
        )
      })

      it('never has two messages of one correlation in flight, with the worker running', async () => {
        let n = 0
        const payee = await fake('payeefsp', () => ((n += 1) % 3 === 0 ? 'hold' : 200))
        const release = setInterval(() => payee.release(), 5)
        try {
          const outbox = outboxWith()
          const messages: OutboxMessageInput[] = []
          for (let i = 1; i <= 10; i += 1) for (const c of ['a', 'b', 'c', 'd']) messages.push(aCallback(payee, `transfers/${c}`, i))
          await enqueueAll(outbox, messages)
          outbox.start()
          await until('all 40 callbacks', async () => (await outbox.countByState()).DELIVERED === 40)
          assert.equal(payee.overlappingCorrelation, null)
          for (const c of ['a', 'b', 'c', 'd']) {
            assert.deepEqual(
              payee.paths(`transfers/${c}`),
              Array.from({ length: 10 }, (_, i) => `/transfers/${c}/${i + 1}`),
            )
          }
        } finally {
          clearInterval(release)
        }
      })
    })

    describe('concurrency', () => {
      it('keeps at most perDestinationMax in flight per destination and inFlightMax in all, sharing slots among destinations', async () => {
        const [d1, d2, d3] = await Promise.all(['dfsp1', 'dfsp2', 'dfsp3'].map((name) => fake(name, () => 'hold')))
        assert.ok(d1 !== undefined && d2 !== undefined && d3 !== undefined)
        const outbox = outboxWith({ perDestinationMax: 8, inFlightMax: 20 })
        // dfsp1's backlog is enqueued first: it must not take every slot.
        await enqueueAll(outbox, [
          ...Array.from({ length: 30 }, (_, i) => aCallback(d1, `transfers/${i}`, 1)),
          ...Array.from({ length: 30 }, (_, i) => aCallback(d2, `transfers/${i}`, 1)),
          ...Array.from({ length: 30 }, (_, i) => aCallback(d3, `transfers/${i}`, 1)),
        ])
        outbox.start()
        await until('20 requests held', () => d1.held + d2.held + d3.held === 20)
        // Several more polls: still no more than the limits allow.
        await sleep(300)
        assert.equal(d1.held + d2.held + d3.held, 20)
        for (const d of [d1, d2, d3]) {
          assert.ok(d.held >= 1 && d.held <= 8, `${d.name} holds ${d.held}`)
        }
        for (const d of [d1, d2, d3]) d.answerWith(() => 200)
        for (const d of [d1, d2, d3]) d.release()
        await until('all 90 delivered', async () => (await outbox.countByState()).DELIVERED === 90)
        for (const d of [d1, d2, d3]) {
          assert.ok(d.inFlightMax <= 8, `${d.name} had ${d.inFlightMax} in flight`)
          assert.equal(d.received.length, 30)
        }
        assertNothingLeaked()
      })

      it('delivers to a good DFSP promptly while one hangs and one refuses connections, and the bad ones retry', async (t) => {
        const hang = await fake('hangfsp', () => 'hang')
        const refuse = await refusingDfsp('refusefsp')
        const good = await fake('goodfsp')
        const outbox = outboxWith({ perDestinationMax: 8, inFlightMax: 64 })
        // The dead DFSPs' messages are enqueued first, the good one's last: the worst order for the good one.
        const bad = [...Array.from({ length: 50 }, (_, i) => aCallback(hang, `transfers/h${i}`, 1)), ...Array.from({ length: 50 }, (_, i) => aCallback(refuse, `transfers/r${i}`, 1))]
        await enqueueAll(outbox, bad)
        await enqueueAll(
          outbox,
          Array.from({ length: 50 }, (_, i) => aCallback(good, `transfers/g${i}`, 1)),
        )
        const startedMs = performance.now()
        outbox.start()
        await until('the good DFSP’s 50 callbacks', () => recorder.count('delivered', 'goodfsp') === 50)
        t.diagnostic(`goodfsp: 50 callbacks delivered in ${(performance.now() - startedMs).toFixed(0)} ms beside a hanging and a refusing DFSP`)
        // Causal, not timed: not one attempt to the hanging DFSP had ended when the good DFSP had everything.
        assert.equal(recorder.count('latency', 'hangfsp'), 0, 'no attempt to hangfsp has ended')
        assert.equal(good.received.length, 50)
        // It holds its first 8 attempts (perDestinationMax), unanswered, and gets no others while they hang.
        await until('the hanging DFSP to hold 8 requests', () => hang.received.length === 8)
        assert.equal(hang.answered, 0)

        // The refusing DFSP's messages were each tried once and wait for their retry; the clock has not moved.
        await until('every refused message to wait for a retry', () => recorder.count('retried', 'refusefsp') === 50)
        await sleep(200)
        // Failed once in CI on PostgreSQL with 100 (not reproduced since): say which attempts were retried, and when for.
        const refusedRetries = recorder.events.filter((e) => e.kind === 'retried' && e.info.destination === 'refusefsp')
        const byAttempt = Object.entries(Object.groupBy(refusedRetries, (e) => `attempt ${e.info.attempt} due ${String(e.extra)}`)).map(([key, list]) => `${key}: ${list?.length}`)
        assert.equal(refusedRetries.length, 50, `nothing is retried before its time (clock ${clock.nowMs()}; ${byAttempt.join(', ')}; ${new Set(refusedRetries.map((e) => e.info.id)).size} messages)`)

        // Time passes: the refused messages are retried while new good traffic keeps flowing.
        clock.advance(POLICY.delayMaxMs)
        await enqueueAll(
          outbox,
          Array.from({ length: 50 }, (_, i) => aCallback(good, `transfers/g${50 + i}`, 1)),
        )
        await until('100 good callbacks', () => recorder.count('delivered', 'goodfsp') === 100)
        await until('second attempts to the refusing DFSP', () => recorder.count('retried', 'refusefsp') === 100)
        assert.equal(hang.received.length, 8)

        // The hanging DFSP goes away: its attempts fail, and from now on its connections are refused too.
        await hang.stop()
        await until('the hung attempts to fail', () => recorder.count('retried', 'hangfsp') >= 8)
        for (let step = 0; step < 50; step += 1) {
          if (unreachable.length === 100) break
          clock.advance(POLICY.delayMaxMs)
          await sleep(100)
        }
        await until('100 unreachable notices', () => unreachable.length >= 100)
        await outbox.close()
        assert.equal(unreachable.length, 100)
        const noticed = unreachable.map((m) => m.id)
        assert.equal(new Set(noticed).size, 100, 'each unreachable message noticed exactly once')
        assert.deepEqual(new Set(unreachable.map((m) => m.destination)), new Set(['hangfsp', 'refusefsp']))
        assert.deepEqual(states(await outbox.countByState()), { DELIVERED: 100, FAILED_UNREACHABLE: 100 })
        assert.equal(good.received.length, 100, 'every good callback exactly once')
        assertNothingLeaked()
      })
    })

    describe('restarts', () => {
      it('delivers what an earlier instance left pending, and never resends what it delivered', async () => {
        const payee = await fake('payeefsp')
        const first = outboxWith()
        await enqueueAll(
          first,
          Array.from({ length: 10 }, (_, i) => aCallback(payee, `transfers/t${i}`, 1)),
        )
        await settle(first)
        assert.equal(payee.received.length, 10)
        await enqueueAll(
          first,
          Array.from({ length: 10 }, (_, i) => aCallback(payee, `transfers/t${i}`, 2)),
        )
        await first.close()
        assert.equal(payee.received.length, 10, 'the second ten were never sent before the restart')

        // A new process: a new store client on the same database and a new outbox.
        const second = outboxOn(await secondStore())
        second.start()
        await until('the ten left pending', async () => (await second.countByState()).DELIVERED === 20)
        await sleep(200)
        assert.equal(payee.received.length, 20)
        const perPath = new Map<string, number>()
        for (const path of payee.paths()) perPath.set(path, (perPath.get(path) ?? 0) + 1)
        assert.ok([...perPath.values()].every((n) => n === 1), 'every callback arrived exactly once')
        for (let i = 0; i < 10; i += 1) assert.deepEqual(payee.paths(`transfers/t${i}`), [`/transfers/t${i}/1`, `/transfers/t${i}/2`])
      })

      it('takes over a dead worker’s claims once their lease runs out, and ignores the dead worker’s late outcome', async () => {
        const payee = await fake('payeefsp')
        // The first worker claims and "dies" mid-attempt: its sends never finish until we let them.
        const stuck: ((result: SendResult) => void)[] = []
        const dead = outboxWith({ send: () => new Promise<SendResult>((resolve) => stuck.push(resolve)), leaseMs: 60_000, attemptTimeoutMs: 50_000 })
        const ids = await enqueueAll(
          dead,
          Array.from({ length: 5 }, (_, i) => aCallback(payee, `transfers/t${i}`, 1)),
        )
        assert.equal(await dead.runOnce(), 5)
        assert.deepEqual(states(await dead.countByState()), { SENDING: 5 })

        // The heir's attempts go over real HTTP, but only once the gate opens.
        let openGate = (): void => undefined
        const gate = new Promise<void>((resolve) => (openGate = resolve))
        const fetchSender = createFetchSender()
        const heir = outboxOn(await secondStore(), {
          leaseMs: 60_000,
          attemptTimeoutMs: 50_000,
          send: async (request, signal) => {
            await gate
            return fetchSender(request, signal)
          },
        })
        try {
          clock.advance(59_999)
          assert.equal(await heir.runOnce(), 0, 'a live lease is respected')
          clock.advance(1)
          assert.equal(await heir.runOnce(), 5, 'an expired lease is taken over')

          // The dead worker's attempts finish while the heir's are in flight (say, its 200s were on the wire):
          // they belong to a claim that no longer owns the messages, so nothing is recorded.
          for (const resolve of stuck) resolve({ status: 200 })
          await dead.idle()
          assert.equal(recorder.count('delivered'), 0, 'a lost claim records nothing')
          assert.deepEqual(states(await heir.countByState()), { SENDING: 5 })

          openGate()
          await heir.idle()
          assert.equal(payee.received.length, 5)
          assert.equal(recorder.count('delivered'), 5)
          for (const id of ids) {
            const message = await heir.find(id)
            assert.deepEqual([message?.state, message?.attempts], ['DELIVERED', 2])
          }
        } finally {
          // On a failed assertion, let the held attempts end so that teardown does not wait for their timeout.
          openGate()
          for (const resolve of stuck) resolve({ status: 200 })
        }
      })

      it('gives a notice still owed when the previous instance stopped', async () => {
        const payee = await refusingDfsp('payeefsp')
        const failing = outboxWith({
          retryPolicy: { ...POLICY, attemptsMax: 1 },
          onUnreachable: () => {
            throw new Error('the process is going down')
          },
        })
        const [id] = await enqueueAll(failing, [aCallback(payee, 'transfers/t1', 1)])
        await settle(failing)
        await failing.close()
        recorder.errors.length = 0
        assert.equal(unreachable.length, 0)
        const next = outboxOn(await secondStore())
        await next.runOnce()
        assert.deepEqual(
          unreachable.map((m) => m.id),
          [id],
        )
        await next.runOnce()
        assert.equal(unreachable.length, 1)
      })
    })

    describe('several workers on one database', () => {
      it('sends every message exactly once and in order per correlation', async () => {
        let n = 0
        const payee = await fake('payeefsp', () => ((n += 1) % 4 === 0 ? 'hold' : 200))
        const release = setInterval(() => payee.release(), 2)
        try {
          const messages: OutboxMessageInput[] = []
          for (let i = 1; i <= 5; i += 1) for (let c = 0; c < 60; c += 1) messages.push(aCallback(payee, `transfers/c${c}`, i))
          const a = outboxWith()
          const b = outboxOn(await secondStore())
          await enqueueAll(a, messages)
          a.start()
          b.start()
          await until('all 300 delivered', async () => (await a.countByState()).DELIVERED === 300)
          await sleep(200)
          assert.equal(payee.received.length, 300)
          assert.equal(new Set(payee.paths()).size, 300, 'no message was sent twice')
          assert.equal(payee.overlappingCorrelation, null)
          for (let c = 0; c < 60; c += 1) {
            assert.deepEqual(
              payee.paths(`transfers/c${c}`),
              [1, 2, 3, 4, 5].map((i) => `/transfers/c${c}/${i}`),
            )
          }
        } finally {
          clearInterval(release)
        }
      })

      it('gives each unreachable notice exactly once when two workers race for them', async () => {
        const payee = await refusingDfsp('payeefsp')
        const a = outboxWith({ retryPolicy: { ...POLICY, attemptsMax: 1 } })
        const b = outboxOn(await secondStore(), { retryPolicy: { ...POLICY, attemptsMax: 1 } })
        await enqueueAll(
          a,
          Array.from({ length: 40 }, (_, i) => aCallback(payee, `transfers/t${i}`, 1)),
        )
        await settle(a, b)
        await Promise.all([a.runOnce(), b.runOnce(), a.runOnce(), b.runOnce()])
        await Promise.all([a.idle(), b.idle()])
        assert.equal(unreachable.length, 40)
        assert.equal(new Set(unreachable.map((m) => m.id)).size, 40)
      })
    })

    describe('housekeeping', () => {
      it('purges finished messages older than asked, but never open ones or owed notices', async () => {
        const payee = await fake('payeefsp', (request) => (request.path.startsWith('/transfers/fail') ? 400 : 200))
        const gone = await refusingDfsp('gonefsp')
        const outbox = outboxWith({
          retryPolicy: { ...POLICY, attemptsMax: 1 },
          onUnreachable: () => {
            throw new Error('the switch cannot take the notice yet')
          },
        })
        await enqueueAll(outbox, [aCallback(payee, 'transfers/ok', 1), aCallback(payee, 'transfers/fail', 1), aCallback(gone, 'transfers/gone', 1)])
        await settle(outbox)
        recorder.errors.length = 0
        const [open] = await enqueueAll(outbox, [aCallback(payee, 'transfers/open', 1)])
        assert.deepEqual(states(await outbox.countByState()), { PENDING: 1, DELIVERED: 1, FAILED: 1, FAILED_UNREACHABLE: 1 })
        assert.equal(await outbox.purgeFinished(START_MS), 0, 'nothing finished before the cut-off')
        assert.equal(await outbox.purgeFinished(START_MS + 1), 2, 'DELIVERED and FAILED go; the owed notice stays')
        assert.deepEqual(states(await outbox.countByState()), { PENDING: 1, FAILED_UNREACHABLE: 1 })
        assert.equal((await outbox.find(open as string))?.state, 'PENDING')
        assert.equal(await outbox.purgeFinished(START_MS + 1, 10), 0)
      })
    })
  })
}
