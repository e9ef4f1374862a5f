import { chmodSync, existsSync, linkSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  type CryptoKey,
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  importPKCS8,
  importSPKI,
  type JWK,
} from 'jose'
import { makePrivateDir } from './private-files.ts'

/** Access tokens are EdDSA (Ed25519) JWTs. */
export const JWT_ALG = 'EdDSA'

export interface SigningKey {
  kid: string
  key: CryptoKey
}

export interface PublicKeys {
  /** Verification keys by `kid` (several during a rotation). */
  byKid: Map<string, CryptoKey>
  /** The JWK set served at /api/auth/jwks.json. */
  jwks: { keys: JWK[] }
}

/** Environment values: the key itself, or `@/path/to/file` to read it from a file. */
const read = (value: string): string =>
  (value.startsWith('@') ? readFileSync(value.slice(1), 'utf8') : value).trim()

const PEM = /-----BEGIN ([A-Z ]+)-----[\s\S]+?-----END \1-----/g

async function kidOf(jwk: JWK): Promise<string> {
  return jwk.kid ?? (await calculateJwkThumbprint(jwk))
}

/** The private key from a PKCS#8 PEM or an OKP JWK; its kid is the JWK's or its RFC 7638 thumbprint. */
export async function loadSigningKey(value: string): Promise<SigningKey> {
  const text = read(value)
  let jwk: JWK
  let key: CryptoKey
  if (text.startsWith('{')) {
    jwk = JSON.parse(text) as JWK
    key = (await importJWK(jwk, JWT_ALG, { extractable: true })) as CryptoKey
  } else {
    key = await importPKCS8(text, JWT_ALG, { extractable: true })
    jwk = await exportJWK(key)
  }
  if (!jwk.d) throw new Error('JWT_PRIVATE_KEY is not a private key')
  const { d: _d, ...pub } = jwk
  return { kid: await kidOf({ ...pub, kid: jwk.kid }), key }
}

/** Public keys from a JWK set, a single JWK, or one or more SPKI PEMs. */
export async function loadPublicKeys(value: string): Promise<PublicKeys> {
  const text = read(value)
  const jwks: JWK[] = []
  if (text.startsWith('{')) {
    const parsed = JSON.parse(text) as { keys?: JWK[] } & JWK
    jwks.push(...(parsed.keys ?? [parsed]))
  } else {
    for (const pem of text.match(PEM) ?? [])
      jwks.push(await exportJWK(await importSPKI(pem, JWT_ALG, { extractable: true })))
  }
  if (jwks.length === 0) throw new Error('JWT_PUBLIC_KEYS holds no key')
  const byKid = new Map<string, CryptoKey>()
  const out: JWK[] = []
  for (const jwk of jwks) {
    const { d: _private, ...pub } = jwk
    const kid = await kidOf(pub)
    byKid.set(kid, (await importJWK({ ...pub, kid }, JWT_ALG)) as CryptoKey)
    out.push({ ...pub, kid, alg: JWT_ALG, use: 'sig' })
  }
  return { byKid, jwks: { keys: out } }
}

/**
 * Development keys for the embedded mode: an Ed25519 pair generated once under
 * `<dataDir>/keys` and reused, so tokens survive restarts. Returns the env-style values.
 */
export async function ensureDevKeys(dataDir: string): Promise<{ privateKey: string; publicKeys: string }> {
  const dir = join(dataDir, 'keys')
  const privFile = join(dir, 'jwt-private.jwk.json')
  const pubFile = join(dir, 'jwt-public.jwks.json')
  makePrivateDir(dir)
  // Ours alone, unlike DATA_DIR: tightened even if something loosened it.
  chmodSync(dir, 0o700)
  if (!existsSync(privFile)) {
    const { privateKey } = await generateKeyPair(JWT_ALG, { crv: 'Ed25519', extractable: true })
    const jwk = await exportJWK(privateKey)
    const { d: _d, ...pub } = jwk
    // Several services may start at once on a fresh DATA_DIR (the distributed `bun run dev`): each
    // writes its key under a name of its own, and a hard link claims the real name only if no other
    // process got there first (link fails on an existing name, where rename would overwrite). The
    // first key wins; the others read it. Nobody ever reads half a file.
    const mine = `${privFile}.${process.pid}.${crypto.randomUUID()}.tmp`
    writeFileSync(mine, JSON.stringify({ ...jwk, kid: await calculateJwkThumbprint(pub) }), { mode: 0o600 })
    chmodSync(mine, 0o600)
    try {
      linkSync(mine, privFile)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    } finally {
      unlinkSync(mine)
    }
  }
  // Always from the private key that won, so it can never name another one.
  const { d: _d, ...pub } = JSON.parse(readFileSync(privFile, 'utf8')) as JWK
  const publicJwks = JSON.stringify({ keys: [pub] })
  if (!existsSync(pubFile) || readFileSync(pubFile, 'utf8') !== publicJwks) {
    // Public, but nothing under DATA_DIR is anyone else's to read.
    const mine = `${pubFile}.${process.pid}.${crypto.randomUUID()}.tmp`
    writeFileSync(mine, publicJwks, { mode: 0o600 })
    chmodSync(mine, 0o600)
    renameSync(mine, pubFile)
  }
  return { privateKey: `@${privFile}`, publicKeys: `@${pubFile}` }
}
