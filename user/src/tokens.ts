import { createHash, randomBytes } from 'node:crypto'
import { JWT_ALG, type Principal, type SigningKey } from '@mart/shared'
import { SignJWT } from 'jose'

export interface TokenSettings {
  signing: SigningKey
  issuer: string
  audience: string
  accessTtlSeconds: number
}

/**
 * A 15-minute (by default) EdDSA access token carrying who the user is and their role. `iat` keeps
 * milliseconds (a NumericDate may be fractional): a revocation refuses tokens issued up to the
 * millisecond, so a token issued just after it, in the same second, still works.
 */
export function signAccessToken(s: TokenSettings, user: Principal, issuedAtMs: number): Promise<string> {
  return new SignJWT({ role: user.role, username: user.username })
    .setProtectedHeader({ alg: JWT_ALG, kid: s.signing.kid, typ: 'JWT' })
    .setSubject(user.id)
    .setIssuer(s.issuer)
    .setAudience(s.audience)
    .setIssuedAt(issuedAtMs / 1000)
    .setExpirationTime(Math.floor(issuedAtMs / 1000) + s.accessTtlSeconds)
    .sign(s.signing.key)
}

/** An opaque refresh token: 256 random bits. Only its hash is stored. */
export const newRefreshToken = () => randomBytes(32).toString('base64url')

export const hashRefreshToken = (token: string) => createHash('sha256').update(token).digest('hex')
