// SPDX-License-Identifier: Apache-2.0
/**
 * ISO 8583 codec benchmark: pack + unpack of a realistic 0200 (ATM cash withdrawal with OTP) per
 * second on one core, ours beside the npm package iso_8583, in one run. Both sides produce the same
 * bytes (ASCII fields, binary bitmaps, 2-byte length header), so the comparison is like for like; our
 * other wire variants are measured too. Targets: ≥ 100,000 pack+unpack/s and ≥ 5× iso_8583.
 *
 *   npx node bench/iso8583.ts                # about 30 s
 *   BENCH_QUICK=1 npx node bench/iso8583.ts  # a few seconds
 *
 * The last line of output is one JSON object for scripts.
 */
import assert from 'node:assert/strict'
import {
  ASCII_BINARY_BITMAP_VARIANT,
  ASCII_VARIANT,
  BINARY_VARIANT,
  Iso8583Codec,
  type Iso8583Message,
  type WireVariant,
} from '../src/channels/terminal/iso8583/index.ts'
import { Iso8583Npm, npmResult, type Iso8583NpmMessage } from '../src/channels/terminal/iso8583/iso-8583-npm.ts'

const quick = process.env.BENCH_QUICK === '1'
const measureMs = quick ? 600 : 4000
const warmUpMs = quick ? 200 : 1000
const latencySamples = quick ? 20_000 : 100_000

const financialRequest: Iso8583Message = {
  mti: '0200',
  fields: {
    pan: '4761739001010119',
    processingCode: '010000',
    amountTransaction: '000000010000',
    transmissionDateTime: '0911131411',
    stan: '004711',
    localTime: '161411',
    localDate: '0911',
    expiry: '2712',
    merchantType: '6011',
    posEntryMode: '051',
    posConditionCode: '02',
    acquiringInstitutionId: '423935',
    track2: '4761739001010119=27122011758928889',
    rrn: '425516004711',
    terminalId: 'ATM00042',
    cardAcceptorId: 'KIVUKO-BANK-001',
    cardAcceptorNameLocation: 'Kivuko Bank ATM 42, Moi Avenue, Nairobi ',
    additionalData: 'QUOTE=0d3f2a9c-8e41-4f6b-9a57-1c2b3d4e5f60',
    currencyCode: '404',
    pinData: Uint8Array.from([0x74, 0x34, 0xf6, 0x78, 0x13, 0xba, 0xe5, 0x45]),
    otp: '482913',
    accountId1: '254712345678',
  },
}

/** The same message in iso_8583's model: field number → text, binary as hex. */
const financialRequestNpm: Iso8583NpmMessage = {
  0: '0200',
  2: '4761739001010119',
  3: '010000',
  4: '000000010000',
  7: '0911131411',
  11: '004711',
  12: '161411',
  13: '0911',
  14: '2712',
  18: '6011',
  22: '051',
  25: '02',
  32: '423935',
  35: '4761739001010119=27122011758928889',
  37: '425516004711',
  41: 'ATM00042',
  42: 'KIVUKO-BANK-001',
  43: 'Kivuko Bank ATM 42, Moi Avenue, Nairobi ',
  48: 'QUOTE=0d3f2a9c-8e41-4f6b-9a57-1c2b3d4e5f60',
  49: '404',
  52: '7434f67813bae545',
  62: '482913',
  102: '254712345678',
}

interface Result {
  readonly perSec: number
  readonly p50Us: number
  readonly p99Us: number
}

/** Runs `operation` for `durationMs`, checking the clock every batch so the clock is not what we measure. */
function throughput(operation: () => void, durationMs: number): number {
  const batch = 256
  let operations = 0
  const started = performance.now()
  let elapsed = 0
  while (elapsed < durationMs) {
    for (let index = 0; index < batch; index += 1) operation()
    operations += batch
    elapsed = performance.now() - started
  }
  return (operations / elapsed) * 1000
}

function latency(operation: () => void, samples: number): { p50Us: number; p99Us: number } {
  const durations = new Float64Array(samples)
  for (let index = 0; index < samples; index += 1) {
    const started = performance.now()
    operation()
    durations[index] = performance.now() - started
  }
  durations.sort()
  const at = (quantile: number): number => Math.round((durations[Math.floor(quantile * (samples - 1))] as number) * 1000 * 100) / 100
  return { p50Us: at(0.5), p99Us: at(0.99) }
}

function measure(label: string, operation: () => void): Result {
  throughput(operation, warmUpMs)
  const perSec = throughput(operation, measureMs)
  const { p50Us, p99Us } = latency(operation, latencySamples)
  console.log(`${label.padEnd(44)} ${Math.round(perSec).toLocaleString('en-US').padStart(10)} pack+unpack/s   p50 ${p50Us.toFixed(2)} µs   p99 ${p99Us.toFixed(2)} µs`)
  return { perSec, p50Us, p99Us }
}

function oursFor(variant: WireVariant): () => void {
  const codec = new Iso8583Codec({ variant })
  return () => {
    const framed = codec.packFrame(financialRequest)
    const message = codec.unpack(framed.subarray(2))
    if (message.mti !== '0200') throw new Error('unexpected MTI')
  }
}

function theirs(): void {
  const framed = npmResult(new Iso8583Npm(financialRequestNpm).getBufferMessage())
  const message = npmResult(new Iso8583Npm().getIsoJSON(framed))
  if (message['0'] !== '0200') throw new Error('unexpected MTI')
}

// Like for like: the same message must produce the same bytes on both sides, or the comparison is void.
const likeForLike = new Iso8583Codec({ variant: ASCII_BINARY_BITMAP_VARIANT })
const npmBytes = npmResult(new Iso8583Npm(financialRequestNpm).getBufferMessage())
assert.deepEqual(likeForLike.unpack(npmBytes.subarray(2)), financialRequest, 'ours reads what iso_8583 writes')

console.log(`ISO 8583 pack+unpack of a ${likeForLike.packFrame(financialRequest).byteLength}-byte 0200, Node ${process.version}${quick ? ', quick run' : ''}`)
const ours = measure('ours, ASCII + binary bitmap (= iso_8583 bytes)', oursFor(ASCII_BINARY_BITMAP_VARIANT))
measure('ours, ASCII (hex bitmaps)', oursFor(ASCII_VARIANT))
measure('ours, binary (BCD)', oursFor(BINARY_VARIANT))
const npm = measure('iso_8583 2.6 (npm)', theirs)

const ratio = ours.perSec / npm.perSec
console.log(`ratio vs iso_8583: ${ratio.toFixed(1)}×   targets: ≥ 100,000/s and ≥ 5×`)
console.log(
  JSON.stringify({
    bench: 'iso8583',
    perSec: Math.round(ours.perSec),
    iso8583PerSec: Math.round(npm.perSec),
    ratioVsIso8583: Math.round(ratio * 100) / 100,
    p50Us: ours.p50Us,
    p99Us: ours.p99Us,
    iso8583P50Us: npm.p50Us,
    iso8583P99Us: npm.p99Us,
  }),
)
