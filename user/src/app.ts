import {
  audit,
  authGuards,
  BodyInteger,
  clientAddress,
  createHttpApp,
  HttpProblem,
  httpSettings,
  LiteralUnion,
  type Logger,
  mapPage,
  NoContent,
  PageAnswer,
  type PublicKeys,
  problems,
  RateLimiter,
  roles,
  type SigningKey,
  type TokenVerifier,
  validationProblem,
} from '@mart/shared'
import { type Static, Type } from '@sinclair/typebox'
import { auditChange, auditDeletion } from './audit.ts'
import type { UserConfig } from './config.ts'
import { deviceCookieParameter, deviceTokenFrom, setDeviceCookie } from './device-cookie.ts'
import type { Devices } from './devices.ts'
import { Login } from './login.ts'
import { LoginThrottle, tooManyAttempts } from './login-throttle.ts'
import { signAccessToken, type TokenSettings } from './tokens.ts'
import {
  accountPages,
  needsCurrentPassword,
  principalOf,
  RefreshTokenReused,
  type UserRow,
  type Users,
  view,
  WrongCurrentPassword,
} from './users.ts'

const Username = Type.String({ minLength: 3, maxLength: 32, pattern: '^[a-zA-Z0-9_.-]+$' })
const Email = Type.String({ format: 'email', maxLength: 254 })
const Password = Type.String({ minLength: 8, maxLength: 128 })
const Role = LiteralUnion(roles)
const Id = Type.String({ format: 'uuid' })

const User = Type.Object({
  id: Type.String(),
  username: Type.String(),
  email: Type.String(),
  role: Role,
  disabled: Type.Boolean(),
  createdAt: Type.String({ format: 'date-time' }),
})
const TokenPair = Type.Object({
  accessToken: Type.String(),
  refreshToken: Type.String(),
  tokenType: Type.Literal('Bearer'),
  expiresIn: BodyInteger({ description: 'seconds until the access token expires' }),
})
const LoginAnswer = Type.Object({
  ...TokenPair.properties,
  deviceToken: Type.String({
    description:
      'Proof that this client logged in: send it back at the next login (or keep the mart_device cookie) and a lockout of the other clients of the account does not apply to it',
  }),
})
const RefreshBody = Type.Object({ refreshToken: Type.String({ minLength: 1, maxLength: 200 }) })
const Jwks = Type.Object({
  keys: Type.Array(
    // Optional as in jose's JWK type; every key served has them all (OKP, Ed25519, EdDSA, sig).
    Type.Object({
      kty: Type.Optional(Type.String()),
      crv: Type.Optional(Type.String()),
      x: Type.Optional(Type.String()),
      kid: Type.Optional(Type.String()),
      alg: Type.Optional(Type.String()),
      use: Type.Optional(Type.String()),
    }),
  ),
})

export interface AppDeps {
  config: Static<typeof UserConfig>
  log: Logger
  users: Users
  devices: Devices
  verifier: TokenVerifier
  signing: SigningKey
  publicJwks: PublicKeys['jwks']
  ready: () => boolean
}

export function buildApp({ config, log, users, devices, verifier, signing, publicJwks, ready }: AppDeps) {
  const tokens: TokenSettings = {
    signing,
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    accessTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
  }
  const throttle = new LoginThrottle({
    maxFailures: config.LOGIN_MAX_FAILURES_PER_ACCOUNT,
    failureWindowMs: config.LOGIN_ACCOUNT_WINDOW_SECONDS * 1000,
    maxPerAddress: config.LOGIN_MAX_PER_ADDRESS,
    addressWindowMs: config.LOGIN_ADDRESS_WINDOW_SECONDS * 1000,
  })
  const logins = new Login(users, devices, throttle)
  const registrations = new RateLimiter(
    config.REGISTER_MAX_PER_ADDRESS,
    config.REGISTER_ADDRESS_WINDOW_SECONDS * 1000,
  )
  const cookieOptions = {
    maxAgeSeconds: config.DEVICE_TOKEN_TTL_DAYS * 86_400,
    secure: config.NODE_ENV === 'production',
  }

  const addressOf = (request: Request, server: Parameters<typeof clientAddress>[1]) =>
    clientAddress(request, server, config.TRUST_PROXY)

  /** A fresh access token, and the refresh token given (rotation) or a new family's (login). */
  const tokenPair = async (user: UserRow, refreshToken = users.issueRefreshToken(user.id)) => ({
    accessToken: await signAccessToken(tokens, principalOf(user), users.issuedAtFor(user.id)),
    refreshToken,
    tokenType: 'Bearer' as const,
    expiresIn: config.ACCESS_TOKEN_TTL_SECONDS,
  })

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
        async ({ body, trace, set, request, server, log }) => {
          // Counted before anything is hashed, a refused name included: each attempt costs an
          // argon2id hash, and a 409 says whether an email has an account.
          const address = addressOf(request, server)
          const attempt = registrations.take(address)
          if (!attempt.taken) {
            audit(log, 'registration.refused', {
              address,
              reason: 'rate_limited',
              seconds: attempt.retryAfter,
            })
            throw tooManyAttempts(attempt.retryAfter)
          }
          try {
            const user = await users.register(body, trace)
            set.status = 201
            return view(user)
          } catch (err) {
            // Turned away before hashing because the service was busy: that was not an attempt.
            if (err instanceof HttpProblem && err.kind === 'unavailable') registrations.refund(address)
            throw err
          }
        },
        {
          body: Type.Object({ username: Username, email: Email, password: Password }),
          response: { 201: User, ...problems(409, 429, 503) },
          detail: { tags: ['auth'], summary: 'Create an account' },
        },
      )
      .post(
        '/api/auth/login',
        async ({ body, request, server, cookie, log }) => {
          if ((body.username === undefined) === (body.email === undefined)) {
            throw validationProblem([{ path: '/body', message: 'give either username or email' }])
          }
          const { user, deviceToken } = await logins.attempt(body, {
            address: addressOf(request, server),
            deviceToken: body.deviceToken ?? deviceTokenFrom(cookie),
            log,
          })
          setDeviceCookie(cookie, deviceToken, cookieOptions)
          return { ...(await tokenPair(user)), deviceToken }
        },
        {
          body: Type.Object({
            username: Type.Optional(Type.String({ minLength: 1, maxLength: 254 })),
            email: Type.Optional(Type.String({ minLength: 1, maxLength: 254 })),
            password: Type.String({ minLength: 1, maxLength: 128 }),
            deviceToken: Type.Optional(
              Type.String({
                minLength: 1,
                maxLength: 200,
                description: 'The deviceToken of an earlier login from this client (wins over the cookie)',
              }),
            ),
          }),
          response: { 200: LoginAnswer, ...problems(401, 429, 503) },
          detail: {
            tags: ['auth'],
            summary: 'Log in with username or email and password',
            parameters: [deviceCookieParameter],
          },
        },
      )
      .post(
        '/api/auth/token',
        async ({ body, request, server, cookie, log }) => {
          const identifier = body.username.includes('@')
            ? { email: body.username }
            : { username: body.username }
          const { user, deviceToken } = await logins.attempt(
            { ...identifier, password: body.password },
            { address: addressOf(request, server), deviceToken: deviceTokenFrom(cookie), log },
          )
          setDeviceCookie(cookie, deviceToken, cookieOptions)
          const pair = await tokenPair(user)
          return { access_token: pair.accessToken, token_type: 'bearer' as const, expires_in: pair.expiresIn }
        },
        {
          // `parse` rather than `type`: the OpenAPI generator reads it and documents the form alone.
          parse: 'urlencoded',
          body: Type.Object({
            username: Type.String({ minLength: 1, maxLength: 254 }),
            password: Type.String({ minLength: 1, maxLength: 128 }),
            grant_type: Type.Optional(Type.Literal('password')),
            scope: Type.Optional(Type.String({ maxLength: 200 })),
          }),
          response: {
            200: Type.Object({
              access_token: Type.String(),
              token_type: Type.Literal('bearer'),
              expires_in: BodyInteger(),
            }),
            ...problems(401, 429, 503),
          },
          detail: {
            tags: ['auth'],
            summary: 'OAuth2 password grant (what "Authorize" in /docs uses)',
            parameters: [deviceCookieParameter],
          },
        },
      )
      .post(
        '/api/auth/refresh',
        async ({ body, request, server, log }) => {
          try {
            const { user, refreshToken } = users.rotate(body.refreshToken)
            return await tokenPair(user, refreshToken)
          } catch (err) {
            if (err instanceof RefreshTokenReused) {
              const address = addressOf(request, server)
              audit(log, 'refresh_token.reused', { target: err.userId, address, outcome: 'family_revoked' })
            }
            throw err
          }
        },
        {
          body: RefreshBody,
          response: { 200: TokenPair, ...problems(401) },
          detail: {
            tags: ['auth'],
            summary: 'Trade a refresh token for a new pair (the old one stops working a few seconds later)',
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
      .get('/api/users/me', ({ user }) => view(users.accountOf(user)), {
        requireUser: true,
        response: { 200: User },
        detail: { tags: ['users'], summary: 'My profile' },
      })
      .patch(
        '/api/users/me',
        async ({ user, body, trace, request, server, log }) => {
          const by = { actor: user.id, address: addressOf(request, server) }
          // Guessing the current password is limited like guessing it at login, and counted
          // before the check in the same way; only a wrong one keeps its attempt.
          const checked = body.currentPassword !== undefined && needsCurrentPassword(users.get(user.id), body)
          const attempt = checked ? throttle.recheck(user.id) : null
          try {
            const { before, after } = await users.updateSelf(user.id, body, trace)
            attempt?.refund()
            auditChange(log, by, before, after)
            return view(after)
          } catch (err) {
            if (!(err instanceof WrongCurrentPassword)) {
              attempt?.refund()
              throw err
            }
            audit(log, 'current_password.failed', { ...by, target: user.id })
            const lockout = attempt?.failed()
            if (lockout) audit(log, 'lockout', { ...by, target: user.id, ...lockout })
            throw err
          }
        },
        {
          requireUser: true,
          body: Type.Object({
            username: Type.Optional(Username),
            email: Type.Optional(Email),
            password: Type.Optional(Password),
            currentPassword: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
          }),
          response: { 200: User, ...problems(409, 429, 503) },
          detail: {
            tags: ['users'],
            summary: 'Change my profile; a new email or password needs currentPassword',
          },
        },
      )
      .get('/api/users', ({ query }) => mapPage(users.list(query), view), {
        requireAdmin: true,
        query: Type.Object({
          ...accountPages.query,
          q: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
        }),
        response: { 200: PageAnswer(User) },
        detail: { tags: ['admin'], summary: 'List accounts (keyset pagination)' },
      })
      .get('/api/users/:id', ({ params }) => view(users.get(params.id)), {
        requireAdmin: true,
        params: Type.Object({ id: Id }),
        response: { 200: User },
        detail: { tags: ['admin'], summary: 'One account' },
      })
      .patch(
        '/api/users/:id',
        ({ params, body, trace, user, request, server, log }) => {
          const { before, after } = users.adminUpdate(params.id, body, trace)
          auditChange(log, { actor: user.id, address: addressOf(request, server) }, before, after)
          return view(after)
        },
        {
          requireAdmin: true,
          params: Type.Object({ id: Id }),
          body: Type.Object({ role: Type.Optional(Role), disabled: Type.Optional(Type.Boolean()) }),
          response: { 200: User, ...problems(409) },
          detail: { tags: ['admin'], summary: 'Change role or disabled flag' },
        },
      )
      .delete(
        '/api/users/:id',
        ({ params, trace, set, user, request, server, log }) => {
          const deleted = users.delete(params.id, trace)
          auditDeletion(log, { actor: user.id, address: addressOf(request, server) }, deleted)
          set.status = 204
        },
        {
          requireAdmin: true,
          params: Type.Object({ id: Id }),
          response: { ...NoContent, ...problems(409) },
          detail: { tags: ['admin'], summary: 'Delete an account' },
        },
      )
  )
}
