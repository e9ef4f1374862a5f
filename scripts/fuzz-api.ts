// `bun run fuzz:api`: property-based tests of every service's HTTP API against its own OpenAPI
// document, with schemathesis (from PyPI, pinned, in a virtualenv under .cache). Runs the embedded
// marketplace on a throwaway DATA_DIR, logs in as the seeded admin and lets schemathesis generate
// requests for each service, valid and invalid, including stateful sequences.
// Options: --seconds 30 (per service) --service user (one only)
// Not part of `bun run test`: it takes minutes and needs Python.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { startEmbedded } from '@mart/shared'
import { tempDir, testLogger } from '@mart/shared/testing'
import { loadDefinitions, root } from './services.ts'

const SCHEMATHESIS = '4.32.5'
// Hypothesis from 6.13x on describes lambdas by parsing source with `ast`, which on this
// machine's CPython 3.11 fails now and then ("AST constructor recursion depth mismatch") and
// aborts an operation's tests: pinned to the lowest version schemathesis allows, which does not.
const HYPOTHESIS = '6.130.12'
// Left out, and why:
// - positive_data_acceptance: rules a JSON schema does not state are 422s by design (an ISO 4217
//   currency beyond the pattern, a delta of 0, "username or email", a wrong currentPassword).
// - allow_header_conformance: DELETE /api/users/me is served, by /api/users/:id (a 422, "me" is
//   not a uuid), so Allow names it although the document does not list it under /me.
const EXCLUDED_CHECKS = ['positive_data_acceptance', 'allow_header_conformance']

const { values: opts } = parseArgs({
  options: { seconds: { type: 'string', default: '30' }, service: { type: 'string' } },
})

function run(cmd: string[]) {
  const r = Bun.spawnSync(cmd, { stdout: 'inherit', stderr: 'inherit' })
  if (r.exitCode !== 0) throw new Error(`${cmd.join(' ')} failed (${r.exitCode})`)
}

const venv = join(root, '.cache', 'schemathesis', `${SCHEMATHESIS}-hypothesis-${HYPOTHESIS}`)
const st = join(venv, 'bin', 'st')
if (!existsSync(st)) {
  console.log(`fuzz:api: installing schemathesis ${SCHEMATHESIS} into ${venv}`)
  run(['python3', '-m', 'venv', venv])
  run([
    join(venv, 'bin', 'pip'),
    'install',
    '--quiet',
    `schemathesis==${SCHEMATHESIS}`,
    `hypothesis==${HYPOTHESIS}`,
  ])
}

const data = tempDir('mart-fuzz-')
const admin = { username: 'admin', password: 'fuzz-admin-password' }
const mart = await startEmbedded(await loadDefinitions(), {
  env: {
    NODE_ENV: 'development',
    DATA_DIR: data.dir,
    ADMIN_USERNAME: admin.username,
    ADMIN_EMAIL: 'admin@mart.test',
    ADMIN_PASSWORD: admin.password,
  },
  port: 0,
  log: testLogger('fuzz'),
})
const failed: string[] = []
try {
  const login = await fetch(`${mart.url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(admin),
  })
  const { accessToken } = (await login.json()) as { accessToken: string }
  const names = mart.services.map((s) => s.name).filter((n) => !opts.service || n === opts.service)
  for (const name of names) {
    console.log(`\n== ${name}: ${opts.seconds} s`)
    // Not spawnSync: the marketplace answering schemathesis runs in this process.
    const r = Bun.spawn(
      [
        st,
        'run',
        `${mart.url}/api/${name}/docs/json`,
        '--url',
        mart.url,
        '--header',
        `Authorization: Bearer ${accessToken}`,
        '--checks',
        'all',
        '--exclude-checks',
        EXCLUDED_CHECKS.join(','),
        // Deleting accounts (the admin's own among them) and logging out would end the run's session.
        '--exclude-path-regex',
        '^/api/auth/logout$',
        '--exclude-method',
        'DELETE',
        '--max-time',
        opts.seconds,
        '--workers',
        '2',
        '--warnings',
        'off',
      ],
      {
        // schemathesis keeps a cache of failing cases in ./.schemathesis: under .cache, not in the tree.
        cwd: join(root, '.cache', 'schemathesis'),
        stdout: 'inherit',
        stderr: 'inherit',
        env: { ...process.env, SCHEMATHESIS_TELEMETRY: 'false' },
      },
    )
    if ((await r.exited) !== 0) failed.push(name)
  }
} finally {
  await mart.stop()
  data.cleanup()
}
console.log(failed.length ? `\nfuzz:api: failures in ${failed.join(', ')}` : '\nfuzz:api: no failures')
process.exit(failed.length ? 1 : 0)
