// SPDX-License-Identifier: Apache-2.0
import assert from 'node:assert/strict'
import { describe as suite, it } from 'node:test'
import { describe, Iso8583Codec, maskPan, SPEC_87, toLogObject, type Iso8583Message, type Iso8583Spec } from './index.ts'

const request: Iso8583Message = {
  mti: '0200',
  fields: {
    otp: '482913',
    pan: '4761739001010119',
    stan: '004711',
    track2: '4761739001010119=2712',
    pinData: Uint8Array.from([0x74, 0x34, 0xf6, 0x78, 0x13, 0xba, 0xe5, 0x45]),
    iccData: '9F2608AB',
    accountId2: '123456',
    terminalId: 'ATM00042',
    securityControlInfo: '0000000000000001',
    track1: 'B4761739001010119^DOE/JANE^2712',
    track3: '4761739001010119=27120',
  },
}

const SECRETS = ['482913', '4761739001010119', '7434F67813BAE545', '9F2608AB', '123456', 'DOE/JANE', '0000000000000001']

suite('ISO 8583 masking', () => {
  it('masks a PAN to its first 6 and last 4 digits', () => {
    assert.equal(maskPan('4761739001010119'), '476173******0119')
    assert.equal(maskPan('4761739001019'), '476173***1019')
  })

  it('keeps only the last 4 digits of a value too short to hide 3 digits between 6 and 4', () => {
    assert.equal(maskPan('254712345678'), '********5678')
    assert.equal(maskPan('1234'), '****')
  })

  it('toLogObject masks every sensitive field and keeps the others, in field order', () => {
    const logged = toLogObject(request)
    assert.deepEqual(logged, {
      mti: '0200',
      fields: {
        pan: '476173******0119',
        stan: '004711',
        track2: '*'.repeat(21),
        track3: '*'.repeat(22),
        terminalId: 'ATM00042',
        track1: '*'.repeat(31),
        pinData: '*'.repeat(16),
        securityControlInfo: '*'.repeat(16),
        iccData: '*'.repeat(8),
        otp: '******',
        accountId2: '******',
      },
    })
    assert.deepEqual(Object.keys(logged.fields).slice(0, 3), ['pan', 'stan', 'track2'])
  })

  it('shows a field in clear only when the caller names it', () => {
    const logged = toLogObject(request, { reveal: ['otp', 'pinData'] })
    assert.equal(logged.fields.otp, '482913')
    assert.equal(logged.fields.pinData, '7434F67813BAE545')
    assert.equal(logged.fields.pan, '476173******0119')
  })

  it('describe() never prints a secret, one line per field with its number and description', () => {
    const text = describe(request)
    for (const secret of SECRETS) assert.ok(!text.includes(secret), `${secret} leaked:\n${text}`)
    assert.match(text, /^MTI 0200 {2}ISO 8583:1987 financial request from acquirer$/m)
    assert.match(text, /^F2 {4}pan +Primary account number \(PAN\): 476173\*{6}0119$/m)
    assert.match(text, /^F11 {3}stan +Systems trace audit number \(STAN\): 004711$/m)
    assert.equal(text.split('\n').length, 1 + Object.keys(request.fields).length)
  })

  it('describe() copes with an invalid MTI and a name outside the table, masking the unknown value', () => {
    const text = describe({ mti: '02X0', fields: { cardNumber: '4761739001010119' } as unknown as Iso8583Message['fields'] })
    assert.match(text, /^MTI 02X0 {2}not a valid MTI$/m)
    assert.ok(!text.includes('4761739001010119'))
  })

  it('follows the sensitive marks of a dialect table', () => {
    const dialect: Iso8583Spec = { ...SPEC_87, 41: { ...SPEC_87[41], sensitive: 'secret' } }
    assert.equal(toLogObject(request, { spec: dialect }).fields.terminalId, '********')
  })

  it('masks what unpack returns just the same', () => {
    const codec = new Iso8583Codec()
    const text = describe(codec.unpack(codec.pack(request)))
    for (const secret of SECRETS) assert.ok(!text.includes(secret), `${secret} leaked`)
  })
})
