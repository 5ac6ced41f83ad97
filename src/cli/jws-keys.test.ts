// SPDX-License-Identifier: Apache-2.0
import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { verificationKeysIn } from './jws-keys.ts'

describe('verificationKeysIn', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kivuko-jws-keys-'))
  after(() => rmSync(dir, { recursive: true, force: true }))
  const publicPem = (): string => generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }) as string

  it('reads {fspId}.pem the first time, then keeps it until restart', async () => {
    const first = publicPem()
    writeFileSync(join(dir, 'bank.pem'), first)
    const keyOf = verificationKeysIn(dir)
    const key = await keyOf('bank')
    assert.equal(key?.export({ type: 'spki', format: 'pem' }), first)
    writeFileSync(join(dir, 'bank.pem'), publicPem())
    assert.equal((await keyOf('bank'))?.export({ type: 'spki', format: 'pem' }), first)
  })

  it('finds a participant whose file appears after it started', async () => {
    const keyOf = verificationKeysIn(dir)
    assert.equal(await keyOf('latecomer'), undefined)
    writeFileSync(join(dir, 'latecomer.pem'), publicPem())
    assert.ok(await keyOf('latecomer'))
  })

  it('has no key for a file that is not a public key, nor for a name that is not an FspId', async () => {
    writeFileSync(join(dir, 'broken.pem'), 'not a key')
    writeFileSync(join(dir, 'outside.pem'), publicPem())
    const keyOf = verificationKeysIn(join(dir, 'sub'))
    assert.equal(await keyOf('broken'), undefined)
    const inDir = verificationKeysIn(dir)
    assert.equal(await inDir('broken'), undefined)
    assert.equal(await inDir('../outside'), undefined)
    assert.equal(await inDir('.hidden'), undefined)
    assert.equal(await inDir(''), undefined)
  })
})
