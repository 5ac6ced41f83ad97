// SPDX-License-Identifier: Apache-2.0
/**
 * The crash test's child process: applies ledger batches under load and prints one line per acknowledged
 * operation (`A <id>`) only after its promise resolved, i.e. after its batch committed. Every operation's
 * content is derived from its id, so after a restart the parent can ask it to replay acknowledged ids and
 * expect `exists` for each. Usage: crash-workload.ts <store> <round> <replay-file>
 */
import { readFileSync } from 'node:fs'
import { BatchingLedger } from '../../src/store/ledger/batching-ledger.ts'
import { migrate } from '../../src/store/migrate.ts'
import { openStore } from '../../src/store/open-store.ts'
import type { TransferInput } from '../../src/ledger/types.ts'

export const WALLETS = 20
const FUNDING = 'crash:funding'

const wallet = (n: number): string => `crash:wallet:${n % WALLETS}`

/** The operation an id stands for: t- top-up (posted), p- reservation (pending), f- its post or void. */
export function inputFor(id: string): TransferInput {
  const [kind, , seqText] = id.split('-')
  const n = Number(seqText)
  const amountMinor = BigInt(100 + (n % 900))
  switch (kind) {
    case 't':
      return { id, type: 'posted', debitAccountId: FUNDING, creditAccountId: wallet(n), amountMinor: amountMinor * 5n, currency: 'USD' }
    case 'p':
      return { id, type: 'pending', debitAccountId: wallet(n), creditAccountId: wallet(n + 7), amountMinor, currency: 'USD', reference: `r${n}` }
    case 'f': {
      const pendingId = id.replace(/^f-/, 'p-')
      return n % 3 === 0 ? { id, type: 'void_pending', pendingId } : { id, type: 'post_pending', pendingId, amountMinor: amountMinor - BigInt(n % 50) }
    }
    default:
      throw new Error(`not a workload id: ${id}`)
  }
}

async function run(location: string, round: string, replayFile: string): Promise<void> {
  const store = await openStore(location)
  await migrate(store)
  const ledger = new BatchingLedger(store, { batchEventsMax: 500 })
  await ledger.createAccounts([
    { id: FUNDING, currency: 'USD', code: 'FUNDING' },
    ...Array.from({ length: WALLETS }, (_, i) => ({ id: wallet(i), currency: 'USD', code: 'WALLET', debitsLimitMinor: 0n })),
  ])
  const replay = readFileSync(replayFile, 'utf8').split('\n').filter((id) => id !== '')
  const replayed = await ledger.createTransfers(replay.map(inputFor))
  replayed.forEach((outcome, i) => process.stdout.write(`R ${replay[i]} ${outcome.status}\n`))
  process.stdout.write('ready\n')

  let seq = 0
  const ack = (id: string, status: string): void => {
    if (status === 'created' || status === 'exists') process.stdout.write(`A ${id}\n`)
  }
  const worker = async (): Promise<void> => {
    for (;;) {
      const n = seq++
      const topUp = `t-${round}-${n}`
      if (n % 4 === 0) ack(topUp, (await ledger.createTransfer(inputFor(topUp))).status)
      const reserve = `p-${round}-${n}`
      const reserved = await ledger.createTransfer(inputFor(reserve))
      ack(reserve, reserved.status)
      if (reserved.status !== 'created') continue
      const resolve = `f-${round}-${n}`
      ack(resolve, (await ledger.createTransfer(inputFor(resolve))).status)
    }
  }
  await Promise.all(Array.from({ length: 64 }, worker))
}

if (import.meta.main) {
  const [location, round, replayFile] = process.argv.slice(2)
  if (location === undefined || round === undefined || replayFile === undefined) throw new Error('usage: crash-workload.ts <store> <round> <replay-file>')
  await run(location, round, replayFile)
}
