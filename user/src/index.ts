// The user service: accounts, login, tokens and roles. The only holder of the signing key.
import { join } from 'node:path'
import {
  ensureDevKeys,
  loadPublicKeys,
  loadSigningKey,
  runStandalone,
  type ServiceDefinition,
} from '@mart/shared'
import { buildApp } from './app.ts'
import { UserConfig } from './config.ts'
import * as schema from './db/schema.ts'
import { Devices } from './devices.ts'
import { seedFirstAdmin } from './first-admin.ts'
import { PasswordHasher } from './passwords.ts'
import { Users } from './users.ts'

export const definition: ServiceDefinition<typeof schema, typeof UserConfig> = {
  name: 'user',
  config: UserConfig,
  schema,
  migrationsFolder: join(import.meta.dir, 'db', 'migrations'),
  publishes: ['user.events'],
  // Revocations reach it through the platform's auth layer, like every service.
  consumes: [],
  async build({ config, log, store, verifier, revocations, ready }) {
    const production = config.NODE_ENV === 'production'
    let privateKey = config.JWT_PRIVATE_KEY
    let publicKeys = config.JWT_PUBLIC_KEYS
    if (!privateKey || !publicKeys) {
      if (production) throw new Error('JWT_PRIVATE_KEY and JWT_PUBLIC_KEYS are required in production')
      const dev = await ensureDevKeys(config.DATA_DIR)
      privateKey ??= dev.privateKey
      publicKeys ??= dev.publicKeys
    }
    const signing = await loadSigningKey(privateKey)
    const { jwks } = await loadPublicKeys(publicKeys)
    if (!jwks.keys.some((k) => k.kid === signing.kid)) {
      throw new Error(`JWT_PUBLIC_KEYS has no key for the signing key (kid ${signing.kid})`)
    }

    const passwords = new PasswordHasher({
      cost: { memoryCost: config.PASSWORD_MEMORY_KIB, timeCost: config.PASSWORD_TIME_COST },
      concurrency: config.PASSWORD_HASH_CONCURRENCY,
      queue: config.PASSWORD_HASH_QUEUE,
    })
    const refresh = {
      ttlMs: config.REFRESH_TOKEN_TTL_DAYS * 86_400_000,
      reuseGraceMs: config.REFRESH_REUSE_GRACE_SECONDS * 1000,
    }
    const users = new Users(store, passwords, refresh, {
      revocations,
      accessTtlMs: config.ACCESS_TOKEN_TTL_SECONDS * 1000,
    })
    seedFirstAdmin(users, config, { production, log })
    const devices = new Devices(store, config.DEVICE_TOKEN_TTL_DAYS * 86_400_000)
    return {
      app: buildApp({ config, log, users, devices, verifier, signing, publicJwks: jwks, ready }),
    }
  },
}

if (import.meta.main) await runStandalone(definition)
