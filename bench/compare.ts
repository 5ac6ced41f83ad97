// SPDX-License-Identifier: Apache-2.0
/**
 * Compares two builds of Kivuko on bench:e2e by running them side by side: each pair starts both builds'
 * quick runs at the same moment (each with its own switch, bank and wallet on free ports), so both meet the
 * same minute of this machine, whose speed drifts by ±15-40 % from one minute to the next. It prints each
 * pair's CPU per transfer (all processes, from /proc) and the ratio new/base, then the median and the mean
 * ratio. Run it once with the same build on both sides first: the spread of that null comparison (up to
 * ±12 % per pair on 2026-12-08) is what a real difference has to beat (docs/perf/e2e-lean-http-2026-12-08.txt).
 *
 *   git worktree add /tmp/base <commit>; ln -s "$PWD/node_modules" /tmp/base/node_modules
 *   node bench/compare.ts --base /tmp/base --new . --pairs 6 --mode full
 *
 * The last line is one JSON object: {"bench":"compare","mode":…,"pairs":…,"medianRatio":…,"meanRatio":…,"lowerIn":…}.
 */
import { spawn } from 'node:child_process'
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'

interface E2eFigures {
  readonly perSec: number
  readonly p99Ms: number
  readonly cpuMsPerTransfer: Record<string, number>
}

const { values } = parseArgs({
  options: {
    base: { type: 'string' },
    new: { type: 'string', default: '.' },
    pairs: { type: 'string', default: '5' },
    mode: { type: 'string', default: 'full' },
  },
})
if (values.base === undefined) {
  process.stderr.write('usage: node bench/compare.ts --base DIR [--new DIR] [--pairs N] [--mode full|phase]\n')
  process.exit(2)
}
const pairs = Number(values.pairs)
const mode = values.mode === 'phase' ? 'phase' : 'full'
const dirs = { base: resolve(values.base), new: resolve(values.new) }

/** One quick bench:e2e run in `dir`; its last line's figures. */
function runE2e(dir: string): Promise<E2eFigures> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['bench/e2e.ts'], { cwd: dir, env: { ...process.env, BENCH_QUICK: '1', BENCH_E2E: mode }, stdio: ['ignore', 'pipe', 'ignore'] })
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
    child.on('error', fail)
    child.on('exit', (code) => {
      const last = out.trim().split('\n').at(-1) ?? ''
      try {
        done(JSON.parse(last) as E2eFigures)
      } catch {
        fail(new Error(`bench:e2e in ${dir} ended ${code} without its JSON line`))
      }
    })
  })
}

const cpuOf = (figures: E2eFigures): number => Object.values(figures.cpuMsPerTransfer).reduce((sum, ms) => sum + ms, 0)
const ratios: number[] = []
for (let pair = 1; pair <= pairs; pair += 1) {
  // Which build starts first alternates: a null comparison showed the order alone worth a few %.
  const [base, next] =
    pair % 2 === 1
      ? await Promise.all([runE2e(dirs.base), runE2e(dirs.new)])
      : await Promise.all([runE2e(dirs.new), runE2e(dirs.base)]).then(([n, b]) => [b, n] as const)
  const ratio = cpuOf(next) / cpuOf(base)
  ratios.push(ratio)
  process.stdout.write(
    `pair ${pair}: base ${base.perSec}/s ${cpuOf(base).toFixed(2)} ms ${JSON.stringify(base.cpuMsPerTransfer)} | new ${next.perSec}/s ${cpuOf(next).toFixed(2)} ms ${JSON.stringify(next.cpuMsPerTransfer)} | ratio ${ratio.toFixed(3)}\n`,
  )
}
const sorted = [...ratios].sort((a, b) => a - b)
const middle = sorted.length / 2
const median = sorted.length % 2 === 1 ? (sorted[Math.floor(middle)] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
const mean = ratios.reduce((sum, r) => sum + r, 0) / ratios.length
const lowerIn = ratios.filter((r) => r < 1).length
process.stdout.write(`CPU per transfer new/base: median ${median.toFixed(3)}, mean ${mean.toFixed(3)}, lower in ${lowerIn} of ${ratios.length}\n`)
process.stdout.write(`${JSON.stringify({ bench: 'compare', mode, pairs: ratios.length, medianRatio: Number(median.toFixed(4)), meanRatio: Number(mean.toFixed(4)), lowerIn })}\n`)
