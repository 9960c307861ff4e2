/**
 * Under a hand's row in the Hands panel: the threads that hold it (issue 21) — "box — shared with
 * thread 'tester'", "box~a1b2 — fresh copy for 'builder'" with the copy's state and container.
 * Nothing when no thread holds it.
 */
import type { HandHolder } from '#shared/hands';

/** One line per holder: who, how, and for a copy its name, state and container. */
export function holderLine(
  hand: string,
  holder: HandHolder,
): { name: string; text: string; state: string | null; container: string | null } {
  const who = `'${holder.agent_name ?? holder.session_thread_id}'`;
  const how =
    holder.mode === 'shared'
      ? `shared with thread ${who}`
      : holder.mode === 'fresh'
        ? `fresh copy for ${who}`
        : holder.copy === null
          ? `read-only for ${who}`
          : `read-only copy for ${who}`;
  const copy = holder.copy;
  return {
    name: copy?.name ?? hand,
    text: how,
    state: copy?.state ?? null,
    container: copy?.container?.slice(0, 12) ?? null,
  };
}

export function HandHolders({ hand, holders }: { hand: string; holders: readonly HandHolder[] | undefined }) {
  if (holders === undefined || holders.length === 0) return null;
  return (
    <ul className="hand-holders" aria-label={`Threads holding ${hand}`}>
      {holders.map((holder) => {
        const line = holderLine(hand, holder);
        return (
          <li key={`${holder.session_thread_id}/${line.name}`} className="hand-holder" title={holder.copy?.detail}>
            {line.state !== null && <span className={`hand-state hand-state-${line.state}`}>{line.state}</span>}
            <span className="hand-name">{line.name}</span> — {line.text}
            {line.container !== null && (
              <span className="hand-container" title="Container id">
                {line.container}
              </span>
            )}
          </li>
        );
      })}
    </ul>
  );
}
