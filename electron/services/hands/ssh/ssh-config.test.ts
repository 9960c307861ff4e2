// ~/.ssh/config as "Attach a machine" reads it: the parser on texts, and the key import's
// refusals on real files in a temporary home folder.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '#shared/errors';
import { tempDir } from '#test/support/system';
import { looksLikePrivateKey, matchesHost, parseSshConfig, readIdentityKey, readSshConfigHosts } from './ssh-config.ts';

const HOME = '/home/ada';

function hostsOf(text: string) {
  return parseSshConfig(text, HOME).hosts;
}

describe('parseSshConfig', () => {
  it('lists each alias of a Host line with its values', () => {
    const hosts = hostsOf(
      ['Host build builder', '  HostName build.example.com', '  Port 2222', '  User ada', '  IdentityFile ~/.ssh/id_ed25519'].join('\n'),
    );
    expect(hosts.map((host) => host.alias)).toEqual(['build', 'builder']);
    expect(hosts[0]).toEqual({
      alias: 'build',
      hostName: 'build.example.com',
      port: 2222,
      user: 'ada',
      identityFiles: ['/home/ada/.ssh/id_ed25519'],
      proxyJump: null,
    });
    expect(hosts[1]?.hostName).toBe('build.example.com');
  });

  it('skips patterns with wildcards or negation, but applies their values to the aliases they match', () => {
    const hosts = hostsOf(
      ['Host *.lan !printer.lan', '  User pi', 'Host nas.lan printer.lan', '  Port 2200', 'Host *', '  User root'].join('\n'),
    );
    expect(hosts.map((host) => host.alias)).toEqual(['nas.lan', 'printer.lan']);
    expect(hosts[0]?.user).toBe('pi');
    expect(hosts[1]?.user).toBe('root');
  });

  it('keeps the first value of a keyword, as OpenSSH does, and accumulates IdentityFile', () => {
    const hosts = hostsOf(
      [
        'Host box',
        '  User first',
        '  User second',
        '  IdentityFile ~/.ssh/a',
        'Host *',
        '  User third',
        '  Port 22',
        '  IdentityFile ~/.ssh/b',
      ].join('\n'),
    );
    expect(hosts[0]?.user).toBe('first');
    expect(hosts[0]?.port).toBe(22);
    expect(hosts[0]?.identityFiles).toEqual(['/home/ada/.ssh/a', '/home/ada/.ssh/b']);
  });

  it('applies lines before the first Host to every host', () => {
    const hosts = hostsOf(['User everyone', 'Host box', '  User ignored'].join('\n'));
    expect(hosts[0]?.user).toBe('everyone');
  });

  it('skips Match blocks and says so', () => {
    const parsed = parseSshConfig(
      ['Host box', '  HostName box.example.com', 'Match host box', '  User matched', '  Port 9', 'Host other', '  User o'].join('\n'),
      HOME,
    );
    expect(parsed.hosts[0]).toMatchObject({ alias: 'box', user: null, port: null });
    expect(parsed.hosts[1]?.user).toBe('o');
    expect(parsed.notes.join(' ')).toMatch(/Match blocks are skipped/);
  });

  it('does not follow Include and says so', () => {
    const parsed = parseSshConfig(['Include ~/.ssh/config.d/*', 'Host box'].join('\n'), HOME);
    expect(parsed.hosts.map((host) => host.alias)).toEqual(['box']);
    expect(parsed.notes.join(' ')).toMatch(/Include lines are not followed/);
  });

  it('reads Key=Value, Key = Value, any case, quotes and comments', () => {
    const hosts = hostsOf(
      [
        '# my machines',
        'host=box',
        '  hostname = box.example.com # the NAS',
        '\tPORT=2022',
        '  user\tada',
        '  IdentityFile "~/.ssh/my key"',
        '',
        '  # IdentityFile ~/.ssh/old',
      ].join('\n'),
    );
    expect(hosts).toEqual([
      { alias: 'box', hostName: 'box.example.com', port: 2022, user: 'ada', identityFiles: ['/home/ada/.ssh/my key'], proxyJump: null },
    ]);
  });

  it('expands ~, %d and %h, and takes a relative IdentityFile from the home folder', () => {
    const hosts = hostsOf(
      [
        'Host box',
        '  HostName %h.example.com',
        '  IdentityFile %d/.ssh/%h_key',
        '  IdentityFile keys/id',
        '  IdentityFile /etc/ssh/id',
        '  IdentityFile none',
      ].join('\n'),
    );
    expect(hosts[0]?.hostName).toBe('box.example.com');
    expect(hosts[0]?.identityFiles).toEqual(['/home/ada/.ssh/box_key', '/home/ada/keys/id', '/etc/ssh/id']);
  });

  it('parses Port and leaves out a bad one with a note', () => {
    const parsed = parseSshConfig(['Host a', '  Port 70000', 'Host b', '  Port ssh', 'Host c', '  Port 1'].join('\n'), HOME);
    expect(parsed.hosts.map((host) => host.port)).toEqual([null, null, 1]);
    expect(parsed.notes).toHaveLength(2);
    expect(parsed.notes[0]).toMatch(/Host a.*70000/);
  });

  it('reads the first hop of ProxyJump, resolving it through the config', () => {
    const hosts = hostsOf(
      [
        'Host inner',
        '  ProxyJump bastion,second',
        'Host direct',
        '  ProxyJump ops@gate.example.com:2200',
        'Host uri',
        '  ProxyJump ssh://me@[2001:db8::1]:22',
        'Host nojump',
        '  ProxyJump none',
        'Host bastion',
        '  HostName bastion.example.com',
        '  User jumper',
        '  Port 2222',
      ].join('\n'),
    );
    const jump = (alias: string) => hosts.find((host) => host.alias === alias)?.proxyJump;
    expect(jump('inner')).toEqual({ host: 'bastion.example.com', port: 2222, user: 'jumper' });
    expect(jump('direct')).toEqual({ host: 'gate.example.com', port: 2200, user: 'ops' });
    expect(jump('uri')).toEqual({ host: '2001:db8::1', port: 22, user: 'me' });
    expect(jump('nojump')).toBeNull();
  });

  it('lists an alias once however many Host lines name it', () => {
    expect(hostsOf(['Host a', 'Host a b'].join('\n')).map((host) => host.alias)).toEqual(['a', 'b']);
  });
});

describe('matchesHost', () => {
  it('matches * and ? case-insensitively, and a negation vetoes', () => {
    expect(matchesHost(['*.example.com'], 'Build.Example.com')).toBe(true);
    expect(matchesHost(['box?'], 'box1')).toBe(true);
    expect(matchesHost(['box?'], 'box12')).toBe(false);
    expect(matchesHost(['*', '!secret'], 'secret')).toBe(false);
    expect(matchesHost(['!secret'], 'other')).toBe(false);
  });
});

describe('looksLikePrivateKey', () => {
  it('accepts OpenSSH and PEM private keys and refuses public keys', () => {
    expect(looksLikePrivateKey('-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\n-----END OPENSSH PRIVATE KEY-----\n')).toBe(true);
    expect(looksLikePrivateKey('-----BEGIN RSA PRIVATE KEY-----\r\nMIIE\r\n')).toBe(true);
    expect(looksLikePrivateKey('-----BEGIN ENCRYPTED PRIVATE KEY-----\n')).toBe(true);
    expect(looksLikePrivateKey('-----BEGIN PRIVATE KEY-----\n')).toBe(true);
    expect(looksLikePrivateKey('ssh-ed25519 AAAAC3Nz ada@laptop\n')).toBe(false);
    expect(looksLikePrivateKey('-----BEGIN PUBLIC KEY-----\n')).toBe(false);
  });
});

describe('reading ~/.ssh/config from a home folder', () => {
  let home: string;
  const KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n';

  beforeEach(() => {
    home = tempDir('drover-ssh-home-');
    mkdirSync(path.join(home, '.ssh'), { mode: 0o700 });
  });
  afterEach(() => rmSync(home, { recursive: true, force: true }));

  function config(text: string): void {
    writeFileSync(path.join(home, '.ssh', 'config'), text);
  }

  async function refusal(alias: string): Promise<AppError> {
    const error: unknown = await readIdentityKey(alias, home).then(
      () => null,
      (reason: unknown) => reason,
    );
    if (!(error instanceof AppError)) throw new Error(`expected an AppError, got ${String(error)}`);
    return error;
  }

  it('finds no hosts when there is no config', async () => {
    rmSync(path.join(home, '.ssh'), { recursive: true });
    expect(await readSshConfigHosts(home)).toEqual({ hosts: [], notes: [] });
  });

  it('shows identity files by file name only', async () => {
    config('Host box\n  IdentityFile ~/.ssh/id_box\n');
    const listing = await readSshConfigHosts(home);
    expect(listing.hosts[0]?.identityFiles).toEqual(['id_box']);
    expect(JSON.stringify(listing)).not.toContain(home);
  });

  it('reads the first IdentityFile of an alias', async () => {
    config('Host box\n  IdentityFile ~/.ssh/id_box\n  IdentityFile ~/.ssh/other\n');
    writeFileSync(path.join(home, '.ssh', 'id_box'), KEY, { mode: 0o600 });
    expect(await readIdentityKey('box', home)).toEqual({ fileName: 'id_box', text: KEY });
  });

  it('refuses an alias that is not in the config', async () => {
    config('Host box\n  IdentityFile ~/.ssh/id_box\n');
    const error = await refusal('elsewhere');
    expect(error.code).toBe('not-found');
    expect(error.message).toMatch(/no "Host elsewhere"/);
  });

  it('refuses a host with no IdentityFile', async () => {
    config('Host box\n  User ada\n');
    expect((await refusal('box')).message).toMatch(/names no IdentityFile/);
  });

  it('refuses a missing file, naming it as the user knows it', async () => {
    config('Host box\n  IdentityFile ~/.ssh/gone\n');
    const error = await refusal('box');
    expect(error.code).toBe('not-found');
    expect(error.message).toContain('~/.ssh/gone');
    expect(error.message).not.toContain(home);
  });

  it('refuses a file over 64 KiB', async () => {
    config('Host box\n  IdentityFile ~/.ssh/big\n');
    writeFileSync(path.join(home, '.ssh', 'big'), `${KEY}${'x'.repeat(70_000)}`);
    expect((await refusal('box')).message).toMatch(/is 69 KiB: a private key is a few KiB/);
  });

  it('refuses a file that is not a private key, and names a public key as such', async () => {
    config('Host box\n  IdentityFile ~/.ssh/notes.txt\nHost pub\n  IdentityFile ~/.ssh/id.pub\n');
    writeFileSync(path.join(home, '.ssh', 'notes.txt'), 'hello\n');
    writeFileSync(path.join(home, '.ssh', 'id.pub'), 'ssh-ed25519 AAAAC3Nz ada@laptop\n');
    expect((await refusal('box')).message).toMatch(/does not look like a private key/);
    expect((await refusal('pub')).message).toMatch(/is a public key/);
  });

  it('refuses a folder', async () => {
    config('Host box\n  IdentityFile ~/.ssh\n');
    expect((await refusal('box')).message).toMatch(/is not a file/);
  });
});
