import { describe, expect, it } from 'vitest';
import { EMPTY_FORM, engineFromForm, formOf, labelsOf } from './engines-model.ts';

const KEY = 'sec_0123456789abcdef';
const CA = 'sec_aaaaaaaaaaaaaaaa';
const CERT = 'sec_bbbbbbbbbbbbbbbb';
const TLS_KEY = 'sec_cccccccccccccccc';

describe('Settings → Engines form', () => {
  it('makes an ssh:// engine with a vault key, and reads it back for Edit', () => {
    const made = engineFromForm({
      ...EMPTY_FORM,
      id: 'lab',
      name: 'Lab box',
      url: 'ssh://me@10.0.0.5:2222',
      labels: 'gpu, lab  arm',
      keySecret: KEY,
    });
    expect(made).toEqual({
      engine: {
        id: 'lab',
        kind: 'ssh',
        name: 'Lab box',
        url: 'ssh://me@10.0.0.5:2222',
        labels: ['gpu', 'lab', 'arm'],
        auth: { method: 'key', key_secret_id: KEY },
        socket_path: '/var/run/docker.sock',
      },
    });
    if (!('engine' in made) || made.engine.kind !== 'ssh') throw new Error('not an ssh engine');
    expect(
      formOf({
        ...made.engine,
        labels: ['gpu', 'lab', 'arm'],
        auth: { method: 'key', key_secret_id: KEY, passphrase_secret_id: null },
        socket_path: '/run/docker.sock',
      }),
    ).toMatchObject({
      url: 'ssh://me@10.0.0.5:2222',
      keySecret: KEY,
      labels: 'gpu, lab, arm',
      socketPath: '/run/docker.sock',
    });
  });

  it('makes a tcp:// engine with its three TLS secrets; says what is missing or wrong', () => {
    expect(
      engineFromForm({
        ...EMPTY_FORM,
        id: 'tls',
        name: 'TLS',
        url: 'tcp://host:2376',
        caSecret: CA,
        certSecret: CERT,
        tlsKeySecret: TLS_KEY,
      }),
    ).toMatchObject({
      engine: { kind: 'tcp', ca_secret_id: CA, cert_secret_id: CERT, key_secret_id: TLS_KEY },
    });
    expect(engineFromForm({ ...EMPTY_FORM, id: 'tls', name: 'TLS', url: 'tcp://host:2376', caSecret: CA })).toEqual({
      error: "Choose the CA certificate, Drover's client certificate and its key (TLS PEMs from the vault).",
    });
    expect(engineFromForm({ ...EMPTY_FORM, id: 'x', name: 'X', url: 'http://host' })).toMatchObject({
      error: expect.stringMatching(/ssh:\/\/user@host/),
    });
    expect(engineFromForm({ ...EMPTY_FORM, id: 'Bad_Id', name: 'X', url: 'ssh://me@host', keySecret: KEY })).toMatchObject({
      error: expect.stringMatching(/^id: an engine id is/),
    });
    expect(
      engineFromForm({ ...EMPTY_FORM, id: 'x', name: 'X', url: 'ssh://me@host', keySecret: KEY, labels: 'ok bad/label' }),
    ).toMatchObject({
      error: expect.stringMatching(/^labels\.1: a label is/),
    });
  });

  it("edits only the local engine's name and labels", () => {
    expect(engineFromForm({ ...EMPTY_FORM, name: '', labels: 'near' }, true)).toEqual({
      engine: { id: 'local', kind: 'local', name: 'This computer', labels: ['near'] },
    });
    expect(labelsOf(' a,b  c ,')).toEqual(['a', 'b', 'c']);
  });
});
