/**
 * Where an attach form shows its test: the progress while it runs, why it could not run, or the
 * form's own rendering of the result; and the form's error line. Shared by "Attach a machine" and
 * "Add an MCP server" (useTestThenAttach.ts holds the state they show).
 */
import type { ReactNode, Ref } from 'react';
import type { TestState } from './useTestThenAttach.ts';

export function TestStatus<Result>({
  test,
  resultRef,
  children,
}: {
  test: TestState<Result>;
  resultRef: Ref<HTMLDivElement>;
  children: (result: Result, key: string) => ReactNode;
}) {
  return (
    <div ref={resultRef} aria-live="polite">
      {test.state === 'testing' && (
        <p className="machine-progress" role="status">
          <span className="machine-spinner" aria-hidden="true" />
          {test.message}
        </p>
      )}
      {test.state === 'error' && (
        <p className="hands-error" role="alert">
          The test could not run: {test.message}
        </p>
      )}
      {test.state === 'done' && children(test.result, test.key)}
    </div>
  );
}

/** The form's error (a refusal no field shows, a failed import…), or nothing. */
export function AttachError({ message }: { message: string | null }) {
  if (message === null) return null;
  return (
    <p className="hands-error" role="alert">
      {message}
    </p>
  );
}
