/**
 * The fields of a Docker hand's configuration — image, network, at most one folder from this
 * computer, at most one git repository — shared by the hands panel's "Add a Docker hand" form and
 * the launch dialog. Holds no draft: the parent owns it (`DockerHandDraft`) and turns it into the
 * RPC's configuration with `dockerConfigOf` (launch-form.ts). The hand's name is the parent's: it
 * comes in `leading`. The repository's token is chosen among the vault's secrets by id; their
 * values never reach the renderer.
 */
import { useId, useState, type ReactNode, type Ref } from 'react';
import type { SecretMeta } from '#shared/vault';
import { FieldError, invalidProps } from '#renderer/ui/fields.tsx';
import type { EngineConfig } from '#shared/engines';
import { defaultRepoPath, gitTokenChoices, PICK_BY_REQUIREMENTS, type DockerFieldProblems, type DockerHandDraft } from './docker-draft.ts';
import './docker.css';

/** A problem per field, shown under it. */
export type DockerHandFieldErrors = DockerFieldProblems;

export interface DockerHandFieldsProps {
  value: DockerHandDraft;
  onChange: (next: DockerHandDraft) => void;
  /** Shown first on the row of fields: the hand's name field, labelled as its form needs. */
  leading?: ReactNode;
  errors?: DockerHandFieldErrors;
  imageRef?: Ref<HTMLInputElement>;
  /**
   * The vault's secrets (metadata only) to choose a repository's token from. `undefined`: not
   * known yet; `null`: the vault could not be read, so only public repositories can be chosen.
   */
  credentials?: readonly SecretMeta[] | null;
  /** Settings → Engines: with more than this computer's, the hand can name one or state requirements. */
  engines?: readonly EngineConfig[] | null;
}

export function DockerHandFields({ value, onChange, leading, errors = {}, imageRef, credentials, engines }: DockerHandFieldsProps) {
  const id = useId();

  function set<K extends keyof DockerHandDraft>(key: K, next: DockerHandDraft[K]): void {
    onChange({ ...value, [key]: next });
  }

  return (
    <>
      <div className="attach-hand-fields">
        {leading}
        <div className="field field-wide">
          <label className="field-label" htmlFor={`${id}-image`}>
            Image
          </label>
          <input
            id={`${id}-image`}
            ref={imageRef}
            className="input"
            value={value.image}
            onChange={(event) => set('image', event.target.value)}
            placeholder="debian:bookworm"
            spellCheck={false}
            {...invalidProps(errors.image, `${id}-image-error`)}
          />
          <FieldError id={`${id}-image-error`} message={errors.image} />
        </div>
        <div className="field">
          <label className="field-label" htmlFor={`${id}-network`}>
            Network
          </label>
          <select
            id={`${id}-network`}
            className="input"
            value={value.network}
            onChange={(event) => set('network', event.target.value === 'none' ? 'none' : 'bridge')}
            {...invalidProps(errors.network, `${id}-network-error`)}
          >
            <option value="bridge">Network on</option>
            <option value="none">No network</option>
          </select>
          <FieldError id={`${id}-network-error`} message={errors.network} />
        </div>
      </div>
      {engines && engines.length > 1 && (
        <div className="attach-hand-fields">
          <div className="field">
            <label className="field-label" htmlFor={`${id}-engine`}>
              Engine
            </label>
            <select
              id={`${id}-engine`}
              className="input"
              value={value.engine ?? ''}
              onChange={(event) => set('engine', event.target.value)}
              {...invalidProps(errors.engine, `${id}-engine-error`)}
            >
              {engines.map((engine) => (
                <option key={engine.id} value={engine.kind === 'local' ? '' : engine.id}>
                  {engine.name}
                </option>
              ))}
              <option value={PICK_BY_REQUIREMENTS}>Pick by requirements…</option>
            </select>
            <FieldError id={`${id}-engine-error`} message={errors.engine} />
          </div>
          {value.engine === PICK_BY_REQUIREMENTS && (
            <div className="field field-wide">
              <label className="field-label" htmlFor={`${id}-requirements`}>
                Requirements
              </label>
              <input
                id={`${id}-requirements`}
                className="input"
                value={value.requirements ?? ''}
                onChange={(event) => set('requirements', event.target.value)}
                placeholder="arch=arm64 cpus=4 memory=8g gpu label=lab"
                spellCheck={false}
                {...invalidProps(errors.requirements, `${id}-requirements-error`)}
              />
              <FieldError id={`${id}-requirements-error`} message={errors.requirements} />
            </div>
          )}
        </div>
      )}
      <fieldset className="attach-hand-mount">
        <legend className="visually-hidden">A folder from this computer, shown in the container</legend>
        <div className="field field-wide">
          <label className="field-label" htmlFor={`${id}-host`}>
            Host folder (optional)
          </label>
          <input
            id={`${id}-host`}
            className="input"
            value={value.hostPath}
            onChange={(event) => set('hostPath', event.target.value)}
            placeholder="/home/me/project"
            spellCheck={false}
            {...invalidProps(errors.hostPath, `${id}-host-error`)}
          />
          <FieldError id={`${id}-host-error`} message={errors.hostPath} />
        </div>
        <div className="field field-wide">
          <label className="field-label" htmlFor={`${id}-container`}>
            Container path
          </label>
          <input
            id={`${id}-container`}
            className="input"
            value={value.containerPath}
            onChange={(event) => set('containerPath', event.target.value)}
            placeholder="/workspace/project"
            spellCheck={false}
            {...invalidProps(errors.containerPath, `${id}-container-error`)}
          />
          <FieldError id={`${id}-container-error`} message={errors.containerPath} />
        </div>
        <label className="checkbox">
          <input type="checkbox" checked={value.readOnly} onChange={(event) => set('readOnly', event.target.checked)} />
          Read-only
        </label>
      </fieldset>
      <RepoFields value={value} set={set} errors={errors} credentials={credentials} />
    </>
  );
}

interface RepoFieldsProps {
  value: DockerHandDraft;
  set: <K extends keyof DockerHandDraft>(key: K, next: DockerHandDraft[K]) => void;
  errors: DockerHandFieldErrors;
  credentials: readonly SecretMeta[] | null | undefined;
}

/** "Git repository (optional)": closed until used; opened by a repository to show or a problem in it. */
function RepoFields({ value, set, errors, credentials }: RepoFieldsProps) {
  const id = useId();
  const hasProblem = [errors.repoUrl, errors.repoTokenId, errors.repoPath, errors.repoBranch].some(
    (text) => text !== undefined && text !== '',
  );
  const [open, setOpen] = useState(() => value.repoUrl.trim() !== '' || hasProblem);
  // A problem opens the group in the same render, so the dialog can move focus to the field at once.
  const [shownProblem, setShownProblem] = useState(hasProblem);
  if (hasProblem !== shownProblem) {
    setShownProblem(hasProblem);
    if (hasProblem) setOpen(true);
  }

  const tokens = gitTokenChoices(credentials);
  const tokenId = value.repoTokenId;
  const tokenKnown = tokenId === '' || tokens.some((token) => token.id === tokenId);
  const url = value.repoUrl.trim();
  const note =
    !tokenKnown && credentials != null
      ? 'This token is no longer in Settings → Credentials: choose another, or none.'
      : credentials === null
        ? 'Credentials cannot be read right now, so only a public repository can be brought. Store a git token in Settings → Credentials first.'
        : credentials !== undefined && tokens.length === 0
          ? 'No git token stored yet: for a private repository, add one in Settings → Credentials.'
          : undefined;
  const tokenDescribedBy = [errors.repoTokenId ? `${id}-token-error` : null, note !== undefined ? `${id}-token-note` : null]
    .filter((part) => part !== null)
    .join(' ');

  return (
    <details className="hand-repo" open={open} onToggle={(event) => setOpen(event.currentTarget.open)}>
      <summary>
        Git repository (optional)
        {!open && url !== '' && <span className="hand-repo-summary">{url}</span>}
      </summary>
      <div className="hand-repo-body">
        <div className="attach-hand-fields">
          <div className="field field-wide">
            <label className="field-label" htmlFor={`${id}-url`}>
              Repository URL
            </label>
            <input
              id={`${id}-url`}
              className="input"
              value={value.repoUrl}
              onChange={(event) => set('repoUrl', event.target.value)}
              placeholder="https://github.com/team/repo.git"
              inputMode="url"
              autoCapitalize="off"
              autoComplete="off"
              spellCheck={false}
              {...invalidProps(errors.repoUrl, `${id}-url-error`)}
            />
            <FieldError id={`${id}-url-error`} message={errors.repoUrl} />
          </div>
          <div className="field">
            <label className="field-label" htmlFor={`${id}-token`}>
              Token
            </label>
            <select
              id={`${id}-token`}
              className="input"
              value={tokenId}
              onChange={(event) => set('repoTokenId', event.target.value)}
              disabled={tokens.length === 0 && tokenId === ''}
              {...(errors.repoTokenId ? { 'aria-invalid': true } : {})}
              {...(tokenDescribedBy !== '' ? { 'aria-describedby': tokenDescribedBy } : {})}
            >
              <option value="">None (public repository)</option>
              {tokens.map((token) => (
                <option key={token.id} value={token.id}>
                  {token.name}
                </option>
              ))}
              {!tokenKnown && <option value={tokenId}>{credentials == null ? 'Saved token' : 'Missing token'}</option>}
            </select>
            <FieldError id={`${id}-token-error`} message={errors.repoTokenId} />
          </div>
        </div>
        {note !== undefined && (
          <p id={`${id}-token-note`} className="hand-repo-note">
            {note}
          </p>
        )}
        <div className="attach-hand-fields">
          <div className="field field-wide">
            <label className="field-label" htmlFor={`${id}-path`}>
              Path
            </label>
            <input
              id={`${id}-path`}
              className="input"
              value={value.repoPath}
              onChange={(event) => set('repoPath', event.target.value)}
              placeholder={defaultRepoPath(value.repoUrl)}
              autoCapitalize="off"
              spellCheck={false}
              {...invalidProps(errors.repoPath, `${id}-path-error`)}
            />
            <FieldError id={`${id}-path-error`} message={errors.repoPath} />
          </div>
          <div className="field">
            <label className="field-label" htmlFor={`${id}-branch`}>
              Branch
            </label>
            <input
              id={`${id}-branch`}
              className="input"
              value={value.repoBranch}
              onChange={(event) => set('repoBranch', event.target.value)}
              placeholder="default branch"
              autoCapitalize="off"
              spellCheck={false}
              {...invalidProps(errors.repoBranch, `${id}-branch-error`)}
            />
            <FieldError id={`${id}-branch-error`} message={errors.repoBranch} />
          </div>
        </div>
      </div>
    </details>
  );
}
