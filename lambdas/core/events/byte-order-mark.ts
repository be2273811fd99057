/**
 * A leading U+FEFF is part of the bytes a provider signed, so hookhub stores it; JSON (RFC 8259 §8.1) lets a parser
 * ignore it, and JSON.parse does not, so it is skipped only for parsing.
 */
export function withoutByteOrderMark(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
