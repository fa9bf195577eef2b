import { describe, expect, it } from 'vitest';
import { ago, count, fitTable } from '../../pipeline/commands/io.ts';
import { impossibleDay } from '../../pipeline/dates.ts';
import { clause } from '../../pipeline/clause.ts';

describe('words the CLI prints', () => {
  it('counts with the right noun', () => {
    expect(count(1, 'episode')).toBe('1 episode');
    expect(count(0, 'episode')).toBe('0 episodes');
    expect(count(2, 'entry', 'entries')).toBe('2 entries');
  });

  it('calls an impossible date impossible, and lets real ones through', () => {
    expect(impossibleDay('2021-13-45')).toBe('2021-13-45 is an impossible date: there is no month 13.');
    expect(impossibleDay('2021-02-29')).toBe('2021-02-29 is an impossible date: February 2021 has 28 days.');
    expect(impossibleDay('2021-04-31T10:00:00Z')).toMatch(/April 2021 has 30 days/);
    expect(impossibleDay('2024-02-29')).toBeNull();
    expect(impossibleDay('2021-12-31')).toBeNull();
    expect(impossibleDay('yesterday')).toBeNull();
  });

  it('puts a borrowed message inside a sentence without a double period', () => {
    expect(`It failed: ${clause('the server is down.')}.`).toBe('It failed: the server is down.');
    expect(clause('no period ')).toBe('no period');
  });

  it('fits a table to the width by cutting the flexible columns, widest first', () => {
    const rows = [
      ['ID', 'TITLE', 'PROBLEM'],
      [
        '1',
        'A very long podcast title that goes on and on',
        'The server had a problem (HTTP 500); Earshot will try again later.',
      ],
      ['22', 'Short', ''],
    ];
    const out = fitTable(rows, 60, [1, 2]).split('\n');
    for (const line of out) expect(line.length).toBeLessThanOrEqual(60);
    expect(out[1]).toMatch(/^1 {3}A very long .*… {2}The server .*…$/);
    expect(out[2]).toMatch(/^22 {2}Short$/);
    // Wide enough: nothing is cut.
    expect(fitTable(rows, 200, [1, 2])).not.toContain('…');
  });

  it('says how long ago in a few characters', () => {
    const now = 1_000_000_000_000;
    expect(ago(null, now)).toBe('never');
    expect(ago(now - 20_000, now)).toBe('just now');
    expect(ago(now - 12 * 60_000, now)).toBe('12 min ago');
    expect(ago(now - 3 * 3_600_000, now)).toBe('3 h ago');
    expect(ago(now - 5 * 86_400_000, now)).toBe('5 d ago');
  });
});
