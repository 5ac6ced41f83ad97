// SPDX-License-Identifier: Apache-2.0
/**
 * The TCP side of the terminal gateway (node:net). Terminals, or an ATM driver concentrating many of
 * them, connect and exchange ISO 8583 messages framed by a 2-byte binary length header (reference
 * §8.1). Each connection has its own FrameDecoder; requests on one connection are handled
 * concurrently and answered on the connection they came from, matched by the terminal on STAN.
 *
 * Hostile input never stops the server:
 * - a frame that does not decode, but whose MTI can be read as a request or advice, is answered with
 *   that MTI's response and response code 30 (format error);
 * - a frame whose MTI cannot be read, or a length header that cannot be true, means the stream is out
 *   of step: the connection is closed;
 * - a connection quiet for idleTimeoutMs is closed.
 * Messages are logged only through the codec's masking (toLogObject), never as bytes.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import type { TerminalGateway } from './gateway.ts'
import {
  FrameDecoder,
  Iso8583Codec,
  Iso8583Error,
  MESSAGE_BYTES_MAX_DEFAULT,
  parseMti,
  RESPONSE_CODES,
  responseMtiFor,
  toLogObject,
  type Iso8583Message,
  type WireVariant,
} from './iso8583/index.ts'
import { silentTerminalLogger, type TerminalLogger } from './logger.ts'

export interface TerminalServerOptions {
  readonly gateway: TerminalGateway
  /** Default 127.0.0.1. */
  readonly host?: string
  /** Default 4300, clear of the switch (4040/4041) and the machine's other services. 0 picks a free port. */
  readonly port?: number
  /** Default: the ASCII variant with 2-byte binary length headers. */
  readonly codec?: Iso8583Codec
  /** A connection with no traffic for this long is closed; default 120 s. */
  readonly idleTimeoutMs?: number
  /** Default 1,000. */
  readonly connectionsMax?: number
  /** Default MESSAGE_BYTES_MAX_DEFAULT (8 KiB). */
  readonly messageBytesMax?: number
  readonly logger?: TerminalLogger
}

export const TERMINAL_SERVER_DEFAULTS = {
  host: '127.0.0.1',
  port: 4300,
  idleTimeoutMs: 120_000,
  connectionsMax: 1_000,
} as const

export class TerminalServer {
  readonly #gateway: TerminalGateway
  readonly #host: string
  readonly #port: number
  readonly #codec: Iso8583Codec
  readonly #idleTimeoutMs: number
  readonly #messageBytesMax: number
  readonly #logger: TerminalLogger
  readonly #server: Server
  readonly #sockets = new Set<Socket>()
  #nextConnectionId = 1

  constructor(options: TerminalServerOptions) {
    this.#gateway = options.gateway
    this.#host = options.host ?? TERMINAL_SERVER_DEFAULTS.host
    this.#port = options.port ?? TERMINAL_SERVER_DEFAULTS.port
    this.#codec = options.codec ?? new Iso8583Codec()
    this.#idleTimeoutMs = options.idleTimeoutMs ?? TERMINAL_SERVER_DEFAULTS.idleTimeoutMs
    this.#messageBytesMax = options.messageBytesMax ?? MESSAGE_BYTES_MAX_DEFAULT
    this.#logger = options.logger ?? silentTerminalLogger
    this.#server = createServer((socket) => this.#accept(socket))
    this.#server.maxConnections = options.connectionsMax ?? TERMINAL_SERVER_DEFAULTS.connectionsMax
    this.#server.on('error', (error) => this.#logger.error({ err: error.message }, 'terminal server error'))
  }

  /** Listens; resolves with the address actually bound (useful with port 0). */
  start(): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => reject(error)
      this.#server.once('error', onError)
      this.#server.listen(this.#port, this.#host, () => {
        this.#server.off('error', onError)
        const address = this.#server.address() as AddressInfo
        this.#logger.info({ host: address.address, port: address.port }, 'terminal gateway listening')
        resolve({ host: address.address, port: address.port })
      })
    })
  }

  /** Stops accepting, closes every connection, and resolves when the listener is closed. */
  stop(): Promise<void> {
    return new Promise((resolve) => {
      for (const socket of this.#sockets) socket.destroy()
      if (!this.#server.listening) return resolve()
      this.#server.close(() => resolve())
    })
  }

  get connections(): number {
    return this.#sockets.size
  }

  #accept(socket: Socket): void {
    const connection = this.#nextConnectionId
    this.#nextConnectionId += 1
    this.#sockets.add(socket)
    const decoder = new FrameDecoder({ header: this.#codec.lengthHeader, messageBytesMax: this.#messageBytesMax })
    const log = { connection, remote: `${socket.remoteAddress}:${socket.remotePort}` }
    this.#logger.info(log, 'terminal connected')
    socket.setNoDelay(true)
    socket.setTimeout(this.#idleTimeoutMs)
    socket.on('timeout', () => {
      this.#logger.info(log, 'idle terminal connection closed')
      socket.destroy()
    })
    socket.on('error', (error) => this.#logger.debug({ ...log, err: error.message }, 'terminal connection error'))
    socket.on('close', () => {
      this.#sockets.delete(socket)
      this.#logger.info({ ...log, bufferedBytes: decoder.bufferedBytes }, 'terminal disconnected')
    })
    socket.on('data', (chunk: Buffer) => {
      let frames: Buffer[]
      try {
        frames = decoder.push(chunk)
      } catch (error) {
        this.#logger.warn({ ...log, err: describeError(error) }, 'unreadable length header: connection closed')
        socket.destroy()
        return
      }
      for (const frame of frames) {
        if (socket.destroyed) return
        this.#onFrame(socket, frame, log)
      }
    })
  }

  #onFrame(socket: Socket, frame: Buffer, log: { connection: number; remote: string }): void {
    let request: Iso8583Message
    try {
      request = this.#codec.unpack(frame)
    } catch (error) {
      const mti = readableRequestMti(frame, this.#codec.variant)
      this.#logger.warn({ ...log, mti, err: describeError(error) }, 'malformed ISO 8583 message')
      if (mti === undefined) {
        socket.destroy()
        return
      }
      this.#send(socket, { mti: responseMtiFor(mti), fields: { responseCode: RESPONSE_CODES.formatError.code } }, log)
      return
    }
    this.#logger.debug({ ...log, message: toLogObject(request) }, 'iso8583 in')
    this.#gateway.handle(request).then(
      (response) => {
        if (response !== undefined) this.#send(socket, response, log)
      },
      (error: unknown) => this.#logger.error({ ...log, err: describeError(error) }, 'gateway failed on a request'),
    )
  }

  #send(socket: Socket, response: Iso8583Message, log: { connection: number; remote: string }): void {
    if (socket.destroyed || !socket.writable) {
      this.#logger.warn({ ...log, message: toLogObject(response) }, 'terminal left before its response')
      return
    }
    let bytes: Buffer
    try {
      bytes = this.#codec.packFrame(response)
    } catch (error) {
      // A response we cannot pack is our bug; the terminal still gets an answer it can act on.
      this.#logger.error({ ...log, message: toLogObject(response), err: describeError(error) }, 'response could not be packed')
      bytes = this.#codec.packFrame({ mti: response.mti, fields: { responseCode: RESPONSE_CODES.systemMalfunction.code } })
    }
    this.#logger.debug({ ...log, message: toLogObject(response) }, 'iso8583 out')
    socket.write(bytes)
  }
}

/** The MTI of an undecodable frame when it can be read and names a request or advice; else undefined. */
function readableRequestMti(frame: Buffer, variant: WireVariant): string | undefined {
  let mti: string
  if (variant.mti === 'ascii') {
    if (frame.byteLength < 4) return undefined
    mti = frame.toString('latin1', 0, 4)
  } else {
    if (frame.byteLength < 2) return undefined
    mti = frame.toString('hex', 0, 2)
  }
  try {
    const { messageFunction } = parseMti(mti)
    return messageFunction === '0' || messageFunction === '2' ? mti : undefined
  } catch {
    return undefined
  }
}

function describeError(error: unknown): string {
  if (error instanceof Iso8583Error) return `${error.fieldName}: ${error.reason}`
  return error instanceof Error ? error.message : String(error)
}
