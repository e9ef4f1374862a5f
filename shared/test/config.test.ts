import { describe, expect, test } from 'bun:test'
import { Type } from '@sinclair/typebox'
import { BaseConfig, ConfigError, checkServiceConfigs, loadConfig, serviceConfig } from '../src/config.ts'

const schema = serviceConfig(8005, { ADMIN_PASSWORD: Type.String({ minLength: 8 }) })

describe('config', () => {
  test('embedded defaults need no environment beyond what a service requires', () => {
    const c = loadConfig('user', serviceConfig(8005, {}), {})
    expect(c).toMatchObject({
      NODE_ENV: 'development',
      PORT: 8005,
      DATA_DIR: './data',
      HOST: '127.0.0.1',
      KAFKA_BROKERS: '',
      KAFKA_TOPIC_PARTITIONS: 3,
      LOG_LEVEL: 'info',
    })
  })

  test('converts numbers and booleans from strings', () => {
    const c = loadConfig('user', schema, {
      PORT: '9000',
      LOG_PRETTY: 'false',
      ADMIN_PASSWORD: 'long enough',
      KAFKA_BROKERS: '127.0.0.1:9092,127.0.0.1:9093',
    })
    expect(c.PORT).toBe(9000)
    expect(c.LOG_PRETTY).toBe(false)
    expect(c.KAFKA_BROKERS).toBe('127.0.0.1:9092,127.0.0.1:9093')
  })

  test('lists every bad or missing variable in one error, without echoing values', () => {
    let err: unknown
    try {
      loadConfig('user', schema, {
        PORT: 'eighty',
        LOG_LEVEL: 'loud',
        KAFKA_BROKERS: 'no port here',
        NODE_ENV: 'prod',
      })
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(ConfigError)
    const { problems, message } = err as ConfigError
    const keys = problems.map((p) => p.split(':')[0])
    expect(new Set(keys)).toEqual(
      new Set(['PORT', 'LOG_LEVEL', 'KAFKA_BROKERS', 'NODE_ENV', 'ADMIN_PASSWORD']),
    )
    expect(message).toStartWith('invalid configuration for user:')
    expect(message).toContain('ADMIN_PASSWORD: missing')
    expect(message).toContain('LOG_LEVEL: must be one of: trace, debug, info, warn, error, fatal, silent')
    expect(message).not.toContain('eighty')
    expect(message).not.toContain('no port here')
  })

  test('an integer setting takes digits only: a fraction, an exponent or a boolean is a problem, never truncated', () => {
    for (const [key, value] of [
      ['PORT', '18101.5'],
      ['PORT', '8e3'],
      ['KAFKA_TOPIC_PARTITIONS', 'true'],
      ['SHUTDOWN_TIMEOUT_MS', '0x10'],
    ] as const) {
      let err: unknown
      try {
        loadConfig('user', serviceConfig(8005, {}), { [key]: value })
      } catch (e) {
        err = e
      }
      expect({ key, value, problems: (err as ConfigError | undefined)?.problems }).toEqual({
        key,
        value,
        problems: [`${key}: Expected integer`],
      })
    }
    expect(
      loadConfig('user', serviceConfig(8005, {}), { PORT: '8080', SHUTDOWN_TIMEOUT_MS: '0' }),
    ).toMatchObject({
      PORT: 8080,
      SHUTDOWN_TIMEOUT_MS: 0,
    })
  })

  test('ignores variables it does not know', () => {
    const c = loadConfig('user', serviceConfig(8005, {}), { UNRELATED: 'x' }) as Record<string, unknown>
    expect(c.UNRELATED).toBeUndefined()
  })

  test("several services at once: one message, a shared variable once, a service's own named with it or by where it is read from", () => {
    const env = { LOG_LEVEL: 'loud', ADMIN_PASSWORD: 'short', PRODUCT_PORT: 'abc' }
    let err: unknown
    try {
      checkServiceConfigs('mart', { schema: BaseConfig, env }, [
        { service: 'user', schema, env: { ...env, PORT: '8005' }, readFrom: { PORT: 'USER_PORT' } },
        {
          service: 'product',
          schema: serviceConfig(8003, {}),
          env: { ...env, PORT: env.PRODUCT_PORT },
          readFrom: { PORT: 'PRODUCT_PORT' },
        },
      ])
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(ConfigError)
    expect((err as ConfigError).problems).toEqual([
      'LOG_LEVEL: must be one of: trace, debug, info, warn, error, fatal, silent',
      'ADMIN_PASSWORD (user): Expected string length greater or equal to 8',
      'PRODUCT_PORT: Expected integer',
    ])
    expect((err as ConfigError).message).not.toContain('short')
    // All good: nothing thrown.
    checkServiceConfigs('mart', { schema: BaseConfig, env: {} }, [
      { service: 'user', schema, env: { ADMIN_PASSWORD: 'long enough' } },
    ])
  })
})

test("the original project's KAFKA_BOOTSTRAP_SERVERS is KAFKA_BROKERS when ours is not set", () => {
  const schema = serviceConfig(8001, {})
  expect(loadConfig('svc', schema, { KAFKA_BOOTSTRAP_SERVERS: 'kafka:9092' }).KAFKA_BROKERS).toBe(
    'kafka:9092',
  )
  expect(
    loadConfig('svc', schema, { KAFKA_BROKERS: 'a:1', KAFKA_BOOTSTRAP_SERVERS: 'kafka:9092' }).KAFKA_BROKERS,
  ).toBe('a:1')
  expect(loadConfig('svc', schema, {}).KAFKA_BROKERS).toBe('')
  expect(() => loadConfig('svc', schema, { KAFKA_BOOTSTRAP_SERVERS: 'not a broker list' })).toThrow(
    /KAFKA_BROKERS/,
  )
})
