import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { commitFile, writeArtifact, writeJsonArtifact } from '../../pipeline/base/artifacts.ts';
import { tempDir } from '../helpers/env.ts';

describe('the one artifact writer', () => {
  it('writes whole files into folders it makes, replaces them whole, and leaves no temporary file', () => {
    const dir = tempDir();
    const file = path.join(dir, 'understand', 'ep.summary.json');
    writeJsonArtifact(file, { abstract: 'first' });
    writeJsonArtifact(file, { abstract: 'second' });
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({ abstract: 'second' });
    expect(fs.readdirSync(path.dirname(file))).toEqual(['ep.summary.json']);
  });

  it('a write that fails leaves the file as it was, and no temporary file', () => {
    const dir = tempDir();
    const file = path.join(dir, 'ep.txt');
    writeArtifact(file, 'kept');
    // A directory where the temporary file would go cannot be written: the write fails.
    expect(() => writeArtifact(path.join(dir, 'ep.txt', 'inside'), 'x')).toThrow();
    expect(fs.readFileSync(file, 'utf8')).toBe('kept');
    expect(fs.readdirSync(dir)).toEqual(['ep.txt']);
  });

  it('moves a finished file into place', () => {
    const dir = tempDir();
    const part = path.join(dir, 'ep.mp3.part');
    fs.writeFileSync(part, 'audio');
    commitFile(part, path.join(dir, 'ep.mp3'));
    expect(fs.readdirSync(dir)).toEqual(['ep.mp3']);
  });
});
