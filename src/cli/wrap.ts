// Fitting text to a narrow terminal without breaking words: a terminal wraps a long line at the
// last column, mid-word, and a two-column layout (an option and its description, a smoke step and
// its detail) then loses its columns. Lines are wrapped at spaces; a row of two columns keeps its
// second column as a hanging indent where that leaves room, and becomes a list (the term on its
// own line, the text indented under it) where it does not. Output to a pipe or a file is not
// wrapped (grep and logs want whole lines), unless COLUMNS says a width, as GNU tools honour it;
// help is the exception: 80 columns in a pipe (stdio.ts writeHelp).

/** Strips SGR colour sequences (the only escapes this CLI writes) to measure what is visible. */
function visible(s: string): string {
  return s.replace(/\x1b\[[0-9;]*m/g, '');
}

export function displayWidth(s: string): number {
  const v = s.includes('\x1b') ? visible(s) : s;
  // Code points, not UTF-16 units; counted one by one only where there is a surrogate pair (the
  // common case is a plain string, and help fits hundreds of them).
  return /[\uD800-\uDFFF]/.test(v) ? [...v].length : v.length;
}

/** Narrower than this, a second column would be too thin to read: the list layout is used. */
const MIN_COLUMN = 24;
/** Below this, wrapping does more harm than good. */
const MIN_WIDTH = 20;

/** The width to fit output to: the terminal's, else COLUMNS; undefined: do not wrap. */
export function outputWidth(
  stream: { isTTY?: boolean; columns?: number },
  env = process.env,
): number | undefined {
  if (stream.isTTY && stream.columns && stream.columns > 0) return stream.columns;
  const n = Number(env.COLUMNS);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/**
 * Words of `text` in lines of at most `width` visible characters. A longer word gets a line of its
 * own, and is cut only where it is wider than `cutAt` (the whole screen; see indented()).
 */
export function wrapWords(text: string, width: number, cutAt = width): string[] {
  const lines: string[] = [];
  let line = '';
  let lineWidth = 0;
  for (const word of text.split(/ +/).filter((w) => w !== '')) {
    let w = word;
    let wWidth = displayWidth(w);
    if (wWidth > width && wWidth <= cutAt) {
      if (line) lines.push(line);
      lines.push(w);
      line = '';
      lineWidth = 0;
      continue;
    }
    while (wWidth > cutAt) {
      // A word wider than the line (a URL, a thumbprint): cut where it must, at the width.
      if (line) {
        lines.push(line);
        line = '';
        lineWidth = 0;
      }
      const chars = [...w];
      lines.push(chars.slice(0, cutAt).join(''));
      w = chars.slice(cutAt).join('');
      wWidth = displayWidth(w);
    }
    if (!w) continue;
    if (!line) {
      line = w;
      lineWidth = wWidth;
    } else if (lineWidth + 1 + wWidth <= width) {
      line += ` ${w}`;
      lineWidth += 1 + wWidth;
    } else {
      lines.push(line);
      line = w;
      lineWidth = wWidth;
    }
  }
  if (line || lines.length === 0) lines.push(line);
  return lines;
}

/** `lines` behind `indent`; a line too wide for it (one long word) moves left to fit the screen. */
export function indented(lines: string[], indent: number, width: number): string[] {
  return lines.map((l) => ' '.repeat(Math.max(0, Math.min(indent, width - displayWidth(l)))) + l);
}

/**
 * One line fitted to `width`: its indentation kept, a second column (text after a run of two or
 * more spaces) continued under itself when at least MIN_COLUMN wide, else listed under the first.
 */
export function fitLine(line: string, width: number): string[] {
  if (width < MIN_WIDTH || displayWidth(line) <= width) return [line];
  const indent = /^ */.exec(line)![0];
  const body = line.slice(indent.length);
  const column = /^(\S.*?\S|\S) {2,}(?=\S)/.exec(body);
  if (column) {
    const termWidth = indent.length + displayWidth(column[0]);
    const text = body.slice(column[0].length);
    if (width - termWidth >= MIN_COLUMN) {
      const [first, ...rest] = wrapWords(text, width - termWidth, width);
      if (displayWidth(first) <= width - termWidth)
        return [`${indent}${column[0]}${first}`, ...indented(rest, termWidth, width)];
    }
    const sub = indent.length + 4;
    return [
      ...indented(wrapWords(column[1], width - indent.length, width), indent.length, width),
      ...indented(wrapWords(text, Math.max(MIN_WIDTH, width - sub), width), sub, width),
    ];
  }
  return indented(wrapWords(body, width - indent.length, width), indent.length, width);
}

/**
 * Every line of `text` fitted to `width` (undefined: unchanged). Prose at the left margin that
 * does not fit is reflowed as a paragraph (its source lines were broken for a wider screen). Example commands
 * (`$ ...` and their `\\` continuations) are left whole: a terminal's soft wrap keeps them copyable.
 */
export function fitText(text: string, width: number | undefined): string {
  if (!width) return text;
  const out: string[] = [];
  let paragraph: string[] = [];
  const flush = () => {
    const fits = paragraph.every((l) => displayWidth(l) <= width);
    out.push(...(fits ? paragraph : wrapWords(paragraph.join(' '), width)));
    paragraph = [];
  };
  let inCommand = false;
  for (const l of text.split('\n')) {
    const command: boolean = inCommand || /^\s*\$ /.test(l);
    inCommand = command && /\\\s*$/.test(l);
    if (!command && /^\S/.test(l)) {
      paragraph.push(l);
      continue;
    }
    flush();
    out.push(...(command ? [l] : fitLine(l, width)));
  }
  flush();
  return out.join('\n');
}
