import { Elysia } from 'elysia'
import { type JWTPayload, errors as joseErrors, jwtVerify } from 'jose'
import type { BaseConfig } from './config.ts'
import { forbidden, unauthorized } from './errors.ts'
import { type Role, roles } from './events/enums.ts'
import { ensureDevKeys, JWT_ALG, loadPublicKeys, type PublicKeys } from './keys.ts'
import { REQUIRES_ROLE } from './openapi-doc.ts'

const isRole = (value: unknown): value is Role => roles.includes(value as Role)

export type { Role } from './events/enums.ts'

/** Who made the request, from a verified access token. */
export interface Principal {
  id: string
  role: Role
  username: string
}

export interface VerifierOptions {
  keys: PublicKeys
  issuer: string
  audience: string
  /** Verified tokens remembered until they expire (bounded; 0 turns the cache off). */
  cacheSize?: number
  /** Users whose tokens issued up to some instant are refused (user.sessions_revoked). */
  revocations?: { refuses(userId: string, issuedAt: number): boolean }
}

interface Cached {
  principal: Principal
  /** When the token was issued, in ms (`iat` may carry milliseconds as a fraction). */
  issuedAt: number
  expiresAt: number
}

/**
 * Verifies EdDSA access tokens with the public keys only. A verified token is cached until it
 * expires, so a client reusing its token costs a map lookup, not a signature check.
 */
export class TokenVerifier {
  private readonly cache = new Map<string, Cached>()
  private readonly cacheSize: number

  constructor(private readonly opts: VerifierOptions) {
    this.cacheSize = opts.cacheSize ?? 10_000
  }

  async verify(token: string): Promise<Principal> {
    const { principal, issuedAt } = await this.verified(token)
    if (this.opts.revocations?.refuses(principal.id, issuedAt)) {
      throw unauthorized('this session has been revoked; log in again')
    }
    return principal
  }

  /** The signature, claims and expiry checked, from the cache when this token was seen before. */
  private async verified(token: string): Promise<Cached> {
    const now = Date.now()
    const hit = this.cache.get(token)
    if (hit) {
      if (hit.expiresAt > now) return hit
      this.cache.delete(token)
    }
    let payload: JWTPayload
    try {
      ;({ payload } = await jwtVerify(token, async (header) => this.keyFor(header.kid), {
        algorithms: [JWT_ALG],
        issuer: this.opts.issuer,
        audience: this.opts.audience,
        requiredClaims: ['sub', 'exp', 'iat'],
      }))
    } catch (err) {
      throw unauthorized(
        err instanceof joseErrors.JWTExpired ? 'the access token has expired' : 'invalid access token',
      )
    }
    const entry: Cached = {
      principal: toPrincipal(payload),
      issuedAt: Math.round((payload.iat as number) * 1000),
      expiresAt: (payload.exp as number) * 1000,
    }
    if (this.cacheSize <= 0) return entry
    if (this.cache.size >= this.cacheSize) {
      // Oldest first: Map iteration follows insertion order.
      const oldest = this.cache.keys().next().value
      if (oldest !== undefined) this.cache.delete(oldest)
    }
    this.cache.set(token, entry)
    return entry
  }

  /** The principal of a request's `Authorization: Bearer` header; 401 without a valid one. */
  async fromHeader(authorization: string | undefined | null): Promise<Principal> {
    const m = /^Bearer ([A-Za-z0-9._~+/=-]+)$/i.exec(authorization ?? '')
    if (!m) throw unauthorized('a bearer token is required')
    return this.verify(m[1] as string)
  }

  private keyFor(kid: string | undefined) {
    const key = kid ? this.opts.keys.byKid.get(kid) : undefined
    if (!key) throw new Error('unknown key id')
    return key
  }
}

function toPrincipal(p: JWTPayload): Principal {
  const role = p.role
  if (typeof p.sub !== 'string' || !isRole(role) || typeof p.username !== 'string') {
    throw unauthorized('invalid access token')
  }
  return { id: p.sub, role, username: p.username }
}

/** What a route guard learnt of a request: the role its route needs, and whose token it verified. */
export interface GuardedAccess {
  required: Role
  /** Set once the token is verified (and the account may still act), whether or not its role was enough. */
  principal?: Principal
}

// Keyed by the request itself: the access log and the audit lines (createHttpApp) read it after
// the answer, whichever way the request went.
const guarded = new WeakMap<Request, GuardedAccess>()

/** What the guard learnt of `request`; undefined when its route has no guard. */
export const guardedAccess = (request: Request): GuardedAccess | undefined => guarded.get(request)

/** OpenAPI security schemes: a bearer token, obtained from the user service's password form. */
export const securitySchemes = {
  bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
  password: {
    type: 'oauth2',
    description: 'Log in with a username and password to get a token.',
    flows: { password: { tokenUrl: '/api/auth/token', scopes: {} } },
  },
} as const

const security: Record<string, string[]>[] = [{ bearer: [] }, { password: [] }]

export interface GuardOptions {
  /**
   * For the service that owns the accounts: the account as it is now, whose role counts instead of
   * the token's; null when it may no longer act (deleted or disabled), which answers 401.
   */
  current?: (principal: Principal) => Principal | null
}

/**
 * Route guards for every service: `{ requireUser: true }` answers 401 (with `WWW-Authenticate:
 * Bearer`) without a valid token and gives the handler `user`; `{ requireAdmin: true }` also
 * answers 403 to a non-admin. The check runs before params, query and body are validated, so a
 * caller without access learns nothing about a route's input rules.
 */
export function authGuards(verifier: TokenVerifier, opts: GuardOptions = {}) {
  const check = async (request: Request, role?: Role) => {
    const access: GuardedAccess = { required: role ?? 'user' }
    guarded.set(request, access)
    let user = await verifier.fromHeader(request.headers.get('authorization'))
    if (opts.current) {
      const now = opts.current(user)
      if (!now) throw unauthorized('this account can no longer sign in')
      user = now
    }
    access.principal = user
    if (role && user.role !== role) throw forbidden(`this needs the ${role} role`)
  }
  // `transform` runs before validation; `resolve` (after it) hands the principal to the handler.
  const user = ({ request }: { request: Request }) => ({ user: guarded.get(request)?.principal as Principal })
  return new Elysia({ name: 'mart-auth' }).macro({
    requireUser: { detail: { security }, transform: ({ request }) => check(request), resolve: user },
    requireAdmin: {
      detail: { security, [REQUIRES_ROLE]: 'admin' },
      transform: ({ request }) => check(request, 'admin'),
      resolve: user,
    },
  })
}

/**
 * The verifier a service's configuration asks for: JWT_PUBLIC_KEYS, or in development and tests
 * the generated keys under DATA_DIR/keys. In production, missing keys stop the service.
 */
export async function verifierFromConfig(
  config: BaseConfig,
  revocations?: VerifierOptions['revocations'],
): Promise<TokenVerifier> {
  let source = config.JWT_PUBLIC_KEYS
  if (!source) {
    if (config.NODE_ENV === 'production') throw new Error('JWT_PUBLIC_KEYS is required in production')
    source = (await ensureDevKeys(config.DATA_DIR)).publicKeys
  }
  return new TokenVerifier({
    keys: await loadPublicKeys(source),
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    revocations,
  })
}
