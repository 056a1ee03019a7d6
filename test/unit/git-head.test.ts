/**
 * Reading the workspace's HEAD commit from a real git repository (src/core/source/git-head.ts),
 * which the per-commit baselines key on.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { readHeadCommit, shortSha } from '../../src/core/source/git-head.js';

describe('HEAD of a git working tree', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'stagelight-head-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const git = (...args: string[]): string =>
    execFileSync('git', args, {
      cwd: dir,
      encoding: 'utf8',
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 't',
        GIT_AUTHOR_EMAIL: 't@example.com',
        GIT_COMMITTER_NAME: 't',
        GIT_COMMITTER_EMAIL: 't@example.com',
        GIT_CONFIG_NOSYSTEM: '1',
        HOME: dir,
      },
    }).trim();

  it('follows commits, branches, packed refs, detached HEAD and linked worktrees', () => {
    assert.equal(readHeadCommit(dir), undefined); // not a repository yet
    git('init', '-q', '-b', 'main');
    assert.equal(readHeadCommit(dir), undefined); // unborn branch
    writeFileSync(path.join(dir, 'a.txt'), '1');
    git('add', 'a.txt');
    git('commit', '-q', '-m', 'one');
    const one = git('rev-parse', 'HEAD');
    assert.equal(readHeadCommit(dir), one);
    writeFileSync(path.join(dir, 'a.txt'), '2');
    git('commit', '-q', '-am', 'two');
    const two = git('rev-parse', 'HEAD');
    assert.equal(readHeadCommit(dir), two);
    git('pack-refs', '--all'); // the loose ref file is gone; packed-refs has it
    assert.equal(readHeadCommit(dir), two);
    git('checkout', '-q', one); // detached
    assert.equal(readHeadCommit(dir), one);
    git('checkout', '-q', 'main');
    git('worktree', 'add', '-q', path.join(dir, 'wt'), '-b', 'side', one);
    assert.equal(readHeadCommit(path.join(dir, 'wt')), one);
    assert.equal(shortSha(two), two.slice(0, 7));
  });
});
