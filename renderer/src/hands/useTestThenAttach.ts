/**
 * The state machine the "Attach a machine" and "Add an MCP server" forms share: a draft, its
 * problems (shown after a refused attempt, dropped field by field as they are fixed), a test of the
 * configuration the draft builds (idle → testing → done or error, and "stale" once the draft no
 * longer builds the configuration tested), and attaching (busy while the main process decides; its
 * refusal is shown by the form). What each form tests, what it needs before attaching and how it
 * places a refusal on its fields stay in the form.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import type { HandSpecInput } from '#shared/hands';
import { useFocusFirstProblem } from './attach-form.tsx';
import { messageOf } from '#renderer/ui/errors.ts';

/** A test of a configuration: `key` says which configuration the result is for. */
export type TestState<Result> =
  | { state: 'idle' }
  | { state: 'testing'; message: string }
  | { state: 'done'; result: Result; key: string }
  | { state: 'error'; message: string };

/** What a draft builds: its configuration, or its problems by field. */
export interface DraftCheck<Config, Problems> {
  config: Config | null;
  problems: Problems | null;
}

export interface TestThenAttachOptions<Draft extends { name: string }, Config extends HandSpecInput['config'], Problems extends object> {
  initialDraft: () => Draft;
  /** The draft's configuration or its problems; `existingNames` are the names already taken. */
  check: (draft: Draft, existingNames: readonly string[]) => DraftCheck<Config, Problems>;
  /** Identifies a configuration, to tell whether a test result is still about the fields shown. */
  keyOf: (config: Config) => string;
  existingNames: readonly string[];
  /** Rejects with the RPC error when the hand is refused. */
  onAttach: (hand: HandSpecInput) => Promise<void>;
  onClose: () => void;
  /** Which test states bring the result into view (the MCP form also shows "testing" there). */
  revealOn: ReadonlyArray<TestState<unknown>['state']>;
}

export function useTestThenAttach<
  Draft extends { name: string },
  Config extends HandSpecInput['config'],
  Problems extends object,
  Result,
  Busy extends string = never,
>({ initialDraft, check, keyOf, existingNames, onAttach, onClose, revealOn }: TestThenAttachOptions<Draft, Config, Problems>) {
  const [draft, setDraft] = useState<Draft>(initialDraft);
  const [test, setTest] = useState<TestState<Result>>({ state: 'idle' });
  const [problems, setProblems] = useState<Problems>({} as Problems);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<'attaching' | Busy | null>(null);
  const [attempts, setAttempts] = useState(0);
  const formRef = useRef<HTMLFormElement>(null);
  const resultRef = useRef<HTMLDivElement>(null);

  const current = useMemo(() => check(draft, existingNames), [check, draft, existingNames]);
  const currentKey = current.config === null ? null : keyOf(current.config);
  const testing = test.state === 'testing';

  useFocusFirstProblem(formRef, attempts);

  const reveal = revealOn.includes(test.state);
  useEffect(() => {
    if (reveal) resultRef.current?.scrollIntoView({ block: 'nearest' });
  }, [test.state, reveal]);

  /** A new draft; the problems shown that it fixed go away. */
  function change(next: Draft): void {
    setDraft(next);
    if (Object.keys(problems).length > 0) {
      const still = check(next, existingNames).problems ?? {};
      setProblems((shown) => Object.fromEntries(Object.entries(shown).filter(([field]) => field in still)) as Problems);
    }
  }

  /** Shows these problems and moves the focus to the first of them. */
  function showProblems(found: Problems): void {
    setProblems(found);
    setAttempts((count) => count + 1);
  }

  /** Tests `config` (null: nothing to test, its problems are shown); a refusal the form places itself is not an error. */
  async function runTest(
    config: Config | null,
    call: (config: Config) => Promise<Result>,
    { message = '', placeRefusal }: { message?: string; placeRefusal?: (reason: unknown) => boolean } = {},
  ): Promise<void> {
    if (config === null || testing) return;
    setError(null);
    setTest({ state: 'testing', message });
    try {
      const result = await call(config);
      setTest({ state: 'done', result, key: keyOf(config) });
    } catch (reason) {
      if (placeRefusal?.(reason) === true) setTest({ state: 'idle' });
      else setTest({ state: 'error', message: messageOf(reason) });
    }
  }

  /** Attaches `config` under the draft's name unless `blocked` says why not yet; the form shows a refusal. */
  async function attach(config: Config | null, showRefusal: (reason: unknown) => void, blocked: string | null = null): Promise<void> {
    if (config === null || busy !== null) return;
    if (blocked !== null) {
      setError(blocked);
      return;
    }
    setBusy('attaching');
    setError(null);
    try {
      await onAttach({ name: draft.name.trim(), config });
      onClose();
    } catch (reason) {
      showRefusal(reason);
      setBusy(null);
    }
  }

  return {
    draft,
    change,
    current,
    currentKey,
    test,
    setTest,
    testing,
    problems,
    setProblems,
    showProblems,
    error,
    setError,
    busy,
    setBusy,
    formRef,
    resultRef,
    runTest,
    attach,
  };
}
