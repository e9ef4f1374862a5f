// Durable jobs: list what each service has scheduled, running, done or dead, and run chosen ones again.
//   bun run jobs list [--service S] [--state scheduled|running|done|dead] [--data-dir D]
//   bun run jobs retry <service> <kind> <key> [--data-dir D]
//   bun run jobs retry --all-dead [--service S] [--data-dir D]
// Reads each service's database, <DATA_DIR>/<service>.db (the embedded mode keeps them all in one
// directory; a distributed deployment gives each service its own: pass --data-dir). Safe while the
// services run: SQLite orders the writes, and a runner picks a retried job up on its next look.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import {
  describeJob,
  isJobState,
  jobStates,
  listJobs,
  openJobsDatabase,
  retryDeadJobs,
  retryJob,
  type ServiceName,
  serviceNames,
} from '@mart/shared'

function usage(message?: string): never {
  if (message) console.error(message)
  console.error(
    [
      `usage: bun run jobs list [--service S] [--state ${jobStates.join('|')}] [--data-dir D]`,
      '       bun run jobs retry <service> <kind> <key> [--data-dir D]',
      '       bun run jobs retry --all-dead [--service S] [--data-dir D]',
    ].join('\n'),
  )
  process.exit(2)
}

function fail(message: string): never {
  console.error(message)
  process.exit(1)
}

function commandLine() {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        service: { type: 'string' },
        state: { type: 'string' },
        'data-dir': { type: 'string' },
        'all-dead': { type: 'boolean', default: false },
      },
    })
  } catch (err) {
    usage((err as Error).message)
  }
}
const { values: opts, positionals } = commandLine()
const [command, ...args] = positionals
const dataDir = opts['data-dir'] ?? process.env.DATA_DIR ?? './data'

const isService = (name: string): name is ServiceName => (serviceNames as readonly string[]).includes(name)
function service(name: string): ServiceName {
  if (!isService(name)) usage(`no service "${name}": one of ${serviceNames.join(', ')}`)
  return name
}
const fileOf = (name: ServiceName) => join(dataDir, `${name}.db`)

/** The services to look at: the one named (its database must exist), or every one with a database here. */
function chosen(): ServiceName[] {
  if (opts.service === undefined) return serviceNames.filter((n) => existsSync(fileOf(n)))
  const name = service(opts.service)
  if (!existsSync(fileOf(name))) fail(`no database for ${name} at ${fileOf(name)}`)
  return [name]
}

function withDatabase<T>(name: ServiceName, fn: (db: ReturnType<typeof openJobsDatabase>) => T): T {
  const db = openJobsDatabase(fileOf(name))
  try {
    return fn(db)
  } finally {
    db.close()
  }
}

if (command === 'list') {
  if (args.length > 0) usage()
  if (opts.state !== undefined && !isJobState(opts.state)) usage(`no state "${opts.state}"`)
  const state = opts.state
  const services = chosen()
  if (services.length === 0) fail(`no service database in ${dataDir}`)
  let listed = 0
  for (const name of services) {
    for (const job of withDatabase(name, (db) => listJobs(db, state))) {
      console.log(JSON.stringify(describeJob(name, job)))
      listed++
    }
  }
  if (listed === 0) console.log(`no ${state ? `${state} ` : ''}jobs in ${services.join(', ')}`)
} else if (command === 'retry' && opts['all-dead']) {
  if (args.length > 0) usage('--all-dead takes no job: name the service with --service')
  const services = chosen()
  if (services.length === 0) fail(`no service database in ${dataDir}`)
  for (const name of services) {
    console.log(`${name}: retried ${withDatabase(name, (db) => retryDeadJobs(db))} dead job(s)`)
  }
} else if (command === 'retry') {
  const [name, kind, key] = args
  if (!name || !kind || !key || args.length > 3)
    usage('name the job to retry (service, kind, key) or --all-dead')
  const svc = service(name)
  if (!existsSync(fileOf(svc))) fail(`no database for ${svc} at ${fileOf(svc)}`)
  const outcome = withDatabase(svc, (db) => retryJob(db, kind, key))
  if (outcome === null) fail(`${svc} has no ${kind} job ${key}`)
  if (outcome !== true) {
    fail(
      outcome === 'running'
        ? `${svc}'s ${kind} job ${key} is running now: it is its runner's until it ends`
        : `${svc}'s ${kind} job ${key} is done: schedule it again from the service instead`,
    )
  }
  console.log(`${svc}: ${kind} job ${key} is due now`)
} else {
  usage()
}
