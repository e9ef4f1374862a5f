import { expect, test } from 'bun:test'
import { ConfigError, loadConfig } from '@mart/shared'
import { checkStripeConfig, PaymentConfig } from '../src/config.ts'

const config = (env: Record<string, string>) => loadConfig('payment', PaymentConfig, env)

test('in production a Stripe key without the webhook secret stops the service, naming the variable', () => {
  const check = () => checkStripeConfig(config({ NODE_ENV: 'production', STRIPE_SECRET_KEY: 'sk_live_x' }))
  expect(check).toThrow(ConfigError)
  expect(check).toThrow(/STRIPE_WEBHOOK_SECRET/)
  expect(check).not.toThrow(/sk_live_x/)
})

test('with both, or without a key, or outside production, it starts', () => {
  const envs: Record<string, string>[] = [
    { NODE_ENV: 'production', STRIPE_SECRET_KEY: 'sk_live_x', STRIPE_WEBHOOK_SECRET: 'whsec_x' },
    { NODE_ENV: 'production' },
    { NODE_ENV: 'development', STRIPE_SECRET_KEY: 'sk_test_x' },
  ]
  for (const env of envs) {
    expect(() => checkStripeConfig(config(env))).not.toThrow()
  }
})

test('PUBLIC_URL and STRIPE_API_URL must be URLs', () => {
  expect(() => config({ PUBLIC_URL: 'not a url' })).toThrow(ConfigError)
  expect(() => config({ STRIPE_API_URL: 'ftp://x' })).toThrow(ConfigError)
})
