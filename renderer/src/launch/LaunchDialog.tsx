/**
 * "New session" as a dialog: name, model, system prompt (from a preset), Docker hands, an optional
 * outcome to check the work against, limits and an optional first message, launched in one
 * `sessions-launch` call with Launch or Ctrl/Cmd+Enter.
 *
 * The draft lives here while the dialog is closed (Escape or Cancel keep it) and is only cleared
 * by a launch that succeeds; keep the component mounted for that. Refusals are shown next to the
 * fields they name. The last model, preset and hands are remembered in localStorage — never a
 * title, a prompt's text, an outcome or a message.
 *
 * The hands section (its rows and "Add Docker hand") is LaunchHands.tsx.
 */
import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import type { ModelList } from '#shared/harness';
import type { SessionSummary } from '#shared/sessions';
import { readableReason } from '#renderer/ui/format.ts';
import {
  FIELD,
  addHand,
  addSavedHand,
  buildLaunchRequest,
  choosePreset,
  editSystem,
  fieldKeysOf,
  handRows,
  initialForm,
  pickModel,
  launchHandChoices,
  withPolicy,
  type HandDraft,
  type LaunchForm,
  type LaunchProblems,
} from './launch-form.ts';
import { LaunchHands } from './LaunchHands.tsx';
import { LAUNCH_STORAGE_KEY, parseRemembered, rememberedOf, type RememberedLaunch } from './remembered.ts';
import { launchShortcutLabel, isApplePlatform } from '#renderer/ui/keys.ts';
import { placeIssues } from '#renderer/ui/problems.ts';
import { dialogSubmitKeys } from '#renderer/ui/keys.ts';
import { LaunchField as Field } from '#renderer/ui/fields.tsx';
import { OutcomeFields } from '#renderer/outcome/index.ts';
import { SYSTEM_PROMPT_PRESETS, isPresetId, presetById } from './presets.ts';
import { RpcCallError, type Transport } from '#renderer/client/transport.ts';
import { messageOf } from '#renderer/ui/errors.ts';
import { useCredentials, useDockerStatus, useEngines, useHandLibrary } from '#renderer/hands/index.ts';
import { LaunchGuardrails } from '#renderer/guardrails/index.ts';
import '#renderer/ui/dialog.css';
import './launch.css';

export interface LaunchDialogProps {
  transport: Transport;
  open: boolean;
  /** Escape or Cancel: the parent sets `open` to false (the draft is kept). */
  onClose: () => void;
  /** The session was created (and its first message sent, when there was one). */
  onLaunched: (session: SessionSummary) => void;
  /**
   * A failure that is not about the form (storage, internal). It is shown in the dialog too;
   * refusals of the form's fields are shown only in the dialog.
   */
  onError: (reason: unknown) => void;
}

const NO_PROBLEMS: LaunchProblems = { fields: {}, general: [] };

export function LaunchDialog({ transport, open, onClose, onLaunched, onError }: LaunchDialogProps) {
  const [form, setForm] = useState<LaunchForm>(() => initialForm(readRemembered()));
  const [models, setModels] = useState<ModelList | null>(null);
  const [modelsError, setModelsError] = useState<string | null>(null);
  /** The vault's secrets for repositories' tokens: undefined until known, null when the vault cannot be read. */
  const credentials = useCredentials(transport, open);
  // Asked on every opening: Docker may have started since.
  const docker = useDockerStatus(transport, open);
  // Settings → Engines (issue 22): with engines besides this computer's, each Docker hand can run on one.
  const engines = useEngines(transport, open);
  // Settings → Hands library: saved Docker presets, machines and MCP servers to add (asked on every opening).
  const library = useHandLibrary(transport, open);
  const [problems, setProblems] = useState<LaunchProblems>(NO_PROBLEMS);
  /** Counts failed attempts: each one moves focus to the first field with a problem. */
  const [attempts, setAttempts] = useState(0);
  const [launching, setLaunching] = useState(false);
  const [advancedOpen, setAdvancedOpen] = useState(false);
  /** A hand just added, whose image field takes the focus once it is rendered. */
  const focusHand = useRef<string | null>(null);
  const dialogRef = useRef<HTMLDialogElement>(null);
  const titleRef = useRef<HTMLInputElement>(null);
  const imageRefs = useRef(new Map<string, HTMLInputElement>());
  const id = useId();
  const platform = currentPlatform();
  const apple = isApplePlatform(platform);

  useEffect(() => {
    const dialog = dialogRef.current;
    if (dialog === null) return;
    if (open && !dialog.open) {
      dialog.showModal();
      titleRef.current?.focus();
    } else if (!open && dialog.open) {
      dialog.close();
    }
  }, [open]);

  // The model list is fetched once (again on the next opening if it failed).
  const needModels = open && models === null;
  useEffect(() => {
    if (!needModels) return;
    let active = true;
    transport.call('models-list', undefined).then(
      (list) => {
        if (!active) return;
        setModels(list);
        setModelsError(null);
        setForm((current) => ({ ...current, model: pickModel(list, current.model) }));
      },
      (reason: unknown) => {
        if (active) setModelsError(messageOf(reason));
      },
    );
    return () => {
      active = false;
    };
  }, [needModels, transport]);

  // Asked on every opening: a token may have been added in Settings since.

  useEffect(() => {
    if (attempts === 0) return;
    const dialog = dialogRef.current;
    const target = dialog?.querySelector<HTMLElement>('[aria-invalid="true"]') ?? dialog?.querySelector<HTMLElement>('.launch-alert');
    target?.scrollIntoView({ block: 'nearest' });
    if (target?.matches('input, select, textarea')) target.focus();
  }, [attempts]);

  useEffect(() => {
    if (focusHand.current === null) return;
    imageRefs.current.get(focusHand.current)?.focus();
    focusHand.current = null;
  }, [form.hands]);

  /** A cancelled launch leaves nothing behind: the next opening starts without the old problems. */
  function close(): void {
    setProblems(NO_PROBLEMS);
    onClose();
  }

  /** Applies a change and drops the problems it may have fixed. */
  function change(update: (current: LaunchForm) => LaunchForm, ...fixedFields: string[]): void {
    setForm(update);
    if (fixedFields.length === 0) return;
    setProblems((current) => {
      if (!fixedFields.some((key) => key in current.fields)) return current;
      const fields = { ...current.fields };
      for (const key of fixedFields) delete fields[key];
      return { ...current, fields };
    });
  }

  function updateHand(key: string, patch: Partial<HandDraft>, ...fixedFields: string[]): void {
    change(
      (current) => ({ ...current, hands: current.hands.map((hand) => (hand.key === key ? { ...hand, ...patch } : hand)) }),
      ...fixedFields,
    );
  }

  function removeHand(key: string): void {
    setForm((current) => ({
      ...current,
      hands: current.hands.filter((hand) => hand.key !== key),
      saved: current.saved.filter((hand) => hand.key !== key),
    }));
    // Rows after it move up: their problems would point at the wrong row.
    setProblems((current) => ({
      ...current,
      fields: Object.fromEntries(Object.entries(current.fields).filter(([field]) => !field.startsWith('hands'))),
    }));
  }

  function showProblems(found: LaunchProblems): void {
    setProblems(found);
    if (FIELD.maxTokens in found.fields || FIELD.thinkingBudget in found.fields) setAdvancedOpen(true);
    setAttempts((count) => count + 1);
  }

  async function launch(): Promise<void> {
    if (launching) return;
    const built = buildLaunchRequest(form);
    if (!built.ok) {
      showProblems(built.problems);
      return;
    }
    setLaunching(true);
    setProblems(NO_PROBLEMS);
    try {
      const session = await transport.call('sessions-launch', built.request);
      const next = rememberedOf(form);
      writeRemembered(next);
      setForm(initialForm(next));
      setAdvancedOpen(false);
      onLaunched(session);
    } catch (reason) {
      showProblems(problemsOf(reason, form));
      if (!(reason instanceof RpcCallError && reason.code === 'invalid-argument')) onError(reason);
    } finally {
      setLaunching(false);
    }
  }

  function onSubmit(event: FormEvent<HTMLFormElement>): void {
    event.preventDefault();
    void launch();
  }

  const onKeyDown = dialogSubmitKeys(() => void launch());

  const fields = problems.fields;
  const preset = presetById(form.presetId);
  const shortcut = launchShortcutLabel(platform);

  return (
    <dialog
      ref={dialogRef}
      className="launch"
      aria-labelledby={`${id}-title`}
      aria-modal="true"
      onKeyDown={onKeyDown}
      onCancel={(event) => {
        // The launch is on its way; closing now would hide its outcome.
        if (launching) event.preventDefault();
      }}
      onClose={() => {
        if (open) close();
      }}
    >
      <form className="launch-form" onSubmit={onSubmit} noValidate>
        <header className="launch-header">
          <h2 id={`${id}-title`} className="launch-title">
            New session
          </h2>
        </header>
        <div className="launch-body">
          {problems.general.length > 0 || Object.keys(fields).length > 0 ? (
            <div className="launch-alert" role="alert">
              {problems.general.length > 0 ? (
                problems.general.map((text, index) => <p key={index}>{text}</p>)
              ) : (
                <p>Some fields need a change before launching: see the messages under them.</p>
              )}
            </div>
          ) : null}
          <fieldset className="launch-fields" disabled={launching}>
            <legend className="visually-hidden">The new session</legend>
            <Field id={`${id}-name`} label="Name" error={fields[FIELD.title]}>
              {(props) => (
                <input
                  {...props}
                  ref={titleRef}
                  className="input"
                  value={form.title}
                  onChange={(event) => change((current) => ({ ...current, title: event.target.value }), FIELD.title)}
                  maxLength={200}
                  placeholder="What is this session for?"
                  autoFocus
                  required
                />
              )}
            </Field>

            <Field
              id={`${id}-model`}
              label="Model"
              error={fields[FIELD.model]}
              note={
                modelsError !== null
                  ? `Could not load the models: ${readableReason(modelsError)} Drover's default model will be used.`
                  : models?.fallbackReason
                    ? `Showing built-in models: ${readableReason(models.fallbackReason)}`
                    : undefined
              }
            >
              {(props) => (
                <select
                  {...props}
                  className="input"
                  value={form.model}
                  onChange={(event) => change((current) => ({ ...current, model: event.target.value }), FIELD.model)}
                >
                  {models === null ? (
                    <option value={form.model}>{modelsError === null ? 'Loading models…' : form.model || 'Default model'}</option>
                  ) : (
                    models.models.map((model) => (
                      <option key={model.id} value={model.id}>
                        {model.displayName}
                      </option>
                    ))
                  )}
                </select>
              )}
            </Field>

            <div className="launch-group">
              <Field id={`${id}-preset`} label="System prompt preset" note={preset.description}>
                {(props) => (
                  <select
                    {...props}
                    className="input"
                    value={form.presetId}
                    onChange={(event) => {
                      const value = event.target.value;
                      if (isPresetId(value)) change((current) => choosePreset(current, value), FIELD.system);
                    }}
                  >
                    {SYSTEM_PROMPT_PRESETS.map((option) => (
                      <option key={option.id} value={option.id}>
                        {option.label}
                      </option>
                    ))}
                  </select>
                )}
              </Field>
              <Field id={`${id}-system`} label="System prompt" error={fields[FIELD.system]}>
                {(props) => (
                  <textarea
                    {...props}
                    className="input launch-textarea"
                    value={form.system}
                    onChange={(event) => change((current) => editSystem(current, event.target.value), FIELD.system)}
                    rows={4}
                    placeholder="None: Claude's default behaviour."
                  />
                )}
              </Field>
            </div>

            <LaunchHands
              id={id}
              hands={form.hands}
              saved={form.saved}
              library={library.listing?.entries ?? null}
              libraryError={library.loadError ?? library.listing?.error ?? null}
              docker={docker}
              problems={fields}
              credentials={credentials}
              engines={engines}
              imageRef={(key, element) => {
                if (element === null) imageRefs.current.delete(key);
                else imageRefs.current.set(key, element);
              }}
              onChange={updateHand}
              onRemove={removeHand}
              onAddSaved={(item) => change((current) => addSavedHand(current, item), FIELD.hands)}
              onRenameSaved={(key, name) => {
                const index = form.hands.length + form.saved.findIndex((hand) => hand.key === key);
                change(
                  (current) => ({ ...current, saved: current.saved.map((hand) => (hand.key === key ? { ...hand, name } : hand)) }),
                  `hands.${index}.name`,
                  `hands.${index}`,
                );
              }}
              onAdd={() => {
                const next = addHand(form);
                const added = next.hands.at(-1);
                change(() => next, FIELD.hands);
                if (added !== undefined && next !== form) focusHand.current = added.key;
              }}
            />

            <LaunchGuardrails
              transport={transport}
              id={id}
              budget={form.budget}
              budgetError={fields[FIELD.budget]}
              onBudget={(budget) => change((current) => ({ ...current, budget }), FIELD.budget)}
              hands={handRows(form)}
              policies={form.handPolicies}
              onPolicy={(key, policy) => change((current) => ({ ...current, handPolicies: withPolicy(current.handPolicies, key, policy) }))}
            />

            <section className="launch-outcome" aria-label="Outcome">
              <label className="checkbox">
                <input
                  type="checkbox"
                  checked={form.outcomeOn}
                  onChange={(event) => change((current) => ({ ...current, outcomeOn: event.target.checked }), 'outcome')}
                  aria-describedby={`${id}-outcome-note`}
                />
                Check the work against an outcome
              </label>
              <p id={`${id}-outcome-note`} className="launch-note">
                A grader checks Claude’s work each time it ends a turn, and sends it back with feedback until it is done.
              </p>
              {form.outcomeOn && (
                <div className="launch-outcome-body">
                  <OutcomeFields
                    draft={form.outcome}
                    problems={fields}
                    hands={launchHandChoices(form)}
                    noHandsNote="Add a hand above to run a command on."
                    models={models?.models ?? null}
                    onChange={(next, fixed) => change((current) => ({ ...current, outcome: next }), ...fixed)}
                  />
                </div>
              )}
            </section>

            <details className="launch-advanced" open={advancedOpen} onToggle={(event) => setAdvancedOpen(event.currentTarget.open)}>
              <summary>Advanced</summary>
              <div className="launch-advanced-body">
                <Field
                  id={`${id}-max-tokens`}
                  label="Max tokens"
                  error={fields[FIELD.maxTokens]}
                  note="Per response; empty: Drover's default."
                >
                  {(props) => (
                    <input
                      {...props}
                      className="input launch-number"
                      type="number"
                      inputMode="numeric"
                      min={1}
                      max={128_000}
                      step={1}
                      value={form.maxTokens}
                      onChange={(event) =>
                        change((current) => ({ ...current, maxTokens: event.target.value }), FIELD.maxTokens, FIELD.thinkingBudget)
                      }
                      placeholder="Default"
                    />
                  )}
                </Field>
                <label className="checkbox">
                  <input
                    type="checkbox"
                    checked={form.thinking}
                    onChange={(event) => change((current) => ({ ...current, thinking: event.target.checked }), FIELD.thinkingBudget)}
                  />
                  Extended thinking
                </label>
                <Field
                  id={`${id}-budget`}
                  label="Thinking budget (tokens)"
                  error={fields[FIELD.thinkingBudget]}
                  note="At least 1,024 tokens, and below max tokens."
                >
                  {(props) => (
                    <input
                      {...props}
                      className="input launch-number"
                      type="number"
                      inputMode="numeric"
                      min={1024}
                      step={1}
                      value={form.thinkingBudget}
                      disabled={!form.thinking}
                      onChange={(event) => change((current) => ({ ...current, thinkingBudget: event.target.value }), FIELD.thinkingBudget)}
                    />
                  )}
                </Field>
              </div>
            </details>

            <Field
              id={`${id}-message`}
              label="First message"
              error={fields[FIELD.message]}
              note="Optional: without one, the session waits for your first message."
            >
              {(props) => (
                <textarea
                  {...props}
                  className="input launch-textarea"
                  value={form.message}
                  onChange={(event) => change((current) => ({ ...current, message: event.target.value }), FIELD.message)}
                  rows={4}
                  placeholder="What should Claude do first?"
                />
              )}
            </Field>
          </fieldset>
        </div>
        <footer className="launch-footer">
          <span className="launch-shortcut">
            <kbd>{shortcut}</kbd> to launch
          </span>
          <button type="button" className="button button-quiet" onClick={close} disabled={launching}>
            Cancel
          </button>
          <button
            type="submit"
            className="button button-primary"
            disabled={launching}
            aria-keyshortcuts={apple ? 'Meta+Enter' : 'Control+Enter'}
          >
            {launching ? 'Launching…' : 'Launch'}
          </button>
        </footer>
      </form>
    </dialog>
  );
}

/** Where the main process's refusal goes: its issues on their fields, its message on top otherwise. */
function problemsOf(reason: unknown, form: LaunchForm): LaunchProblems {
  if (!(reason instanceof RpcCallError) || reason.issues === undefined || reason.issues.length === 0) {
    return { fields: {}, general: [messageOf(reason)] };
  }
  const placed = placeIssues(reason.issues, fieldKeysOf(form));
  return placed.general.length > 0 ? { fields: placed.fields, general: [reason.message] } : placed;
}

function readRemembered(): RememberedLaunch {
  try {
    return parseRemembered(window.localStorage.getItem(LAUNCH_STORAGE_KEY));
  } catch {
    return {}; // storage blocked: no defaults, nothing lost
  }
}

function writeRemembered(remembered: RememberedLaunch): void {
  try {
    window.localStorage.setItem(LAUNCH_STORAGE_KEY, JSON.stringify(remembered));
  } catch {
    // Storage full or blocked: the next launch starts from the built-in defaults.
  }
}

/** The OS name the browser reports (userAgentData where there is one). */
function currentPlatform(): string {
  const withHints = navigator as Navigator & { userAgentData?: { platform?: string } };
  return withHints.userAgentData?.platform || navigator.platform || '';
}
