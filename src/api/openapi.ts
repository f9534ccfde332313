import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { INTROSPECT_PATH, JWKS_PATH } from './routes/access.ts';
import { SESSIONS_PATH } from './routes/sessions.ts';
import {
  createSessionSchema,
  ErrorSchema,
  extendSessionSchema,
  IntrospectionSchema,
  IntrospectRequestSchema,
  JwksSchema,
  SessionExtendedSchema,
  HealthSchema,
  IDEMPOTENCY_HEADER,
  IdempotencyKeySchema,
  ReadySchema,
  SessionCreatedSchema,
  SessionIdSchema,
  SessionViewSchema,
} from './schemas.ts';

/**
 * The OpenAPI 3.1 document of the API (GET /api/v1/openapi.json), generated from
 * the zod schemas the handlers validate with, so the two cannot drift apart.
 */
export const OPENAPI_PATH = '/api/v1/openapi.json';

export function buildOpenApiDocument(profiles: readonly string[], version = '0.1.0', maxTtlSeconds = 28800): object {
  const registry = new OpenAPIRegistry();
  const ErrorRef = registry.register('Error', ErrorSchema);
  const CreateSession = registry.register('CreateSessionRequest', createSessionSchema(profiles));
  const Created = registry.register('SessionCreated', SessionCreatedSchema);
  const View = registry.register('SessionView', SessionViewSchema);
  const Extended = registry.register('SessionExtended', SessionExtendedSchema);
  const Extend = registry.register('ExtendSessionRequest', extendSessionSchema(maxTtlSeconds));
  const Introspection = registry.register('Introspection', IntrospectionSchema);
  const Jwks = registry.register('Jwks', JwksSchema);
  registry.registerComponent('securitySchemes', 'demoToken', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: "the session's `access.token` (POST's answer)",
  });
  const json = (schema: z.ZodType) => ({ 'application/json': { schema } });
  const err = (description: string) => ({ description, content: json(ErrorRef) });
  const idParams = z.object({ id: SessionIdSchema });
  const badId = {
    400: err('the id is not a uuid (`invalid_session_id`)'),
    404: err('unknown session (`session_not_found`)'),
  };
  const dbDown = { 503: err('the session database is not available (`database_unavailable`), with Retry-After') };

  const createResponses = {
    202: {
      description: `created; the session loads in the background (Location: the session). A request whose ${IDEMPOTENCY_HEADER} made a session before answers with that session and \`Idempotent-Replayed: true\``,
      content: json(Created),
    },
    400: err('`invalid_json` or `validation_error` (with `details`)'),
    413: err('body larger than 16 kB (`payload_too_large`)'),
    415: err('body not application/json (`unsupported_media_type`)'),
    422: err(
      `the profile cannot be loaded (\`profile_unavailable\`), or the ${IDEMPOTENCY_HEADER} was sent before with another body (\`idempotency_key_reused\`)`,
    ),
    429: err(
      '`rate_limited` (per client, with RateLimit headers and Retry-After) or `too_many_sessions` (live sessions per mailbox: lower case, `+tag` removed)',
    ),
    503: err(
      'Redis is not reachable (`queue_unavailable`) or a database is not (`database_unavailable`); with Retry-After',
    ),
  };
  registry.registerPath({
    method: 'post',
    path: SESSIONS_PATH,
    summary: 'Create a demo session',
    request: {
      body: { required: true, content: json(CreateSession) },
      headers: z.object({ [IDEMPOTENCY_HEADER]: IdempotencyKeySchema.optional() }),
    },
    responses: createResponses,
  });
  registry.registerPath({
    method: 'get',
    path: `${SESSIONS_PATH}/{id}`,
    summary: 'A session: status, tenants, and per-service rows and durations',
    request: { params: idParams },
    responses: { 200: { description: 'the session', content: json(View) }, ...badId, ...dbDown },
  });
  registry.registerPath({
    method: 'patch',
    path: `${SESSIONS_PATH}/{id}`,
    summary: "Extend a ready session (its token as Bearer): expires_at, the expiry job and the Redis keys' TTL move",
    security: [{ demoToken: [] }],
    request: { params: idParams, body: { required: true, content: json(Extend) } },
    responses: {
      200: { description: 'the session, and a fresh `access` whose token has the new exp', content: json(Extended) },
      400: err('the id is not a uuid (`invalid_session_id`), `invalid_json` or `validation_error`'),
      401: err(
        'no Bearer token (`unauthorized`) or one that does not verify (`invalid_token`); WWW-Authenticate: Bearer',
      ),
      403: err("the token is another session's (`forbidden`)"),
      404: badId[404],
      409: err('the session is not ready (`session_not_ready`) or is expiring now (`session_expiring`)'),
      415: err('body not application/json (`unsupported_media_type`)'),
      422: err(
        'past DEMO_SESSION_MAX_TTL_SECONDS after creation (`max_ttl_exceeded`; `details` says how much is left)',
      ),
      503: err('Redis (`queue_unavailable`) or the session database (`database_unavailable`) is not available'),
    },
  });
  registry.registerPath({
    method: 'post',
    path: INTROSPECT_PATH,
    summary: 'RFC 7662 token introspection: is this demo token active?',
    request: {
      body: {
        required: true,
        content: {
          'application/x-www-form-urlencoded': { schema: IntrospectRequestSchema },
          'application/json': { schema: IntrospectRequestSchema },
        },
      },
    },
    responses: {
      200: { description: '`active` and, while active, the claims', content: json(Introspection) },
      400: err('no `token` field (`validation_error`)'),
      415: err('neither a form nor JSON (`unsupported_media_type`)'),
      ...dbDown,
    },
  });
  registry.registerPath({
    method: 'get',
    path: JWKS_PATH,
    summary: 'The public keys demo tokens are signed with (current and previous)',
    responses: { 200: { description: 'a JWK Set', content: json(Jwks) }, ...dbDown },
  });
  registry.registerPath({
    method: 'delete',
    path: `${SESSIONS_PATH}/{id}`,
    summary: 'Remove a session: it moves to destroying, then destroyed once its rows are gone',
    request: { params: idParams },
    responses: {
      202: { description: 'removal started (or already done)', content: json(View) },
      ...badId,
      503: err(
        'Redis (`queue_unavailable`) or the session database (`database_unavailable`) is not available; with Retry-After',
      ),
    },
  });
  const eventsResponses = {
    200: { description: 'text/event-stream', content: { 'text/event-stream': { schema: z.string() } } },
    204: { description: 'the session had already finished (reconnect)' },
    ...badId,
    429: err(
      'this client holds its share of open streams (`too_many_client_streams`, SSE_MAX_PER_CLIENT), with Retry-After',
    ),
    503: err(
      'too many open streams (`too_many_streams`, SSE_MAX_STREAMS) or the session database is not available (`database_unavailable`); with Retry-After',
    ),
  };
  registry.registerPath({
    method: 'get',
    path: `${SESSIONS_PATH}/{id}/events`,
    summary: 'Live progress as server-sent events',
    description:
      '`progress` events carry the session view each time it changes; an `end` event carries the final view ' +
      '(ready, failed, destroyed, expired) and the stream closes; `: ping` comments keep it open. A reconnect ' +
      '(Last-Event-ID) to a finished session is answered 204.',
    request: { params: idParams },
    responses: eventsResponses,
  });
  registry.registerPath({
    method: 'head',
    path: `${SESSIONS_PATH}/{id}/events`,
    summary: 'What GET would answer (status and headers), without opening a stream',
    request: { params: idParams },
    responses: {
      200: { description: 'a stream would open' },
      204: eventsResponses[204],
      400: badId[400],
      404: badId[404],
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/healthz',
    summary: 'The process is alive',
    responses: { 200: { description: 'alive', content: json(HealthSchema) } },
  });
  registry.registerPath({
    method: 'get',
    path: '/readyz',
    summary: 'Redis and every database are reachable',
    responses: {
      200: { description: 'ready', content: json(ReadySchema) },
      503: err('`not_ready`; `down` names what is not reachable (no error text), `checks` says ok/down per part'),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics',
    responses: { 200: { description: 'Prometheus text format', content: { 'text/plain': { schema: z.string() } } } },
  });

  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'demo-seed API',
      version,
      description: 'Demo sessions for the bakery platform. Errors are `{"error": {"code", "message"}}`.',
    },
    servers: [{ url: '/' }],
  });
}
