import { serviceConfig } from '@mart/shared'
import { Type } from '@sinclair/typebox'

export const UserConfig = serviceConfig(8005, {
  /** The signing key (PKCS#8 PEM or JWK, or @file). Generated under DATA_DIR/keys outside production. */
  JWT_PRIVATE_KEY: Type.Optional(Type.String({ minLength: 1 })),
  ACCESS_TOKEN_TTL_SECONDS: Type.Integer({ minimum: 60, maximum: 86_400, default: 900 }),
  REFRESH_TOKEN_TTL_DAYS: Type.Integer({ minimum: 1, maximum: 365, default: 7 }),
  /**
   * Seconds after its first use in which a refresh token may be used again (parallel refreshes
   * from one client) without counting as reuse; 0 makes every second use revoke the family.
   */
  REFRESH_REUSE_GRACE_SECONDS: Type.Integer({ minimum: 0, maximum: 60, default: 5 }),
  /**
   * The admin seeded when none exists (admin / admin@mart.local unless set: first-admin.ts). Unset
   * rather than defaulted here, so a later start can tell which were set and warn that they are
   * ignored. A missing password is a boot error in production.
   */
  ADMIN_USERNAME: Type.Optional(Type.String({ minLength: 3, maxLength: 32, pattern: '^[a-zA-Z0-9_.-]+$' })),
  ADMIN_EMAIL: Type.Optional(Type.String({ format: 'email', maxLength: 254 })),
  ADMIN_PASSWORD: Type.Optional(Type.String({ minLength: 8, maxLength: 128 })),
  /** argon2id cost; lower it only for tests. */
  PASSWORD_MEMORY_KIB: Type.Integer({ minimum: 1024, maximum: 1_048_576, default: 65_536 }),
  PASSWORD_TIME_COST: Type.Integer({ minimum: 1, maximum: 10, default: 2 }),
  /**
   * Password hashes (and checks) running at once. One on a 2-core machine: argon2id at 64 MiB keeps
   * a core busy for about 0.1 s, and the other core stays free for everything else.
   */
  PASSWORD_HASH_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 64, default: 1 }),
  /** Password hashes (and checks) waiting for a turn; beyond this a request gets 503. */
  PASSWORD_HASH_QUEUE: Type.Integer({ minimum: 0, maximum: 10_000, default: 32 }),
  /** How long a device that logged in stays trusted (OWASP device cookies; renewed at each login). */
  DEVICE_TOKEN_TTL_DAYS: Type.Integer({ minimum: 1, maximum: 400, default: 30 }),
  /**
   * Failed logins allowed per window before 429: for an account's clients without its device token
   * (together), and for each device that has one (on its own).
   */
  LOGIN_MAX_FAILURES_PER_ACCOUNT: Type.Integer({ minimum: 1, default: 5 }),
  LOGIN_ACCOUNT_WINDOW_SECONDS: Type.Integer({ minimum: 1, default: 900 }),
  /** Login attempts allowed per client address per window before 429. */
  LOGIN_MAX_PER_ADDRESS: Type.Integer({ minimum: 1, default: 30 }),
  LOGIN_ADDRESS_WINDOW_SECONDS: Type.Integer({ minimum: 1, default: 60 }),
  /** Registrations allowed per client address per window before 429 (a taken name counts too). */
  REGISTER_MAX_PER_ADDRESS: Type.Integer({ minimum: 1, default: 10 }),
  REGISTER_ADDRESS_WINDOW_SECONDS: Type.Integer({ minimum: 1, default: 3600 }),
})
