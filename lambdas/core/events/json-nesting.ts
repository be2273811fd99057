/**
 * How deeply a JSON text nests, measured without parsing it. A body nested 100,000 levels deep is ~200 KB, parses
 * fine (V8's JSON.parse does not recurse), and then overflows the stack wherever it is serialized again: the
 * read API's response and the realtime message. So the depth is bounded at ingest, by a scan that cannot itself
 * overflow: one pass, a counter, and string tracking so that brackets inside strings do not count.
 */

/** Deepest nesting of objects and arrays a JSON body may have. Peers use 64 to 512; real webhook payloads stay under 20. */
export const MAX_JSON_NESTING_DEPTH = 128;

/**
 * The deepest nesting of `[`/`{` in `text`, ignoring brackets inside strings (escapes included). Stops counting
 * once the depth passes `stopAbove` (returning that depth), so a hostile body costs at most one pass.
 * Meant for text that is, or is about to be checked as, JSON: for other text the figure is only an upper bound.
 */
export function jsonNestingDepth(text: string, stopAbove = Number.POSITIVE_INFINITY): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (inString) {
      if (code === 0x5c /* \ */) index++; // the escaped character, whatever it is, cannot end the string
      else if (code === 0x22 /* " */) inString = false;
      continue;
    }
    if (code === 0x22) inString = true;
    else if (code === 0x5b /* [ */ || code === 0x7b /* { */) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > stopAbove) return deepest;
      }
    } else if (code === 0x5d /* ] */ || code === 0x7d /* } */) depth--;
  }
  return deepest;
}

export function exceedsNestingLimit(text: string, limit = MAX_JSON_NESTING_DEPTH): boolean {
  return jsonNestingDepth(text, limit) > limit;
}
