import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { exportJWK, exportPKCS8, exportSPKI, generateKeyPair, SignJWT } from 'jose'
import { ensureDevKeys, loadPublicKeys, loadSigningKey, TokenVerifier } from '../src/index.ts'
import { tempDir } from '../src/testing.ts'

const pair = () => generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true })

async function tokenFor(key: Awaited<ReturnType<typeof loadSigningKey>>, sub = 'u1') {
  return new SignJWT({ role: 'user', username: 'u' })
    .setProtectedHeader({ alg: 'EdDSA', kid: key.kid })
    .setSubject(sub)
    .setIssuer('mart')
    .setAudience('mart')
    .setIssuedAt()
    .setExpirationTime('15m')
    .sign(key.key)
}

describe('keys', () => {
  let tmp: ReturnType<typeof tempDir>
  beforeEach(() => {
    tmp = tempDir()
  })
  afterEach(() => tmp.cleanup())

  test('PEM from a file and from the environment, several public keys for a rotation', async () => {
    const [oldPair, newPair] = [await pair(), await pair()]
    writeFileSync(join(tmp.dir, 'private.pem'), await exportPKCS8(newPair.privateKey))
    const signing = await loadSigningKey(`@${join(tmp.dir, 'private.pem')}`)
    const keys = await loadPublicKeys(
      `${await exportSPKI(oldPair.publicKey)}\n${await exportSPKI(newPair.publicKey)}`,
    )
    expect(keys.byKid.size).toBe(2)
    expect(keys.byKid.has(signing.kid)).toBe(true)
    expect(keys.jwks.keys.every((k) => k.d === undefined && k.crv === 'Ed25519' && k.alg === 'EdDSA')).toBe(
      true,
    )
    const verifier = new TokenVerifier({ keys, issuer: 'mart', audience: 'mart' })
    expect(await verifier.verify(await tokenFor(signing))).toEqual({ id: 'u1', role: 'user', username: 'u' })
    // A token signed with the retired key still verifies while its public key is listed.
    const old = await loadSigningKey(await exportPKCS8(oldPair.privateKey))
    expect((await verifier.verify(await tokenFor(old, 'u2'))).id).toBe('u2')
  })

  test('JWK and JWK set, with the kid they carry', async () => {
    const p = await pair()
    const priv = { ...(await exportJWK(p.privateKey)), kid: 'key-2026' }
    const signing = await loadSigningKey(JSON.stringify(priv))
    expect(signing.kid).toBe('key-2026')
    const keys = await loadPublicKeys(
      JSON.stringify({ keys: [{ ...(await exportJWK(p.publicKey)), kid: 'key-2026' }] }),
    )
    expect([...keys.byKid.keys()]).toEqual(['key-2026'])
  })

  test('refuses a public key where the private one is expected, and an empty key set', async () => {
    const p = await pair()
    await expect(loadSigningKey(JSON.stringify(await exportJWK(p.publicKey)))).rejects.toThrow(
      'not a private key',
    )
    await expect(loadPublicKeys('no key in here')).rejects.toThrow('holds no key')
  })

  test('development keys are generated once and reused', async () => {
    const first = await ensureDevKeys(tmp.dir)
    const signing = await loadSigningKey(first.privateKey)
    const again = await ensureDevKeys(tmp.dir)
    expect((await loadSigningKey(again.privateKey)).kid).toBe(signing.kid)
    const keys = await loadPublicKeys(again.publicKeys)
    expect(keys.byKid.has(signing.kid)).toBe(true)
  })
})

test('six processes starting at once on a fresh DATA_DIR agree on one development key pair', async () => {
  // The distributed `bun run dev` starts six services at once: each makes the keys if they are
  // not there. Several rounds, since a race does not lose every time.
  for (let round = 0; round < 5; round++) {
    const tmp = tempDir('mart-devkeys-')
    try {
      const children = Array.from({ length: 6 }, () =>
        Bun.spawn(['bun', join(import.meta.dir, 'fixtures', 'dev-keys.ts'), tmp.dir], {
          stdin: 'pipe',
          stdout: 'pipe',
          stderr: 'inherit',
        }),
      )
      await Bun.sleep(300) // every child loaded and waiting
      for (const c of children) {
        c.stdin.write('go\n')
        c.stdin.end()
      }
      const said = await Promise.all(
        children.map(
          async (c) =>
            JSON.parse(await new Response(c.stdout).text()) as { kid: string; publicKids: string[] },
        ),
      )
      const kids = new Set(said.map((s) => s.kid))
      expect(kids.size).toBe(1)
      for (const s of said) expect(s.publicKids).toEqual([s.kid])
    } finally {
      tmp.cleanup()
    }
  }
}, 60_000)
