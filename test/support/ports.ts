// SPDX-License-Identifier: Apache-2.0
import { createServer } from 'node:net'

/** A loopback port free right now, for a server whose URL must be known before it starts. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

/** A base for `kivuko start`'s demo ports (base, base+1, base+10, base+11, base+190) where all of them are free. */
export async function freeDemoPortBase(): Promise<number> {
  for (;;) {
    const base = 20_000 + Math.floor(Math.random() * 20_000)
    const free = await Promise.all([0, 1, 10, 11, 190].map((offset) => portIsFree(base + offset)))
    if (free.every(Boolean)) return base
  }
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}
