/**
 * The session header's "Outcome…" button and its dialog: defines the outcome Claude's work is
 * checked against at each turn end, or replaces the current one (`sessions-define-outcome`). The
 * current definition is read from the log (its latest `user.define_outcome`) and given as the
 * draft to edit. The draft is kept while the dialog is closed and cleared only by a save that
 * succeeds; refusals are shown next to their fields.
 */
import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import type { SessionSummary } from '#shared/sessions';
import { outcomeStatusText } from '#renderer/ui/format.ts';
import {
  EMPTY_OUTCOME_DRAFT,
  OUTCOME_FIELD_KEYS,
  buildOutcome,
  outcomeDraftOf,
  type OutcomeDraft,
  type OutcomeHandChoice,
} from './outcome-draft.ts';
import { isApplePlatform } from '#renderer/ui/keys.ts';
import { placeIssues } from '#renderer/ui/problems.ts';
import { dialogSubmitKeys } from '#renderer/ui/keys.ts';
import { OutcomeFields } from './OutcomeFields.tsx';
import { RpcCallError, type Transport } from '#renderer/client/transport.ts';
import { messageOf } from '#renderer/ui/errors.ts';
import '#renderer/ui/dialog.css';
import './outcome.css';

interface Problems {
  fields: Record<string, string>;
  general: string[];
}

const NO_PROBLEMS: Problems = { fields: {}, general: [] };

export interface OutcomeControlProps {
  transport: Transport;
  session: SessionSummary;
  /** The outcome was saved: the session as it is now. */
  onDefined?: (session: SessionSummary) => void;
}

/** The header's button (its tooltip says where the outcome stands) and the dialog it opens. */
export function OutcomeControl({ transport, session, onDefined }: OutcomeControlProps) {
  const [open, setOpen] = useState(false);
  const status = outcomeStatusText(session.outcome);
  const title =
    session.outcome === null
      ? 'Set an outcome: Claude’s work is checked against it before it says done'
      : `Outcome: ${session.outcome.description} — ${status?.text ?? ''}`;
  return (
    <>
      <button type="button" className="button" onClick={() => setOpen(true)} title={title} aria-haspopup="dialog">
        Outcome…
      </button>
      <OutcomeDialog transport={transport} session={session} open={open} onClose={() => setOpen(false)} onDefined={onDefined} />
    </>
  );
}

interface OutcomeDialogProps extends OutcomeControlProps {
  open: boolean;
  onClose: () => void;
}

function OutcomeDialog({ transport, session, open, onClose, onDefined }: OutcomeDialogProps) {
  const sessionId = session.id;
  /** Null until the current definition is read (on the first opening, and after each save). */
  const [draft, setDraft] = useState<OutcomeDraft | null>(null);
  const [hands, setHands] = useState<OutcomeHandChoice[] | null>(null);
  const [models, setModels] = useState<ReadonlyArray<{ id: string; displayName: string }> | null>(null);
  const [problems, setProblems] = useState<Problems>(NO_PROBLEMS);
  const [saving, setSaving] = useState(false);
  const [attempts, setAttempts] = useState(0);
  const dialogRef = useRef<HTMLDialogElement>(null);
  const id = useId();
  const apple = isApplePlatform(navigator.platform);

  useEffect(() => {
    const dialog = dialogRef.current;
    if (dialog === null) return;
    if (open && !dialog.open) dialog.showModal();
    else if (!open && dialog.open) dialog.close();
  }, [open]);

  // The current definition becomes the draft (only when there is no draft: nothing typed is lost).
  const needDraft = open && draft === null;
  useEffect(() => {
    if (!needDraft) return;
    let active = true;
    transport.call('sessions-events', { sessionId, query: { types: ['user.define_outcome'], direction: 'backward', limit: 1 } }).then(
      (events) => {
        const latest = events.at(-1);
        if (active) setDraft(latest?.type === 'user.define_outcome' ? outcomeDraftOf(latest.payload) : { ...EMPTY_OUTCOME_DRAFT });
      },
      (reason: unknown) => {
        if (!active) return;
        setDraft({ ...EMPTY_OUTCOME_DRAFT });
        setProblems({ fields: {}, general: [`Could not read the current outcome: ${messageOf(reason)}`] });
      },
    );
    return () => {
      active = false;
    };
  }, [needDraft, transport, sessionId]);

  // The grader may use another model than the session's (e.g. a smaller one); the list is asked once.
  useEffect(() => {
    if (!open || models !== null) return;
    let active = true;
    transport.call('models-list', undefined).then(
      (list) => {
        if (active) setModels(list.models);
      },
      () => {
        if (active) setModels([]);
      },
    );
    return () => {
      active = false;
    };
  }, [open, transport, models]);

  // Asked on every opening: hands may have been attached since. MCP servers run no commands.
  useEffect(() => {
    if (!open) return;
    let active = true;
    transport.call('hands-list', { sessionId }).then(
      (list) => {
        if (active) setHands(list.filter((hand) => hand.kind !== 'mcp').map((hand) => ({ id: hand.name, name: hand.name })));
      },
      () => {
        if (active) setHands([]);
      },
    );
    return () => {
      active = false;
    };
  }, [open, transport, sessionId]);

  useEffect(() => {
    if (attempts === 0) return;
    const dialog = dialogRef.current;
    const target = dialog?.querySelector<HTMLElement>('[aria-invalid="true"]') ?? dialog?.querySelector<HTMLElement>('.launch-alert');
    target?.scrollIntoView({ block: 'nearest' });
    if (target?.matches('input, select, textarea')) target.focus();
  }, [attempts]);

  async function save(): Promise<void> {
    if (saving || draft === null) return;
    const built = buildOutcome(draft, hands ?? []);
    if (!built.ok) {
      setProblems({ fields: built.fields, general: [] });
      setAttempts((count) => count + 1);
      return;
    }
    setSaving(true);
    setProblems(NO_PROBLEMS);
    try {
      const updated = await transport.call('sessions-define-outcome', { sessionId, outcome: built.outcome });
      setDraft(null);
      onDefined?.(updated);
      onClose();
    } catch (reason) {
      setProblems(problemsOf(reason));
      setAttempts((count) => count + 1);
    } finally {
      setSaving(false);
    }
  }

  function onSubmit(event: FormEvent<HTMLFormElement>): void {
    event.preventDefault();
    void save();
  }

  const onKeyDown = dialogSubmitKeys(() => void save());

  const current = session.outcome;
  const status = outcomeStatusText(current);
  const hasProblems = problems.general.length > 0 || Object.keys(problems.fields).length > 0;

  return (
    <dialog
      ref={dialogRef}
      className="launch outcome-dialog"
      aria-labelledby={`${id}-title`}
      aria-modal="true"
      onKeyDown={onKeyDown}
      onCancel={(event) => {
        if (saving) event.preventDefault();
      }}
      onClose={() => {
        if (open) onClose();
      }}
      data-testid="outcome-dialog"
    >
      <form className="launch-form" onSubmit={onSubmit} noValidate>
        <header className="launch-header">
          <h2 id={`${id}-title`} className="launch-title">
            {current === null ? 'Set an outcome' : 'Replace the outcome'}
          </h2>
          <p className="launch-note">
            Each time Claude ends a turn, a grader checks the work against it; “needs revision” sends its feedback back as the next turn.
          </p>
        </header>
        <div className="launch-body">
          {hasProblems && (
            <div className="launch-alert" role="alert">
              {problems.general.length > 0 ? (
                problems.general.map((text, index) => <p key={index}>{text}</p>)
              ) : (
                <p>Some fields need a change before saving: see the messages under them.</p>
              )}
            </div>
          )}
          {current !== null && (
            <div className="outcome-current" data-testid="outcome-current">
              <p>
                <strong>Now:</strong> {current.description}
              </p>
              {status !== null && <p className={`outcome-tone-${status.tone}`}>{status.text}</p>}
              <p className="launch-note">Saving replaces it; the checks count again from the next turn end.</p>
            </div>
          )}
          <fieldset className="launch-fields" disabled={saving || draft === null}>
            <legend className="visually-hidden">The outcome</legend>
            {draft === null ? (
              <p className="launch-note">Reading the current outcome…</p>
            ) : (
              <OutcomeFields
                draft={draft}
                problems={problems.fields}
                hands={hands}
                noHandsNote="This session has no hand to run a command on: attach one in the Hands panel."
                models={models}
                onChange={(next, fixed) => {
                  setDraft(next);
                  setProblems((currentProblems) => {
                    if (!fixed.some((key) => key in currentProblems.fields)) return currentProblems;
                    const fields = { ...currentProblems.fields };
                    for (const key of fixed) delete fields[key];
                    return { ...currentProblems, fields };
                  });
                }}
              />
            )}
          </fieldset>
        </div>
        <footer className="launch-footer">
          <span className="launch-shortcut">
            <kbd>{apple ? '⌘↵' : 'Ctrl+Enter'}</kbd> to save
          </span>
          <button type="button" className="button button-quiet" onClick={onClose} disabled={saving}>
            Cancel
          </button>
          <button
            type="submit"
            className="button button-primary"
            disabled={saving || draft === null}
            aria-keyshortcuts={apple ? 'Meta+Enter' : 'Control+Enter'}
          >
            {saving ? 'Saving…' : current === null ? 'Set outcome' : 'Replace outcome'}
          </button>
        </footer>
      </form>
    </dialog>
  );
}

/** Where the main process's refusal goes: its issues on the outcome's fields, its message on top otherwise. */
function problemsOf(reason: unknown): Problems {
  if (!(reason instanceof RpcCallError) || reason.issues === undefined || reason.issues.length === 0)
    return { fields: {}, general: [messageOf(reason)] };
  const placed = placeIssues(reason.issues, OUTCOME_FIELD_KEYS);
  return placed.general.length > 0 ? { fields: placed.fields, general: [reason.message] } : placed;
}
