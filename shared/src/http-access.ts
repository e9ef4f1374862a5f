// What a request leaves in the log once it is answered: the access line, and for what an operator
// must be able to find later (an admin's change, a refused admin, a refused token) an audit line.
import type { Logger } from 'pino'
import { guardedAccess } from './auth.ts'
import { audit, infoLine } from './log.ts'

export interface Answered {
  request: Request
  requestId: string
  traceId: string
  path: string
  status: number
  ms: number
  /** The client's address (see clientAddress). */
  address: string
  /** The problem's detail, when the answer was a problem. */
  detail?: string
}

const READS = new Set(['GET', 'HEAD', 'OPTIONS'])
const PROBES = new Set(['/health', '/ready'])

export function logAnswered(log: Logger, a: Answered): void {
  const { method } = a.request
  const what = {
    method,
    path: a.path,
    status: a.status,
    address: a.address,
    requestId: a.requestId,
    traceId: a.traceId,
  }
  const access = guardedAccess(a.request)
  const principal = access?.principal
  const line = { ...what, ms: a.ms, ...(principal ? { userId: principal.id } : {}) }
  if (PROBES.has(a.path)) log.debug(line, 'request')
  else infoLine(log, line, 'request')

  if (!access) return
  if (a.status === 401 && !principal) audit(log, 'auth.token_refused', { ...what, reason: a.detail })
  else if (a.status === 403 && access.required === 'admin' && principal?.role !== 'admin') {
    audit(log, 'admin.refused', { ...what, actor: principal?.id })
  } else if (a.status < 400 && access.required === 'admin' && !READS.has(method)) {
    audit(log, 'admin.request', { ...what, actor: principal?.id })
  }
}
