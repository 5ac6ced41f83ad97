// SPDX-License-Identifier: Apache-2.0
/**
 * Summarises a V8 CPU profile (from bench/profile-hook.ts, or node --cpu-prof): the share of sampled time by
 * category (each sample goes to the first category matching a frame, from the leaf up: SQLite before the
 * repository code that called it, undici before the outbox that sent the request), then the top functions by
 * self time. `node bench/profile-summary.ts FILE.cpuprofile [TOP]`.
 */
import { readFileSync } from 'node:fs'

interface CallFrame {
  readonly functionName: string
  readonly url: string
  readonly lineNumber: number
}
interface ProfileNode {
  readonly id: number
  readonly callFrame: CallFrame
  readonly children?: readonly number[]
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[]
  readonly samples: readonly number[]
  readonly timeDeltas: readonly number[]
}

const CATEGORIES: readonly (readonly [string, (frame: CallFrame) => boolean])[] = [
  ['idle', (f) => f.functionName === '(idle)'],
  ['garbage collector', (f) => f.functionName === '(garbage collector)'],
  ['profiler', (f) => f.url === 'node:inspector'],
  ['sqlite', (f) => /sqlite-client|node:sqlite/.test(f.url)],
  ['ledger', (f) => /src\/(ledger|store\/ledger)\//.test(f.url)],
  ['undici (HTTP client)', (f) => /undici/.test(f.url)],
  ['outbox', (f) => /outbox/.test(f.url)],
  ['fastify', (f) => /fastify|find-my-way|avvio/.test(f.url)],
  ['ajv / schemas', (f) => /ajv|schemas\.ts/.test(f.url)],
  ['pino', (f) => /pino|sonic-boom/.test(f.url)],
  ['prom-client', (f) => /prom-client/.test(f.url)],
  ['fspiop (headers, ILP, JWS)', (f) => /src\/fspiop\//.test(f.url)],
  ['switch / dfsp / http code', (f) => /src\/(switch|dfsp|http|channels)\//.test(f.url)],
  ['other src', (f) => /src\//.test(f.url)],
  ['node http server, net, streams', (f) => /node:(_http|http|net|stream|internal\/stream|internal\/http)/.test(f.url)],
]

export function summarise(profile: CpuProfile, top: number): string {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const parentOf = new Map<number, number>()
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id)
  const timeOf = new Map<number, number>()
  profile.samples.forEach((id, i) => timeOf.set(id, (timeOf.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)))
  let total = 0
  const byCategory = new Map<string, number>()
  const bySelf = new Map<string, number>()
  for (const [id, us] of timeOf) {
    total += us
    const leaf = byId.get(id)
    if (leaf === undefined) continue
    const self = `${leaf.callFrame.functionName || '(anonymous)'} ${leaf.callFrame.url.replace(/^.*?\/(src|node_modules|bench)\//, '$1/')}:${leaf.callFrame.lineNumber + 1}`
    bySelf.set(self, (bySelf.get(self) ?? 0) + us)
    let category = 'native and other'
    search: for (let node: ProfileNode | undefined = leaf; node !== undefined; node = byId.get(parentOf.get(node.id) ?? -1)) {
      for (const [name, matches] of CATEGORIES) {
        if (matches(node.callFrame)) {
          category = name
          break search
        }
      }
    }
    byCategory.set(category, (byCategory.get(category) ?? 0) + us)
  }
  const share = (us: number): string => `${((100 * us) / total).toFixed(1).padStart(5)} %`
  const lines = [`sampled ${(total / 1e6).toFixed(2)} s; by category (first match from the leaf up):`]
  for (const [name, us] of [...byCategory].sort((a, b) => b[1] - a[1])) lines.push(`${share(us)}  ${name}`)
  lines.push('top self time:')
  for (const [name, us] of [...bySelf].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`${share(us)}  ${name}`)
  return lines.join('\n')
}

if (import.meta.main) {
  const [file, top] = process.argv.slice(2)
  if (file === undefined) {
    process.stderr.write('usage: node bench/profile-summary.ts FILE.cpuprofile [TOP]\n')
    process.exit(2)
  }
  process.stdout.write(`${summarise(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, Number(top ?? 25))}\n`)
}
