// SPDX-License-Identifier: Apache-2.0
/**
 * Peers' JWS public keys from a directory, one `{fspId}.pem` per participant (and the hub's under its name),
 * as Mojaloop's SDK reads JWS_VERIFICATION_KEYS_DIRECTORY. A key is read the first time its FSP signs
 * something, then kept, so a participant that joins later needs only its file; a changed key needs a restart.
 */
import type { KeyObject } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseVerificationKey } from '../fspiop/index.ts'

/** FSPIOP's FspId characters; anything else (a path, a dot file) is never looked up. */
const FSP_ID = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,31}$/

export function verificationKeysIn(dir: string): (fspId: string) => Promise<KeyObject | undefined> {
  const keys = new Map<string, KeyObject>()
  return async (fspId) => {
    const known = keys.get(fspId)
    if (known !== undefined || !FSP_ID.test(fspId)) return known
    let pem: string
    try {
      pem = await readFile(join(dir, `${fspId}.pem`), 'utf8')
    } catch {
      return undefined
    }
    // A file that is not a usable public key counts as no key: that FSP's messages are refused with 3105.
    try {
      const key = parseVerificationKey(pem)
      keys.set(fspId, key)
      return key
    } catch {
      return undefined
    }
  }
}
