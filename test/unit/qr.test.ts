// The device flow's QR code: the drawing is faithful to the library's module matrix (two module
// rows per text line, upper and lower half blocks), and is left out where it would not fit.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import QRCode from 'qrcode';
import { qrLines } from '../../src/cli/qr.ts';

const URL_ = 'https://127.0.0.1:43123/device?user_code=WXNL-XWPV';

describe('qrLines', () => {
  test('every character is the two modules it stands for (quiet zone of 2 included)', async () => {
    const lines = await qrLines(URL_, 200);
    assert.ok(lines);
    const { modules } = QRCode.create(URL_, { errorCorrectionLevel: 'L' });
    const margin = 2;
    const size = modules.size + 2 * margin;
    const dark = (r: number, c: number) => {
      const rr = r - margin;
      const cc = c - margin;
      return rr >= 0 && cc >= 0 && rr < modules.size && cc < modules.size && modules.get(rr, cc) === 1;
    };
    assert.equal(lines.length, Math.ceil(size / 2));
    for (let line = 0; line < lines.length; line++) {
      const chars: string[] = [...(lines[line] as string)];
      assert.equal(chars.length, size);
      for (let c = 0; c < size; c++) {
        const top = dark(2 * line, c);
        const bottom = dark(2 * line + 1, c);
        const want = top && bottom ? '█' : top ? '▀' : bottom ? '▄' : ' ';
        assert.equal(chars[c], want, `line ${line} column ${c}`);
      }
    }
  });

  test('left out on a terminal too narrow for it', async () => {
    const lines = await qrLines(URL_, 200);
    const width = [...(lines?.[0] ?? '')].length;
    assert.ok(await qrLines(URL_, width));
    assert.equal(await qrLines(URL_, width - 1), undefined);
  });
});
