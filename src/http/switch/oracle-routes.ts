// SPDX-License-Identifier: Apache-2.0
/**
 * The oracle registry of Mojaloop's account-lookup-service admin API, on the switch's admin API, so that
 * Mojaloop's hub setup ("Oracle Onboarding") runs unchanged:
 *
 *   GET    /oracles[?type=&currency=]   → 200 [{oracleId, oracleIdType, endpoint:{value, endpointType}, currency?, isDefault}]
 *   POST   /oracles       OracleInfo    → 201 (with the oracle as GET lists it; ALS sends no body, and none is needed)
 *   PUT    /oracles/{ID}  OracleInfo    → 204
 *   DELETE /oracles/{ID}                → 204
 *
 * OracleInfo is `{oracleIdType, endpoint:{value, endpointType:"URL"}, currency?, isDefault?}`. A registered
 * oracle answers the switch's look-ups for its party id type instead of the built-in table. Errors are
 * `{errorInformation}` as ALS sends them: a schema fault 3101 (400); a second oracle for the same type and
 * currency 2001 (500, ALS's answer, which the hub setup accepts as "already exists"); PUT of an unknown id
 * 3003 (400, ALS's "Oracle not found").
 */
import type { FastifyInstance } from 'fastify'
import { ORACLE_ID_TYPES, type OracleRecord } from '../../switch/oracle/oracle.ts'
import type { OracleInput, Switch } from '../../switch/switch.ts'

const ORACLE_ID_TYPE = { type: 'string', enum: ORACLE_ID_TYPES, description: 'The party id type the oracle answers for' } as const
const CURRENCY = { type: 'string', pattern: '^[A-Z]{3}$', description: 'ISO 4217 code: the oracle answers for this currency only' } as const
const ENDPOINT = {
  type: 'object',
  required: ['value', 'endpointType'],
  properties: {
    value: { type: 'string', minLength: 1, maxLength: 2048, description: "The oracle's base URL; the oracle API's /participants paths are appended" },
    endpointType: { type: 'string', enum: ['URL'] },
  },
} as const
const ORACLE_INFO = {
  type: 'object',
  required: ['oracleIdType', 'endpoint'],
  properties: {
    oracleIdType: ORACLE_ID_TYPE,
    endpoint: ENDPOINT,
    currency: CURRENCY,
    isDefault: { type: 'boolean', description: "The type's default oracle, asked when a look-up names no currency or none of its own is registered" },
  },
} as const
const ORACLE = {
  type: 'object',
  required: ['oracleId', 'oracleIdType', 'endpoint', 'isDefault'],
  properties: { oracleId: { type: 'integer' }, ...ORACLE_INFO.properties },
} as const
const ERROR = {
  type: 'object',
  properties: { errorInformation: { type: 'object', properties: { errorCode: { type: 'string' }, errorDescription: { type: 'string' } } } },
} as const
const ID_PARAMS = { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^[1-9][0-9]{0,15}$', description: 'oracleId, as GET /oracles lists it' } } } as const

function oracleView(oracle: OracleRecord) {
  return {
    oracleId: oracle.oracleId,
    oracleIdType: oracle.oracleIdType,
    endpoint: { value: oracle.endpoint, endpointType: oracle.endpointType },
    ...(oracle.currency === null ? {} : { currency: oracle.currency }),
    isDefault: oracle.isDefault,
  }
}

/** Adds the routes to the admin app itself, so its error handler and admin token apply. */
export function registerOracleRoutes(app: FastifyInstance, hub: Switch): void {
  app.get(
    '/oracles',
    {
      schema: {
        summary: 'Lists the external oracles (Mojaloop ALS admin API)',
        description: 'Optionally only those of a party id type and/or a currency, e.g. /oracles?type=MSISDN&currency=USD.',
        querystring: { type: 'object', properties: { type: ORACLE_ID_TYPE, currency: CURRENCY } },
        response: { 200: { type: 'array', items: ORACLE }, 400: ERROR },
      },
    },
    async (request) => {
      const query = request.query as { type?: string; currency?: string }
      return (await hub.oracles({ type: query.type, currency: query.currency })).map(oracleView)
    },
  )
  app.post(
    '/oracles',
    {
      schema: {
        summary: 'Registers an external oracle (Mojaloop ALS admin API)',
        description:
          "From then on the switch asks it, over Mojaloop's oracle API, which FSP owns a party of its type (GET /parties, GET/POST/DELETE /participants, quotes without a payee FSP), instead of the built-in table. One oracle per party id type and currency.",
        body: ORACLE_INFO,
        response: { 201: ORACLE, 400: ERROR, 500: ERROR },
      },
    },
    async (request, reply) => reply.status(201).send(oracleView(await hub.registerOracle(request.body as OracleInput))),
  )
  app.put(
    '/oracles/:id',
    {
      schema: {
        summary: 'Changes an external oracle (Mojaloop ALS admin API)',
        description: 'oracleIdType and endpoint are required; a currency or isDefault left out keeps its value.',
        params: ID_PARAMS,
        body: ORACLE_INFO,
        response: { 204: { type: 'null' }, 400: ERROR, 500: ERROR },
      },
    },
    async (request, reply) => {
      await hub.updateOracle(Number((request.params as { id: string }).id), request.body as OracleInput)
      return reply.status(204).send()
    },
  )
  app.delete(
    '/oracles/:id',
    {
      schema: {
        summary: 'Removes an external oracle (Mojaloop ALS admin API)',
        description: "Its party id type goes back to the built-in table when it was the type's last oracle. Removing an unknown id is not an error, as in ALS.",
        params: ID_PARAMS,
        response: { 204: { type: 'null' }, 400: ERROR },
      },
    },
    async (request, reply) => {
      await hub.removeOracle(Number((request.params as { id: string }).id))
      return reply.status(204).send()
    },
  )
}
