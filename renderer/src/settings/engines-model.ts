/**
 * Settings → Engines' form, as data: what the user typed → an engine configuration (or what is
 * wrong, in words), and an engine back into the form (Edit). Vault secrets are chosen by id:
 * no secret value is ever part of the form.
 */
import { EngineConfigSchema, parseEngineUrl, type EngineConfig, type EngineConfigInput } from '#shared/engines';
import type { SecretMeta } from '#shared/vault';

export interface EngineForm {
  id: string;
  name: string;
  url: string;
  /** Comma- or space-separated. */
  labels: string;
  /** ssh:// engines: the private key's secret id, and the engine's socket on that machine. */
  keySecret: string;
  socketPath: string;
  /** tcp:// engines: the CA, client certificate and client key secret ids. */
  caSecret: string;
  certSecret: string;
  tlsKeySecret: string;
}

export const EMPTY_FORM: EngineForm = {
  id: '',
  name: '',
  url: '',
  labels: '',
  keySecret: '',
  socketPath: '/var/run/docker.sock',
  caSecret: '',
  certSecret: '',
  tlsKeySecret: '',
};

export function labelsOf(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((label) => label.trim())
    .filter((label) => label !== '');
}

/** The engine the form describes, or what is wrong with it. `local`: only its labels change. */
export function engineFromForm(form: EngineForm, local = false): { engine: EngineConfigInput } | { error: string } {
  const labels = labelsOf(form.labels);
  let input: EngineConfigInput;
  if (local) input = { id: 'local', kind: 'local', name: form.name.trim() || 'This computer', labels };
  else {
    const target = parseEngineUrl(form.url.trim());
    if (target === null) return { error: 'Give the engine a URL like ssh://user@host (or ssh://user@host:2222) or tcp://host:2376.' };
    if (target.kind === 'ssh') {
      if (form.keySecret === '') return { error: 'Choose the SSH private key (from the vault) Drover logs in with.' };
      input = {
        id: form.id.trim(),
        kind: 'ssh',
        name: form.name,
        url: form.url.trim(),
        labels,
        auth: { method: 'key', key_secret_id: form.keySecret },
        socket_path: form.socketPath.trim() || '/var/run/docker.sock',
      };
    } else {
      if (form.caSecret === '' || form.certSecret === '' || form.tlsKeySecret === '')
        return { error: "Choose the CA certificate, Drover's client certificate and its key (TLS PEMs from the vault)." };
      input = {
        id: form.id.trim(),
        kind: 'tcp',
        name: form.name,
        url: form.url.trim(),
        labels,
        ca_secret_id: form.caSecret,
        cert_secret_id: form.certSecret,
        key_secret_id: form.tlsKeySecret,
      };
    }
  }
  const parsed = EngineConfigSchema.safeParse(input);
  if (!parsed.success)
    return { error: parsed.error.issues.map((issue) => `${issue.path.join('.') || 'engine'}: ${issue.message}`).join('; ') };
  return { engine: input };
}

export function formOf(engine: EngineConfig): EngineForm {
  const form: EngineForm = { ...EMPTY_FORM, id: engine.id, name: engine.name, labels: engine.labels.join(', ') };
  if (engine.kind === 'ssh') {
    return {
      ...form,
      url: engine.url,
      keySecret: engine.auth.method === 'key' ? engine.auth.key_secret_id : '',
      socketPath: engine.socket_path,
    };
  }
  if (engine.kind === 'tcp') {
    return {
      ...form,
      url: engine.url,
      caSecret: engine.ca_secret_id,
      certSecret: engine.cert_secret_id,
      tlsKeySecret: engine.key_secret_id,
    };
  }
  return form;
}

/** Where an engine is, in a few words. */
export function whereOf(engine: EngineConfig): string {
  return engine.kind === 'local' ? "this computer's Docker" : engine.url;
}

/** The vault secrets offered for a field: SSH keys, or TLS PEMs. */
export function secretChoices(secrets: readonly SecretMeta[] | null, kind: 'ssh-private-key' | 'tls-pem'): SecretMeta[] {
  return (secrets ?? []).filter((secret) => secret.kind === kind);
}
