// A QR code of a URL drawn with Unicode half blocks, for a phone to scan off the terminal (the
// device flow's verification_uri_complete). Drawn by the `qrcode` library; two rows per line.

/** The QR code's lines, or undefined when it is wider than `columns`. */
export async function qrLines(text: string, columns: number): Promise<string[] | undefined> {
  const qrcode = await import('qrcode');
  // Low error correction keeps it small; the quiet zone (2 modules) helps cameras find it.
  const drawn = await qrcode.toString(text, { type: 'utf8', errorCorrectionLevel: 'L', margin: 2 });
  const lines = drawn.replace(/\n+$/, '').split('\n');
  const width = Math.max(...lines.map((l) => [...l].length));
  return width <= columns ? lines : undefined;
}
