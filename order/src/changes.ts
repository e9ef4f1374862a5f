// Who is watching which order: the streams subscribe, and every committed change tells them (with
// its new version). In memory and per process, which is enough: an order's changes all commit in
// this process, and a stream that missed a notification (or reconnects) reads what it missed from
// order_versions.
import { Watchers } from '@mart/shared'

export class OrderChanges extends Watchers<number> {}
