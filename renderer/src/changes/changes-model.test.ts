import { createTwoFilesPatch } from 'diff';
import { describe, expect, it } from 'vitest';
import { describeSide, filesChangedLabel, parsePatch, turnRange } from './changes-model.ts';

describe('the changes view model', () => {
  it('takes a turn from just before its first event to the cursor', () => {
    expect(turnRange([3, 10, 20], 12)).toEqual({ fromSeq: 9, toSeq: 12 });
    expect(turnRange([3, 10, 20], 10)).toEqual({ fromSeq: 9, toSeq: 10 });
    expect(turnRange([3, 10, 20], 2)).toEqual({ fromSeq: 0, toSeq: 2 });
    expect(turnRange([], 5)).toEqual({ fromSeq: 0, toSeq: 5 });
  });

  it('counts files in words', () => {
    expect(filesChangedLabel(1)).toBe('1 file changed');
    expect(filesChangedLabel(3)).toBe('3 files changed');
    expect(filesChangedLabel(1200)).toBe('1,200 files changed');
  });

  it('says what a side is', () => {
    expect(describeSide(null)).toBe('absent');
    expect(describeSide({ type: 'file', size: 2048, mode: '644', hash: 'ab', target: null })).toBe('2.0 KiB, mode 644');
    expect(describeSide({ type: 'symlink', size: 0, mode: '777', hash: null, target: 'a.txt' })).toBe('a link to a.txt');
    expect(describeSide({ type: 'unknown', size: 0, mode: '', hash: null, target: null })).toBe('as in the image (not read)');
  });

  it("cuts jsdiff's unified diff into coloured lines with both sides' numbers", () => {
    const patch = createTwoFilesPatch('a/x', 'b/x', 'one\ntwo\nthree\nfour\n', 'one\nTWO\nthree\nfour\nfive', 'event 1', 'event 2');
    const lines = parsePatch(patch);
    expect(lines.filter((line) => line.kind === 'meta').map((line) => line.text)).toEqual([
      '===================================================================',
      '--- a/x\tevent 1',
      '+++ b/x\tevent 2',
    ]);
    expect(lines.filter((line) => line.kind !== 'meta').map((line) => [line.kind, line.text, line.oldNo, line.newNo])).toEqual([
      ['hunk', '@@ -1,4 +1,5 @@', null, null],
      ['ctx', ' one', 1, 1],
      ['del', '-two', 2, null],
      ['add', '+TWO', null, 2],
      ['ctx', ' three', 3, 3],
      ['ctx', ' four', 4, 4],
      ['add', '+five', null, 5],
      ['note', '\\ No newline at end of file', null, null],
    ]);
  });
});
