// Text from the network is untrusted until it is made printable (docs/security.md "A hostile or
// broken IdP"). An IdP's error_description, a non-JSON error body, a discovery document, a
// certificate's subject or an API's headers could otherwise drive the terminal: OSC 52 writes the
// clipboard, OSC 0 retitles the window, CSI erases a line to print a fake "✓ bound" over an error,
// and bidi controls make a line read otherwise than it is. Such characters are shown escaped
// (\x1b, \u202e), so that the reader sees that something odd was sent rather than its effect.
//
// printable() is for text known to come from outside; terminalSafe() is the net under every line
// the CLI writes to a terminal stream (src/cli/ui.ts): it lets through only the colour sequences
// the CLI's own palette uses.

/**
 * C0 controls, DEL, C1 controls, and the invisible format characters that reorder or hide text:
 * the Arabic letter mark, zero-width and directional marks, line and paragraph separators, the
 * bidi embeddings, overrides and isolates, word joiner and invisible operators, the BOM, and the
 * interlinear annotation characters.
 */
const UNSAFE =
  /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]/g;

function escaped(ch: string): string {
  const code = ch.charCodeAt(0);
  return code < 0x100
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** Untrusted text for a terminal or a report: every unsafe character escaped; newline and tab kept unless `oneLine`. */
export function printable(text: string, o: { oneLine?: boolean } = {}): string {
  return text.replace(UNSAFE, (ch) => (!o.oneLine && (ch === '\n' || ch === '\t') ? ch : escaped(ch)));
}

/**
 * The SGR sequences of the CLI's palette (chalk: reset, bold, dim, underline, their ends, the
 * foreground colours but black, default, grey). Hidden text (8), reverse video (7) and others stay
 * escaped: a colour sequence that arrived from the network must not conceal what follows it.
 */
const OWN_SGR = /\x1b\[(?:0|1|2|4|22|24|3[1-7]|39|9[0-7])m/y;

/** A line for a terminal: the CLI's own colours kept, every other unsafe character escaped. */
export function terminalSafe(line: string): string {
  if (
    !/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]/.test(
      line,
    )
  )
    return line;
  let out = '';
  for (let i = 0; i < line.length; ) {
    if (line[i] === '\x1b') {
      OWN_SGR.lastIndex = i;
      const m = OWN_SGR.exec(line);
      if (m) {
        out += m[0];
        i += m[0].length;
        continue;
      }
    }
    const ch = line[i];
    out += ch === '\n' || ch === '\t' ? ch : ch.replace(UNSAFE, escaped);
    i += 1;
  }
  return out;
}

/** Characters XML 1.0 does not allow at all (§2.2): a JUnit report with one is not XML. */
const NOT_XML =
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Untrusted text for an XML report: printable(), and nothing XML forbids (lone surrogates shown escaped too). */
export function xmlSafe(text: string): string {
  return printable(text).replace(NOT_XML, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
