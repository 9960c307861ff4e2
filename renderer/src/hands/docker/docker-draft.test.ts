// The Docker hand draft as the hands panel and the launch dialog type it: its configuration, its
// repository's default path, its problems and its token choices.
import { describe, expect, it } from 'vitest';
import {
  EMPTY_DOCKER_DRAFT,
  defaultRepoPath,
  dockerConfigOf,
  dockerDraftProblems,
  fieldsFixedBy,
  gitTokenChoices,
  type DockerHandDraft,
  PICK_BY_REQUIREMENTS,
  parseRequirements,
} from './docker-draft.ts';

const TOKEN_ID = 'sec_0123456789abcdef';
const NO_REPO = { repoUrl: '', repoTokenId: '', repoPath: '', repoBranch: '' };

function docker(patch: Partial<DockerHandDraft> = {}): DockerHandDraft {
  return { ...EMPTY_DOCKER_DRAFT, image: 'debian:bookworm', ...patch };
}

describe('dockerConfigOf', () => {
  it('trims, and adds a mount only when a folder is given', () => {
    expect(
      dockerConfigOf({ ...NO_REPO, image: ' debian:bookworm ', network: 'none', hostPath: ' ', containerPath: '', readOnly: true }),
    ).toEqual({
      kind: 'docker',
      image: 'debian:bookworm',
      network: 'none',
    });
    expect(
      dockerConfigOf({
        ...NO_REPO,
        image: 'node:22',
        network: 'bridge',
        hostPath: '/home/me/app',
        containerPath: '/workspace/app',
        readOnly: false,
      }),
    ).toEqual({
      kind: 'docker',
      image: 'node:22',
      network: 'bridge',
      mounts: [{ host_path: '/home/me/app', container_path: '/workspace/app', read_only: false }],
    });
  });

  it('adds no repository without a URL, even with its other fields filled', () => {
    expect(dockerConfigOf(docker({ repoUrl: '  ', repoTokenId: TOKEN_ID, repoPath: '/src', repoBranch: 'main' }))).toEqual({
      kind: 'docker',
      image: 'debian:bookworm',
      network: 'bridge',
    });
  });

  it('adds the repository with its token, path and branch, trimmed', () => {
    expect(
      dockerConfigOf(
        docker({
          repoUrl: ' https://github.com/team/api.git ',
          repoTokenId: TOKEN_ID,
          repoPath: ' /src/api ',
          repoBranch: ' release/2.x ',
        }),
      ),
    ).toEqual({
      kind: 'docker',
      image: 'debian:bookworm',
      network: 'bridge',
      repos: [{ url: 'https://github.com/team/api.git', token_secret_id: TOKEN_ID, path: '/src/api', branch: 'release/2.x' }],
    });
  });

  it('gives a public repository no token, the default path and the default branch', () => {
    expect(dockerConfigOf(docker({ repoUrl: 'https://gitlab.example.com/group/sub/tool' })).repos).toEqual([
      { url: 'https://gitlab.example.com/group/sub/tool', token_secret_id: null, path: '/workspace/tool', branch: null },
    ]);
  });
});

describe('defaultRepoPath', () => {
  it('is /workspace/<name>, the name from the URL without .git', () => {
    expect(defaultRepoPath('https://github.com/team/repo.git')).toBe('/workspace/repo');
    expect(defaultRepoPath('https://github.com/team/api.git')).toBe('/workspace/api');
    expect(defaultRepoPath('https://github.com/team/My.Tools')).toBe('/workspace/My.Tools');
    expect(defaultRepoPath('http://git.local:8080/x/y/z/deep-name.GIT')).toBe('/workspace/deep-name');
  });

  it('ignores trailing slashes, a query and a fragment', () => {
    expect(defaultRepoPath('https://github.com/team/api.git/')).toBe('/workspace/api');
    expect(defaultRepoPath('https://github.com/team/api///')).toBe('/workspace/api');
    expect(defaultRepoPath('https://github.com/team/api.git?ref=main#readme')).toBe('/workspace/api');
  });

  it('makes odd names safe, and falls back to /workspace/repo', () => {
    expect(defaultRepoPath('https://example.com/team/my%20repo.git')).toBe('/workspace/my-repo');
    expect(defaultRepoPath('https://example.com/team/%E2%9C%93')).toBe('/workspace/repo');
    expect(defaultRepoPath('https://example.com/a/..%2F..%2Fetc')).toBe('/workspace/etc');
    expect(defaultRepoPath('https://example.com/team/..')).toBe('/workspace/repo'); // the URL resolves it to /
    expect(defaultRepoPath('https://example.com/team/.git')).toBe('/workspace/repo');
    expect(defaultRepoPath('https://example.com/%')).toBe('/workspace/repo');
    expect(defaultRepoPath('https://github.com')).toBe('/workspace/repo');
    expect(defaultRepoPath('https://github.com/')).toBe('/workspace/repo');
    expect(defaultRepoPath('')).toBe('/workspace/repo');
    expect(defaultRepoPath('   ')).toBe('/workspace/repo');
    expect(defaultRepoPath('not a url')).toBe('/workspace/not-a-url');
    expect(defaultRepoPath('git@github.com:team/api.git')).toBe('/workspace/api');
    expect(defaultRepoPath(`https://example.com/${'x'.repeat(300)}`)).toBe(`/workspace/${'x'.repeat(100)}`);
  });

  it('is always a path the schema takes', () => {
    for (const url of ['https://github.com/team/api.git/', 'https://example.com/a/..%2F..', 'https://example.com/%2e%2e', 'x:/..', '..']) {
      const path = defaultRepoPath(url);
      expect(path).toMatch(/^\/workspace\/[A-Za-z0-9_][A-Za-z0-9._-]*$/);
      expect(path.split('/')).not.toContain('..');
    }
  });
});

describe('dockerDraftProblems', () => {
  it('finds nothing wrong with a plain hand, or one with a public or private repository', () => {
    expect(dockerDraftProblems(docker())).toEqual({});
    expect(dockerDraftProblems(docker({ repoUrl: 'https://github.com/team/repo.git' }))).toEqual({});
    expect(dockerDraftProblems(docker({ repoUrl: 'http://git.local/repo', repoTokenId: TOKEN_ID, repoBranch: 'main' }))).toEqual({});
    // A public repository with the network off is the main process's to judge.
    expect(dockerDraftProblems(docker({ repoUrl: 'https://github.com/team/repo.git', network: 'none' }))).toEqual({});
  });

  it('names a URL that is not http(s)', () => {
    for (const repoUrl of [
      'github.com/team/repo',
      'git@github.com:team/repo.git',
      'ssh://git@github.com/team/repo.git',
      'file:///home/me/repo',
      'not a url',
    ]) {
      expect(dockerDraftProblems(docker({ repoUrl })).repoUrl).toBe(
        "Use the repository's https:// address, e.g. https://github.com/team/repo.git.",
      );
    }
  });

  it('refuses credentials in the URL and says where the token goes', () => {
    for (const repoUrl of [
      'https://me:ghp_abc@github.com/team/repo.git',
      'https://ghp_abc@github.com/team/repo.git',
      'https://:x@github.com/r',
    ]) {
      expect(dockerDraftProblems(docker({ repoUrl })).repoUrl).toBe(
        'Take the user name and token out of the URL: put the token in Settings → Credentials, not in the URL.',
      );
    }
  });

  it('says a repository with a token needs network on', () => {
    expect(dockerDraftProblems(docker({ repoUrl: 'https://github.com/team/repo.git', repoTokenId: TOKEN_ID, network: 'none' }))).toEqual({
      network: 'A repository needs network on to use its token: turn it on, or choose no token.',
    });
  });

  it("asks for the URL when only the repository's other fields are given", () => {
    for (const patch of [{ repoTokenId: TOKEN_ID }, { repoPath: '/src' }, { repoBranch: 'main' }]) {
      expect(dockerDraftProblems(docker(patch)).repoUrl).toMatch(/^Give the repository's URL/);
    }
  });

  it('names the missing image and a half-given folder', () => {
    expect(dockerDraftProblems(docker({ image: ' ', hostPath: '/home/me' }))).toEqual({
      image: 'Choose an image, e.g. debian:bookworm.',
      containerPath: 'Say where the folder appears in the container, e.g. /workspace/project.',
    });
  });

  it('knows which problems a change may have fixed', () => {
    const before = docker({ repoUrl: 'https://github.com/team/repo.git', repoTokenId: TOKEN_ID, network: 'none' });
    expect(fieldsFixedBy(before, { ...before, repoTokenId: '' })).toEqual(['network', 'repoTokenId']);
    expect(fieldsFixedBy(before, { ...before, network: 'bridge' })).toEqual(['network', 'repoTokenId']);
    expect(fieldsFixedBy(before, { ...before, repoBranch: 'dev' })).toEqual(['repoBranch']);
    expect(fieldsFixedBy(docker({ repoBranch: 'dev' }), docker())).toEqual(['repoUrl', 'repoBranch']);
    expect(fieldsFixedBy(docker({ hostPath: '/a' }), docker())).toEqual(['hostPath', 'containerPath']);
    expect(fieldsFixedBy(before, before)).toEqual([]);
  });
});

describe('git token choices', () => {
  const meta = { createdAt: '2025-01-01T00:00:00Z', updatedAt: '2025-01-01T00:00:00Z', lastUsedAt: null, lastUsedFor: null };
  it('lists git tokens and plain tokens by name, nothing else', () => {
    const secrets = [
      { ...meta, id: 'sec_aaaaaaaaaaaaaaaa', name: 'work', kind: 'git-token' as const },
      { ...meta, id: 'sec_bbbbbbbbbbbbbbbb', name: 'api key', kind: 'anthropic-api-key' as const },
      { ...meta, id: 'sec_cccccccccccccccc', name: 'CI', kind: 'token' as const },
      { ...meta, id: 'sec_dddddddddddddddd', name: 'deploy key', kind: 'ssh-private-key' as const },
    ];
    expect(gitTokenChoices(secrets).map((secret) => secret.name)).toEqual(['CI', 'work']);
    expect(gitTokenChoices(null)).toEqual([]);
    expect(gitTokenChoices(undefined)).toEqual([]);
  });
});

describe('engines and requirements (issue 22)', () => {
  it('names an engine, or states requirements parsed from words; this computer adds neither', () => {
    expect(dockerConfigOf(docker({ engine: '' }))).not.toHaveProperty('engine');
    expect(dockerConfigOf(docker({ engine: 'lab' }))).toMatchObject({ engine: 'lab' });
    expect(
      dockerConfigOf(docker({ engine: PICK_BY_REQUIREMENTS, requirements: 'arch=arm64, cpus=4 memory=8g gpu label=lab label=eu' })),
    ).toMatchObject({
      requirements: { arch: 'arm64', min_cpus: 4, min_memory_mb: 8192, gpu: true, labels: ['lab', 'eu'] },
    });
    expect(parseRequirements('memory=512m')).toEqual({ requirements: { min_memory_mb: 512 } });
  });

  it('says which word it does not know, or that nothing was asked', () => {
    expect(dockerDraftProblems(docker({ engine: PICK_BY_REQUIREMENTS, requirements: 'arch=sparc' }))).toEqual({
      requirements: '"arch=sparc" is not a requirement Drover knows: use arch=amd64|arm64, cpus=N, memory=8g (or 512m), gpu, label=NAME.',
    });
    expect(dockerDraftProblems(docker({ engine: PICK_BY_REQUIREMENTS, requirements: ' ' }))).toEqual({
      requirements: 'Say what the engine must have, e.g. arch=arm64 cpus=4 memory=8g gpu label=lab.',
    });
    expect(dockerDraftProblems(docker({ engine: 'lab', requirements: 'nonsense' }))).toEqual({});
  });
});
