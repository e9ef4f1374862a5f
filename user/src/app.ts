import {
  authGuards,
  clientAddress,
  createHttpApp,
  HttpProblem,
  httpSettings,
  type Logger,
  NoContent,
  notFound,
  type PublicKeys,
  problems,
  QueryInteger,
  RateLimiter,
  type SigningKey,
  type TokenVerifier,
  unauthorized,
  validationProblem,
} from '@mart/shared'
import { type Static, Type } from '@sinclair/typebox'
import { t } from 'elysia'
import type { UserConfig } from './config.ts'
import { signAccessToken, type TokenSettings } from './tokens.ts'
import { principalOf, type Users, view, WrongCurrentPassword } from './users.ts'

const Username = t.String({ minLength: 3, maxLength: 32, pattern: '^[a-zA-Z0-9_.-]+$' })
const Email = t.String({ format: 'email', maxLength: 254 })
const Password = t.String({ minLength: 8, maxLength: 128 })
const Role = t.Union([t.Literal('user'), t.Literal('admin')])
const Id = t.String({ format: 'uuid' })

const User = t.Object({
  id: t.String(),
  username: t.String(),
  email: t.String(),
  role: Role,
  disabled: Type.Boolean(),
  createdAt: t.String({ format: 'date-time' }),
})
const TokenPair = t.Object({
  accessToken: t.String(),
  refreshToken: t.String(),
  tokenType: t.Literal('Bearer'),
  expiresIn: Type.Integer({ description: 'seconds until the access token expires' }),
})
const RefreshBody = t.Object({ refreshToken: t.String({ minLength: 1, maxLength: 200 }) })
const Jwks = t.Object({
  keys: t.Array(
    // Optional as in jose's JWK type; every key served has them all (OKP, Ed25519, EdDSA, sig).
    t.Object({
      kty: t.Optional(t.String()),
      crv: t.Optional(t.String()),
      x: t.Optional(t.String()),
      kid: t.Optional(t.String()),
      alg: t.Optional(t.String()),
      use: t.Optional(t.String()),
    }),
  ),
})

export interface AppDeps {
  config: Static<typeof UserConfig>
  log: Logger
  users: Users
  verifier: TokenVerifier
  signing: SigningKey
  publicJwks: PublicKeys['jwks']
  ready: () => boolean
}

export function buildApp({ config, log, users, verifier, signing, publicJwks, ready }: AppDeps) {
  const tokens: TokenSettings = {
    signing,
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    accessTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
  }
  const byAccount = new RateLimiter(
    config.LOGIN_MAX_FAILURES_PER_ACCOUNT,
    config.LOGIN_ACCOUNT_WINDOW_SECONDS * 1000,
  )
  const byAddress = new RateLimiter(config.LOGIN_MAX_PER_ADDRESS, config.LOGIN_ADDRESS_WINDOW_SECONDS * 1000)

  const tooMany = (seconds: number) =>
    new HttpProblem('too-many-requests', 'too many attempts; try again later', {
      headers: { 'retry-after': String(seconds) },
    })

  /** Shared by the JSON login and the OAuth2 password form: limits, then one answer for every failure. */
  async function login(
    credentials: { username?: string; email?: string; password: string },
    address: string,
  ) {
    const accountKey = (credentials.email ?? credentials.username ?? '').toLowerCase()
    const wait = Math.max(byAddress.retryAfter(address), byAccount.retryAfter(accountKey))
    if (wait > 0) throw tooMany(wait)
    byAddress.hit(address)
    const user = await users.authenticate(credentials, credentials.password)
    if (!user) {
      byAccount.hit(accountKey)
      throw unauthorized('wrong username, email or password')
    }
    byAccount.reset(accountKey)
    return {
      accessToken: await signAccessToken(tokens, principalOf(user), users.issuedAtFor(user.id)),
      refreshToken: users.issueRefreshToken(user.id),
      tokenType: 'Bearer' as const,
      expiresIn: config.ACCESS_TOKEN_TTL_SECONDS,
    }
  }

  return (
    createHttpApp({
      service: 'user',
      log,
      ready,
      ...httpSettings(config),
      title: 'Mart user service',
      description:
        'Accounts, login, tokens and roles. Log in with "Authorize" (password flow) to try the rest.',
    })
      // This service owns the accounts: its own routes act as the account is now (role, disabled,
      // deleted), not as the token says, with no bus round trip in between.
      .use(authGuards(verifier, { current: (principal) => users.current(principal.id) }))
      .post(
        '/api/auth/register',
        async ({ body, trace, set }) => {
          const user = users.create(
            {
              username: body.username,
              email: body.email,
              passwordHash: await users.hashPassword(body.password),
            },
            trace,
          )
          set.status = 201
          return view(user)
        },
        {
          body: t.Object({ username: Username, email: Email, password: Password }),
          response: { 201: User, ...problems(409) },
          detail: { tags: ['auth'], summary: 'Create an account' },
        },
      )
      .post(
        '/api/auth/login',
        ({ body, request, server }) => {
          if ((body.username === undefined) === (body.email === undefined)) {
            throw validationProblem([{ path: '/body', message: 'give either username or email' }])
          }
          return login(body, clientAddress(request, server, config.TRUST_PROXY))
        },
        {
          body: t.Object({
            username: t.Optional(t.String({ minLength: 1, maxLength: 254 })),
            email: t.Optional(t.String({ minLength: 1, maxLength: 254 })),
            password: t.String({ minLength: 1, maxLength: 128 }),
          }),
          response: { 200: TokenPair, ...problems(401, 429) },
          detail: { tags: ['auth'], summary: 'Log in with username or email and password' },
        },
      )
      .post(
        '/api/auth/token',
        async ({ body, request, server }) => {
          const login_ = body.username.includes('@') ? { email: body.username } : { username: body.username }
          const pair = await login(
            { ...login_, password: body.password },
            clientAddress(request, server, config.TRUST_PROXY),
          )
          return { access_token: pair.accessToken, token_type: 'bearer' as const, expires_in: pair.expiresIn }
        },
        {
          // `parse` rather than `type`: the OpenAPI generator reads it and documents the form alone.
          parse: 'urlencoded',
          body: t.Object({
            username: t.String({ minLength: 1, maxLength: 254 }),
            password: t.String({ minLength: 1, maxLength: 128 }),
            grant_type: t.Optional(t.Literal('password')),
            scope: t.Optional(t.String({ maxLength: 200 })),
          }),
          response: {
            200: t.Object({
              access_token: t.String(),
              token_type: t.Literal('bearer'),
              expires_in: Type.Integer(),
            }),
            ...problems(401, 429),
          },
          detail: { tags: ['auth'], summary: 'OAuth2 password grant (what "Authorize" in /docs uses)' },
        },
      )
      .post(
        '/api/auth/refresh',
        async ({ body }) => {
          const { user, refreshToken } = users.rotate(body.refreshToken)
          return {
            accessToken: await signAccessToken(tokens, principalOf(user), users.issuedAtFor(user.id)),
            refreshToken,
            tokenType: 'Bearer' as const,
            expiresIn: config.ACCESS_TOKEN_TTL_SECONDS,
          }
        },
        {
          body: RefreshBody,
          response: { 200: TokenPair, ...problems(401) },
          detail: {
            tags: ['auth'],
            summary: 'Trade a refresh token for a new pair (the old one stops working)',
          },
        },
      )
      .post(
        '/api/auth/logout',
        ({ body, set }) => {
          users.logout(body.refreshToken)
          set.status = 204
        },
        {
          body: RefreshBody,
          response: NoContent,
          detail: { tags: ['auth'], summary: 'End the session of a refresh token' },
        },
      )
      .post(
        '/api/auth/logout-all',
        ({ user, trace, set }) => {
          users.logoutEverywhere(user.id, trace)
          set.status = 204
        },
        {
          requireUser: true,
          response: NoContent,
          detail: {
            tags: ['auth'],
            summary: 'End every session of my account: refresh tokens now, access tokens in every service',
          },
        },
      )
      .get(
        '/api/auth/jwks.json',
        ({ set }) => {
          set.headers['cache-control'] = 'public, max-age=300'
          return publicJwks
        },
        {
          response: { 200: Jwks },
          detail: { tags: ['auth'], summary: 'Public keys that verify access tokens' },
        },
      )
      .get('/api/users/me', ({ user }) => view(found(users.byId(user.id))), {
        requireUser: true,
        response: { 200: User },
        detail: { tags: ['users'], summary: 'My profile' },
      })
      .patch(
        '/api/users/me',
        async ({ user, body, trace }) => {
          // Guessing the current password is limited like guessing it at login.
          const key = `password:${user.id}`
          const wait = byAccount.retryAfter(key)
          if (wait > 0) throw tooMany(wait)
          try {
            return view(await users.updateSelf(user.id, body, trace))
          } catch (err) {
            if (err instanceof WrongCurrentPassword) byAccount.hit(key)
            throw err
          }
        },
        {
          requireUser: true,
          body: t.Object({
            username: t.Optional(Username),
            email: t.Optional(Email),
            password: t.Optional(Password),
            currentPassword: t.Optional(t.String({ minLength: 1, maxLength: 128 })),
          }),
          response: { 200: User, ...problems(409, 429) },
          detail: { tags: ['users'], summary: 'Change my profile; a new password needs currentPassword' },
        },
      )
      .get(
        '/api/users',
        ({ query }) => {
          const page = users.list({ limit: query.limit ?? 20, cursor: query.cursor, q: query.q })
          return { items: page.items.map(view), nextCursor: page.nextCursor }
        },
        {
          requireAdmin: true,
          query: t.Object({
            limit: t.Optional(QueryInteger({ minimum: 1, maximum: 100 })),
            cursor: t.Optional(t.String({ maxLength: 200 })),
            q: t.Optional(t.String({ minLength: 1, maxLength: 100 })),
          }),
          response: { 200: t.Object({ items: t.Array(User), nextCursor: t.Union([t.String(), t.Null()]) }) },
          detail: { tags: ['admin'], summary: 'List accounts (keyset pagination)' },
        },
      )
      .get('/api/users/:id', ({ params }) => view(found(users.byId(params.id))), {
        requireAdmin: true,
        params: t.Object({ id: Id }),
        response: { 200: User },
        detail: { tags: ['admin'], summary: 'One account' },
      })
      .patch('/api/users/:id', ({ params, body, trace }) => view(users.adminUpdate(params.id, body, trace)), {
        requireAdmin: true,
        params: t.Object({ id: Id }),
        body: t.Object({ role: t.Optional(Role), disabled: t.Optional(Type.Boolean()) }),
        response: { 200: User, ...problems(409) },
        detail: { tags: ['admin'], summary: 'Change role or disabled flag' },
      })
      .delete(
        '/api/users/:id',
        ({ params, trace, set }) => {
          users.delete(params.id, trace)
          set.status = 204
        },
        {
          requireAdmin: true,
          params: t.Object({ id: Id }),
          response: { ...NoContent, ...problems(409) },
          detail: { tags: ['admin'], summary: 'Delete an account' },
        },
      )
  )
}

function found<T>(row: T | undefined): T {
  if (!row) throw notFound('no such user')
  return row
}
