// String formats for what people type and other people read: registered once on TypeBox's
// registry (the one Elysia validates with), so a field's schema is both its /docs and its 422.
import { FormatRegistry, type StringOptions, type TString, Type } from '@sinclair/typebox'

// Characters that are not text a reader sees: controls (Cc), invisible formatting (Cf: zero-width
// spaces, bidi overrides such as U+202E, the BOM), line and paragraph separators (Zl, Zp), and
// surrogates (Cs), which in a JS string can only be lone halves: not valid Unicode.
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u
// The two format characters that are part of writing: the zero-width non-joiner and joiner, which
// Persian and Indic words and emoji sequences need between two visible characters. Anywhere else
// (alone, at an edge, beside a space or another joiner) they are invisible like the rest.
const JOINER_IN_TEXT = /(?<=[\p{L}\p{M}\p{N}\p{S}])[\u200c\u200d](?=[\p{L}\p{M}\p{N}\p{S}])/gu
const invisible = (v: string) => INVISIBLE.test(v.replace(JOINER_IN_TEXT, ''))
// What a multi-line text may have that a line may not.
const LINE_LAYOUT = /\r\n|\n|\t/g
// A URL as RFC 3986 writes it (ASCII: a punycode host, a percent-encoded path), so that what the
// WHATWG parser would forgive or reinterpret never gets in: whitespace and controls it drops,
// a backslash it reads as "/" ("https://evil\@host" has the host "evil"), a bare "%".
const URI_CHARACTERS = /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]*$/
const BARE_PERCENT = /%(?![0-9A-Fa-f]{2})/
// http(s), "//", then an authority up to the path: the parser would also take "https:host".
const HTTP_URL_START = /^https?:\/\/([^/?#]*)/i

export const textFormats = {
  /**
   * One line of visible text, not blank: no control or format character (but a joiner between two
   * visible characters), line break or lone surrogate.
   */
  'single-line-text': (v: string) => v.trim() !== '' && !invisible(v),
  /** Visible text in lines: as single-line-text, but tabs and line breaks (LF or CRLF) are allowed, and blank is. */
  'multi-line-text': (v: string) => !invisible(v.replace(LINE_LAYOUT, '')),
  /** An absolute http or https URL with a host and without credentials, in RFC 3986 characters. */
  'http-url': (v: string) => {
    if (!URI_CHARACTERS.test(v) || BARE_PERCENT.test(v)) return false
    const authority = HTTP_URL_START.exec(v)?.[1]
    if (!authority || authority.includes('@')) return false
    return URL.canParse(v) && new URL(v).hostname !== ''
  },
} as const

for (const [name, check] of Object.entries(textFormats)) {
  if (!FormatRegistry.Has(name)) FormatRegistry.Set(name, check)
}

type TextOptions = Omit<StringOptions, 'format'>

/**
 * A name, title or label: one line of visible text, not blank. Callers store it trimmed
 * (`value.trim()`): surrounding spaces are allowed in, never kept.
 */
export const SingleLineText = (options: TextOptions = {}): TString =>
  Type.String({
    description: 'one line of text; no control or invisible characters',
    ...options,
    format: 'single-line-text',
  })

/** Free text in lines: as SingleLineText, plus tabs and line breaks; may be empty. */
export const MultiLineText = (options: TextOptions = {}): TString =>
  Type.String({
    description: 'text; line breaks and tabs, no other control or invisible characters',
    ...options,
    format: 'multi-line-text',
  })

/** A link shown to people: http or https, with a host, no user name or password, ASCII (punycode, %-encoded). */
export const HttpUrl = (options: TextOptions = {}): TString =>
  Type.String({
    description: 'an http or https URL with a host, without credentials, in RFC 3986 (ASCII) form',
    ...options,
    format: 'http-url',
  })
