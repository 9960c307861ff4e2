/**
 * What the timeline's colours mean (issue 23): a "Legend" disclosure beside the timeline's
 * controls — each category's colour, its name and examples of its events in words (the raw types
 * in their titles), what a tall tick is, and the outcome verdicts' colours.
 */
import { useId } from 'react';
import { EVENT_TYPES, type EventType } from '#shared/events';
import { CATEGORY_LABELS, EVENT_CATEGORIES, categoryOf, type EventCategory } from './event-categories.ts';
import { eventName } from './event-names.ts';

/** A few telling types per category, for the legend's examples. */
const EXAMPLES: Readonly<Record<EventCategory, readonly EventType[]>> = {
  user: ['user.message', 'user.interrupt', 'user.tool_confirmation'],
  agent: ['agent.message', 'agent.thinking'],
  tool: ['agent.tool_use', 'agent.tool_result', 'agent.mcp_tool_use'],
  hand: ['hand.attached', 'hand.ready', 'hand.checkpoint'],
  session: ['session.status_running', 'session.status_idle', 'session.forked'],
  span: ['span.model_request_start', 'span.model_request_end'],
  error: ['session.error', 'hand.failed', 'hand.lost'],
  outcome: ['user.define_outcome', 'span.outcome_evaluation_end'],
};

export function TimelineLegend() {
  const id = useId();
  return (
    <details className="timeline-legend" data-testid="timeline-legend">
      <summary className="button button-small button-quiet" aria-describedby={`${id}-hint`}>
        Legend
      </summary>
      <div className="timeline-legend-body" role="group" aria-label="Timeline legend">
        <p id={`${id}-hint`} className="timeline-legend-hint">
          One tick per event, coloured by kind. A tall tick starts a turn (your message, numbered T1, T2…) or is an outcome check. Hover a
          name for its raw event type.
        </p>
        <ul className="timeline-legend-list">
          {EVENT_CATEGORIES.map((category) => (
            <li key={category} className="timeline-legend-item" data-category={category}>
              <span className="timeline-legend-swatch" aria-hidden="true" />
              <span className="timeline-legend-label">{CATEGORY_LABELS[category]}</span>
              <span className="timeline-legend-examples">
                {EXAMPLES[category]
                  .filter((type) => EVENT_TYPES.includes(type) && categoryOf(type) === category)
                  .map((type, index) => (
                    <span key={type} title={type}>
                      {index > 0 && ', '}
                      {eventName(type)}
                    </span>
                  ))}
              </span>
            </li>
          ))}
          <li className="timeline-legend-item" data-testid="timeline-legend-terminal">
            <span className="timeline-legend-swatch timeline-legend-terminal" aria-hidden="true" />
            <span className="timeline-legend-label">Terminal</span>
            <span className="timeline-legend-examples">
              A band &ldquo;terminal on &lt;hand&gt;&rdquo; over the tape: a person had a terminal open on that hand from{' '}
              <span title="hand.terminal_opened">{eventName('hand.terminal_opened')}</span> to{' '}
              <span title="hand.terminal_closed">{eventName('hand.terminal_closed')}</span>. What was done there is not in the log; a
              checkpoint at the close holds the files.
            </span>
          </li>
          <li className="timeline-legend-item">
            <span className="timeline-legend-swatch timeline-legend-verdicts" aria-hidden="true" />
            <span className="timeline-legend-label">Verdicts</span>
            <span className="timeline-legend-examples">
              An outcome check is drawn in its verdict&apos;s colour: green done, amber needs revision, red failed.
            </span>
          </li>
        </ul>
      </div>
    </details>
  );
}
