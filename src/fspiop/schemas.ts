// SPDX-License-Identifier: Apache-2.0
/**
 * FSPIOP v1.1 body validation, from the specification's own schemas: api-snippets' bundled OpenAPI
 * document (`docs/fspiop-rest-v1.1-openapi3-snippets.yaml`) is read once, on first use, and compiled with
 * Ajv. A failure is answered the way Mojaloop's services answer it (central-services-error-handling,
 * `createFSPIOPErrorFromOpenapiError` with its Joi-parity setting): the first error found decides the code,
 * and the description names the element.
 *
 *   required                                 → 3102 Missing mandatory element
 *   additionalProperties                     → 3103 Too many elements
 *   type, pattern, format, enum, const       → 3101 Malformed syntax
 *   anything else (lengths, item counts, …)  → 3100 Generic validation error
 *
 * The v1.1 schemas never set `additionalProperties: false`, so, as in Mojaloop, unknown elements pass;
 * the 3103 row is there for the day a schema does.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import { assert } from '../core/assert.ts'
import type { ErrorCode } from '../core/error-catalog.ts'
import { ValidationError } from '../core/errors.ts'
import type { FspiopResult, FspiopSchemas, HttpMethod } from './types.ts'

export type FspiopSchemaName = keyof FspiopSchemas & string

/**
 * Which schema each request and callback body has, keyed exactly as the v1.1 OpenAPI paths are
 * (a test checks this table against the document). The HTTP layer can register its routes from the keys.
 */
export const FSPIOP_BODY_ROUTES = {
  'POST /participants': 'ParticipantsPostRequest',
  'PUT /participants/{ID}': 'ParticipantsIDPutResponse',
  'PUT /participants/{ID}/error': 'ErrorInformationObject',
  'POST /participants/{Type}/{ID}': 'ParticipantsTypeIDSubIDPostRequest',
  'PUT /participants/{Type}/{ID}': 'ParticipantsTypeIDPutResponse',
  'PUT /participants/{Type}/{ID}/error': 'ErrorInformationObject',
  'POST /participants/{Type}/{ID}/{SubId}': 'ParticipantsTypeIDSubIDPostRequest',
  'PUT /participants/{Type}/{ID}/{SubId}': 'ParticipantsTypeIDPutResponse',
  'PUT /participants/{Type}/{ID}/{SubId}/error': 'ErrorInformationObject',
  'PUT /parties/{Type}/{ID}': 'PartiesTypeIDPutResponse',
  'PUT /parties/{Type}/{ID}/error': 'ErrorInformationObject',
  'PUT /parties/{Type}/{ID}/{SubId}': 'PartiesTypeIDPutResponse',
  'PUT /parties/{Type}/{ID}/{SubId}/error': 'ErrorInformationObject',
  'POST /transactionRequests': 'TransactionRequestsPostRequest',
  'PUT /transactionRequests/{ID}': 'TransactionRequestsIDPutResponse',
  'PUT /transactionRequests/{ID}/error': 'ErrorInformationObject',
  'POST /quotes': 'QuotesPostRequest',
  'PUT /quotes/{ID}': 'QuotesIDPutResponse',
  'PUT /quotes/{ID}/error': 'ErrorInformationObject',
  'PUT /authorizations/{ID}': 'AuthorizationsIDPutResponse',
  'PUT /authorizations/{ID}/error': 'ErrorInformationObject',
  'POST /transfers': 'TransfersPostRequest',
  'PUT /transfers/{ID}': 'TransfersIDPutResponse',
  'PATCH /transfers/{ID}': 'TransfersIDPatchResponse',
  'PUT /transfers/{ID}/error': 'ErrorInformationObject',
  'PUT /transactions/{ID}': 'TransactionsIDPutResponse',
  'PUT /transactions/{ID}/error': 'ErrorInformationObject',
  'POST /bulkQuotes': 'BulkQuotesPostRequest',
  'PUT /bulkQuotes/{ID}': 'BulkQuotesIDPutResponse',
  'PUT /bulkQuotes/{ID}/error': 'ErrorInformationObject',
  'POST /bulkTransfers': 'BulkTransfersPostRequest',
  'PUT /bulkTransfers/{ID}': 'BulkTransfersIDPutResponse',
  'PUT /bulkTransfers/{ID}/error': 'ErrorInformationObject',
} as const satisfies Record<string, FspiopSchemaName>
export type FspiopBodyRoute = keyof typeof FSPIOP_BODY_ROUTES

/** Checks a value against one v1.1 schema; on success the value is returned typed, unchanged. */
export function validateFspiopSchema<N extends FspiopSchemaName>(name: N, value: unknown): FspiopResult<FspiopSchemas[N]> {
  const validate = validatorFor(name)
  if (value === undefined) {
    return { ok: false, error: new ValidationError(`body is required (${name})`, { element: 'body', keyword: 'required' }, 'MISSING_ELEMENT') }
  }
  if (validate(value)) return { ok: true, value: value as FspiopSchemas[N] }
  const first = validate.errors?.[0]
  assert(first !== undefined, `Ajv rejected a ${name} without saying why`)
  return { ok: false, error: validationErrorOf(first) }
}

/**
 * Checks the body of a concrete request or callback, e.g. `PUT /parties/MSISDN/256700000001/error`.
 * A method and path without a body in FSPIOP (GET, DELETE, or an unknown route) is answered 3002 Unknown URI.
 */
export function validateFspiopBody(method: HttpMethod, path: string, body: unknown): FspiopResult<unknown> {
  const route = bodyRouteOf(method, path)
  if (route === undefined) {
    return { ok: false, error: new ValidationError(`${method} ${path} has no FSPIOP body`, { method, path }, 'UNKNOWN_URI') }
  }
  return validateFspiopSchema(FSPIOP_BODY_ROUTES[route], body)
}

/**
 * The route template a concrete method and path belong to. When two templates fit, the one with more
 * literal segments wins, so `PUT /participants/abc/error` is an error callback rather than a
 * participant of type `abc` with id `error`.
 */
export function bodyRouteOf(method: HttpMethod, path: string): FspiopBodyRoute | undefined {
  const segments = path.split('?')[0]?.replace(/^\/+|\/+$/g, '').split('/') ?? []
  let best: { route: FspiopBodyRoute; literals: number } | undefined
  for (const [route, template] of ROUTE_TEMPLATES) {
    if (template.method !== method || template.segments.length !== segments.length) continue
    let literals = 0
    let fits = true
    for (const [index, part] of template.segments.entries()) {
      const actual = segments[index] ?? ''
      if (actual === '') fits = false
      else if (!part.startsWith('{')) {
        if (part === actual) literals += 1
        else fits = false
      }
    }
    if (fits && (best === undefined || literals > best.literals)) best = { route, literals }
  }
  return best?.route
}

const ROUTE_TEMPLATES: ReadonlyArray<readonly [FspiopBodyRoute, { method: string; segments: readonly string[] }]> = (
  Object.keys(FSPIOP_BODY_ROUTES) as FspiopBodyRoute[]
).map((route) => {
  const [method = '', path = ''] = route.split(' ')
  return [route, { method, segments: path.slice(1).split('/') }] as const
})

// ---------------------------------------------------------------------------------------------------
// Ajv errors → FSPIOP codes

const CODE_BY_KEYWORD: ReadonlyMap<string, ErrorCode> = new Map([
  ['required', 'MISSING_ELEMENT'],
  ['additionalProperties', 'TOO_MANY_ELEMENTS'],
  ['type', 'MALFORMED_SYNTAX'],
  ['pattern', 'MALFORMED_SYNTAX'],
  ['format', 'MALFORMED_SYNTAX'],
  ['enum', 'MALFORMED_SYNTAX'],
  ['const', 'MALFORMED_SYNTAX'],
])

/**
 * One Ajv error as the HubError to answer with. Exported for the HTTP layer, should it let its own
 * Ajv (Fastify's) run these schemas: the answer is then the same as validateFspiopSchema's.
 */
export function validationErrorOf(error: ErrorObject): ValidationError {
  const code = CODE_BY_KEYWORD.get(error.keyword) ?? 'VALIDATION'
  const params = error.params as Record<string, unknown>
  const path = pointerToPath(error.instancePath)
  const child = error.keyword === 'required' ? params.missingProperty : error.keyword === 'additionalProperties' ? params.additionalProperty : undefined
  const element = typeof child === 'string' ? joinPath(path, child) : path === '' ? 'body' : path
  return new ValidationError(`${element} ${describe(error, params)}`, { element, keyword: error.keyword }, code)
}

function describe(error: ErrorObject, params: Record<string, unknown>): string {
  switch (error.keyword) {
    case 'required':
      return 'is required'
    case 'additionalProperties':
      return 'is not allowed here'
    case 'type':
      return `must be ${params.type === 'object' || params.type === 'array' ? 'an' : 'a'} ${String(params.type)}`
    case 'pattern':
    case 'format':
      return 'has an invalid format'
    case 'enum': {
      const allowed = Array.isArray(params.allowedValues) ? params.allowedValues : []
      // Long enumerations (Currency has 180 values) would crowd out the element's name in 128 characters.
      return allowed.length <= 8 ? `must be one of ${allowed.join(', ')}` : 'is not one of the allowed values'
    }
    default:
      return error.message ?? 'is invalid'
  }
}

/** JSON pointer → the dotted form FSPIOP error texts use: `/individualQuotes/0/amount` → `individualQuotes[0].amount`. */
function pointerToPath(pointer: string): string {
  if (pointer === '') return ''
  return pointer
    .slice(1)
    .split('/')
    .map((token) => token.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce((path, token) => joinPath(path, token), '')
}

function joinPath(path: string, token: string): string {
  if (/^\d+$/.test(token)) return `${path}[${token}]`
  return path === '' ? token : `${path}.${token}`
}

// ---------------------------------------------------------------------------------------------------
// Loading and compiling the specification, once

const SCHEMA_ID = 'urn:kivuko:fspiop:v1.1'

let ajv: Ajv | undefined
const validators = new Map<string, ValidateFunction>()

function validatorFor(name: string): ValidateFunction {
  const known = validators.get(name)
  if (known !== undefined) return known
  ajv ??= compileSpecification()
  const validate = ajv.getSchema(`${SCHEMA_ID}#/definitions/${name}`)
  assert(validate !== undefined, `FSPIOP v1.1 has no schema named ${name}`)
  validators.set(name, validate)
  return validate
}

function compileSpecification(): Ajv {
  const schemas = loadSpecification().components?.schemas
  assert(schemas !== undefined && typeof schemas === 'object', 'the FSPIOP v1.1 document has no components.schemas')
  const definitions = Object.fromEntries(Object.entries(schemas).map(([name, schema]) => [name, toJsonSchema(schema)]))
  const instance = new Ajv({
    allErrors: false, // the first error is the one answered, as Mojaloop does
    strict: true,
    // AuthenticationValue puts a string `pattern` beside an anyOf that also admits an object (U2FPinValue):
    // legal JSON Schema that Ajv's type-strictness would log about on every start.
    strictTypes: false,
    unicodeRegExp: true, // FirstName and friends use \p{L}, \p{gc=Mark}, …
  })
  instance.addSchema({ $id: SCHEMA_ID, definitions })
  return instance
}

/** api-snippets' bundled v1.1 document, parsed with the YAML reader api-snippets itself depends on. */
export function loadSpecification(): { paths?: Record<string, Record<string, unknown>>; components?: { schemas?: Record<string, unknown> } } {
  const requireHere = createRequire(import.meta.url)
  const snippetsRoot = dirname(dirname(requireHere.resolve('@mojaloop/api-snippets')))
  const requireFromSnippets = createRequire(join(snippetsRoot, 'package.json'))
  const yaml = requireFromSnippets('js-yaml') as { load: (text: string) => unknown }
  const text = readFileSync(join(snippetsRoot, 'docs', 'fspiop-rest-v1.1-openapi3-snippets.yaml'), 'utf8')
  const document = yaml.load(text)
  assert(document !== null && typeof document === 'object', 'the FSPIOP v1.1 document is not an object')
  return document
}

/** Keywords OpenAPI 3.0 adds to JSON Schema; they only annotate, and Ajv's strict mode rejects unknown keywords. */
const OPENAPI_ONLY = new Set(['example', 'xml', 'externalDocs', 'nullable', 'discriminator', 'deprecated'])

/**
 * One OpenAPI schema object → draft-07 JSON Schema: refs point into our `definitions`, OpenAPI-only
 * annotations go, and `oneOf` becomes `anyOf`. The last is deliberate: in v1.1, `AuthenticationValue`
 * (OtpValue | QRCODE | U2FPinValue) and similar unions have branches that overlap (an OTP "1234" is also
 * a valid QR code), so `oneOf` would reject exactly the values it means to accept. api-snippets' bundle
 * already says anyOf; this keeps it so if a later bundle reverts.
 */
function toJsonSchema(schema: unknown): unknown {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return schema
  const out: Record<string, unknown> = {}
  for (const [keyword, value] of Object.entries(schema)) {
    if (OPENAPI_ONLY.has(keyword) || keyword.startsWith('x-')) continue
    if (keyword === '$ref' && typeof value === 'string') {
      out.$ref = value.replace(/^#\/components\/schemas\//, `${SCHEMA_ID}#/definitions/`)
    } else if (keyword === 'properties' && value !== null && typeof value === 'object') {
      out.properties = Object.fromEntries(Object.entries(value).map(([property, child]) => [property, toJsonSchema(child)]))
    } else if ((keyword === 'oneOf' || keyword === 'anyOf' || keyword === 'allOf') && Array.isArray(value)) {
      out[keyword === 'oneOf' ? 'anyOf' : keyword] = value.map(toJsonSchema)
    } else if (keyword === 'items' || keyword === 'not' || (keyword === 'additionalProperties' && typeof value === 'object')) {
      out[keyword] = toJsonSchema(value)
    } else {
      out[keyword] = value
    }
  }
  return out
}
