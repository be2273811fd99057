/**
 * The characters a queue message may hold. SQS takes only the XML 1.0 character set in a message body
 * (#x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF, per the SendMessage reference) and answers
 * InvalidMessageContents for anything else: other control characters, U+FFFE, U+FFFF and lone surrogates.
 * Shared by the queued-event codec (which escapes them) and the local SQS stand-in (which refuses them, as SQS does).
 */
const REFUSED = '[^\\t\\n\\r\\u0020-\\uD7FF\\uE000-\\uFFFD\\u{10000}-\\u{10FFFF}]';

/** Matches the first character SQS refuses. With the `u` flag a surrogate pair is one code point (allowed), a lone surrogate is refused. */
export const CHARACTER_SQS_REFUSES = new RegExp(REFUSED, 'u');

/**
 * Rewrites every refused character of a JSON text as a `\uXXXX` escape. Valid because outside strings JSON holds
 * only ASCII punctuation, literals and whitespace, so any such character is inside a string, where the escape
 * reads back as the same character.
 */
export function escapeRefusedCharacters(jsonText: string): string {
  return jsonText.replace(new RegExp(REFUSED, 'gu'), (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
