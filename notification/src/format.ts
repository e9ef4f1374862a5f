// How notices write money, times and user-provided text.

// Building an Intl format costs far more than using one (4-6% of the embedded marketplace's CPU per
// order went to building them in a profile under load): one per locale and currency, kept.
const moneyFormats = new Map<string, { format: Intl.NumberFormat; digits: number }>()
function moneyFormat(locale: string, currency: string) {
  const key = `${locale} ${currency}`
  let found = moneyFormats.get(key)
  if (!found) {
    const format = new Intl.NumberFormat(locale, { style: 'currency', currency })
    found = { format, digits: format.resolvedOptions().maximumFractionDigits ?? 2 }
    moneyFormats.set(key, found)
  }
  return found
}

/** `amount` minor units of `currency` as people read it: 1999 EUR is "€19.99", 500 JPY "¥500". */
export function money(amount: number, currency: string, locale = 'en'): string {
  const { format, digits } = moneyFormat(locale, currency)
  // Exact: the minor units become a decimal string, never a float division.
  const sign = amount < 0 ? '-' : ''
  const units = String(Math.abs(amount)).padStart(digits + 1, '0')
  const decimal = digits === 0 ? units : `${units.slice(0, -digits)}.${units.slice(-digits)}`
  return format.format(`${sign}${decimal}` as unknown as number)
}

const dateTimeFormat = new Intl.DateTimeFormat('en-GB', {
  dateStyle: 'medium',
  timeStyle: 'short',
  timeZone: 'UTC',
})
export const dateTime = (iso: string) => `${dateTimeFormat.format(new Date(iso))} UTC`

/** Text made safe to put in HTML. */
export const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  )

/** A tagged template for HTML: every interpolated value is escaped, unless it is `raw(...)`. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): string {
  return strings.reduce((out, s, i) => {
    if (i === 0) return s
    const v = values[i - 1]
    const text = v instanceof Raw ? v.html : escapeHtml(String(v ?? ''))
    return out + text + s
  }, '')
}
class Raw {
  constructor(readonly html: string) {}
}
/** HTML that is already safe (built with `html` itself). */
export const raw = (s: string) => new Raw(s)
